/*
 * projection-log.c: the log cursor.  projection_update() brings the
 * projection up to date with the log files, reading only what each
 * gained since last time: a file that only grew is read from where we
 * stopped (checked by its last bytes), a rewritten one from the start,
 * already-known lines recognised by hash; what a merge wrote, from the
 * spans it reports.  The lines this clone appended and a-sync does not
 * hold yet are kept as they are (see projection_recover()).
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "event.h"
#include "merge.h"
#include "store.h"
#include "strbuf.h"
#include "strvec.h"
#include "blob-cache.h"
#include "parse-ahead.h"
#include "usage.h"
#include "wrapper.h"

#define TAIL_BYTES 32

struct file_state {
	int known;
	int64_t size;
	unsigned char tail[TAIL_BYTES];
	int tail_len;
	int have_stat;		/* ino and mtime describe those size bytes */
	int64_t ino, mtime;
};

static const char file_get_sql[] =
	"SELECT size, tail, ino, mtime FROM log_files WHERE path = :path";

static int get_file_state(struct projection *p, const char *rel,
			  struct file_state *fs)
{
	sqlite3_stmt *s = proj_stmt(p, ST_FILE_GET, file_get_sql);
	int rc;

	memset(fs, 0, sizeof(*fs));
	proj_bind_text(s, ":path", rel);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(s, 1);
		int n = sqlite3_column_bytes(s, 1);

		fs->known = 1;
		fs->size = sqlite3_column_int64(s, 0);
		fs->have_stat = sqlite3_column_type(s, 2) != SQLITE_NULL &&
				sqlite3_column_type(s, 3) != SQLITE_NULL;
		fs->ino = sqlite3_column_int64(s, 2);
		fs->mtime = sqlite3_column_int64(s, 3);
		if (blob && n > 0 && n <= TAIL_BYTES) {
			memcpy(fs->tail, blob, n);
			fs->tail_len = n;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot read file state");
	return 0;
}

/* the last bytes before end, as a fingerprint of what was consumed */
static int read_tail(int fd, int64_t end, unsigned char *buf, int *len)
{
	int64_t start = end > TAIL_BYTES ? end - TAIL_BYTES : 0;
	ssize_t n = pread(fd, buf, end - start, start);

	if (n != end - start)
		return -1;
	*len = (int)n;
	return 0;
}

/*
 * Where to resume reading fd: the recorded size when the file only grew
 * since (same bytes before it), 0 when it was rewritten; -1 when there is
 * nothing new.
 */
static int64_t resume_offset(int fd, int64_t size, const struct file_state *fs)
{
	unsigned char tail[TAIL_BYTES];
	int len;

	if (!fs->known || size < fs->size)
		return 0;
	if (read_tail(fd, fs->size, tail, &len) < 0 || len != fs->tail_len ||
	    memcmp(tail, fs->tail, len))
		return 0;
	return size == fs->size ? -1 : fs->size;
}

static const char *find_event_id(const char *line, size_t len, size_t *idlen)
{
	static const char key[] = "\"event_id\":\"";
	const char *p = memmem(line, len, key, sizeof(key) - 1), *end;

	if (!p)
		return NULL;
	p += sizeof(key) - 1;
	end = memchr(p, '"', line + len - p);
	/* an id of EVENT_MAX_ID bytes, each written as \uXXXX at worst */
	if (!end || end - p > EVENT_MAX_ID * 6)
		return NULL;
	*idlen = end - p;
	return p;
}

/* is this exact line already projected?  (a hint, checked by hash) */
static int already_seen(struct projection *p, const char *line, size_t len,
			uint64_t hash)
{
	const char *id;
	size_t idlen;
	int64_t known = 0;

	id = find_event_id(line, len, &idlen);
	if (!id)
		return 0;
	return proj_seen_hash(p, id, idlen, &known) > 0 &&
	       known == (int64_t)hash;
}

static const char skipped_add_sql[] =
	"INSERT OR IGNORE INTO skipped_lines(path, hash, reason)"
	" VALUES(:path, :hash, :reason)";

static int skip_line(struct projection *p, const char *rel, uint64_t hash,
		     const char *why, struct catch_up_stats *stats)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SKIPPED_ADD, skipped_add_sql);

	proj_bind_text(s, ":path", rel);
	proj_bind_int(s, ":hash", (int64_t)hash);
	proj_bind_text(s, ":reason", why);
	if (proj_run(p, s, "cannot record skipped line") < 0)
		return -1;
	if (sqlite3_changes(p->db))
		stats->skipped++;
	return 0;
}

static const char pending_add_sql[] =
	"INSERT OR REPLACE INTO pending(path, offset, line)"
	" VALUES(:path, :offset, :line)";

/* keep the exact bytes of a line that a-sync does not hold yet */
int proj_keep_pending(struct projection *p, const char *rel, int64_t off,
		      const char *line, size_t n)
{
	sqlite3_stmt *s = proj_stmt(p, ST_PENDING_ADD, pending_add_sql);

	proj_bind_text(s, ":path", rel);
	proj_bind_int(s, ":offset", off);
	proj_bind_blob(s, ":line", line, n);
	return proj_run(p, s, "cannot keep an uncommitted line");
}

/*
 * One line of rel at offset at, parsed into ev (NULL when it is not an
 * event: why says what is wrong), projected; newly projected at or after
 * committed (-1: none), it is kept as pending.
 */
static int project_line(struct projection *p, const char *rel,
			const char *shard, const char *line, size_t n,
			int64_t at, int64_t committed, uint64_t hash,
			const struct event *ev, const char *why,
			struct catch_up_stats *stats)
{
	int ret;

	if (!ev) {
		stats->unparseable++;
		return skip_line(p, rel, hash, why, stats);
	}
	ret = projection_apply(p, ev, shard, hash);
	/* written here, after the last commit: not in a-sync yet */
	if (ret > 0 && committed >= 0 && at >= committed && p->origin &&
	    ev->origin_daemon && !strcmp(ev->origin_daemon, p->origin) &&
	    proj_keep_pending(p, rel, at, line, n) < 0)
		ret = -1;
	if (ret < 0 && ret != THRUM_ECONFLICT)
		return -1;
	if (ret == THRUM_ECONFLICT)
		stats->conflicts++;
	else if (ret > 0)
		stats->applied++;
	return 0;
}

/*
 * Lines parsed (and verified) on other threads while this one applies
 * them, in order: pa's, from buf, which starts at offset off of rel.
 */
static int project_lines_ahead(struct projection *p, const char *rel,
			       const char *shard, struct parse_ahead *pa,
			       const char *buf, int64_t off, int64_t committed,
			       struct catch_up_stats *stats)
{
	struct parsed_line *pl;
	int ret = 0;

	while (!ret && (pl = parse_ahead_next(pa)))
		ret = project_line(p, rel, shard, pl->line, pl->len,
				   off + (pl->line - buf), committed, pl->hash,
				   pl->rc ? NULL : &pl->ev, pl->why, stats);
	parse_ahead_finish(pa);
	return ret;
}

/* below this many bytes a second thread costs more than it saves */
#define PARSE_AHEAD_MIN (16 * 1024)
/*
 * the same for a catch-up's new lines, where the lines of a batch from
 * another clone are spread over the files of its agents, a few KiB
 * each, and a signature costs as much to verify as 100 bytes of JSON
 * to parse
 */
#define CATCH_UP_AHEAD_MIN (4 * 1024)

/*
 * Many new lines into a projection that holds others (a merge, or 1 000
 * lines another clone wrote): the ones it holds already are left out
 * first, then the others are parsed and verified ahead, in place.  Left
 * out before rather than between lines, a line twice among the new ones
 * is given to projection_apply() twice, which knows the second as a
 * repeat.
 */
static int project_new_lines_ahead(struct projection *p, const char *rel,
				   const char *shard, const char *buf,
				   size_t len, int64_t off, int64_t committed,
				   struct catch_up_stats *stats)
{
	const char *line = buf, *end = buf + len;
	struct line_span *v = NULL;
	size_t nr = 0, alloc = 0, bytes = 0;
	int ret;

	while (line < end) {
		const char *nl = memchr(line, '\n', end - line);
		size_t n = (nl ? nl : end) - line;

		if (n && !(n == 1 && line[0] == '\r') &&
		    !already_seen(p, line, n, event_line_hash(line, n))) {
			ALLOC_GROW(v, nr + 1, alloc);
			v[nr].line = line;
			v[nr++].len = n;
			bytes += n + 1;
		}
		line = nl ? nl + 1 : end;
	}
	ret = project_lines_ahead(p, rel, shard,
				  parse_ahead_start_lines(v, nr, bytes), buf,
				  off, committed, stats);
	free(v);
	return ret;
}

/*
 * Project the lines of buf, which starts at offset off of rel; those
 * newly projected at or after committed (-1: none) are kept as pending.
 */
static int project_lines(struct projection *p, const char *rel,
			 const char *shard, const char *buf, size_t len,
			 int64_t off, int64_t committed,
			 struct catch_up_stats *stats)
{
	const char *line = buf, *end = buf + len;

	/* (a rebuild starts empty and keeps nothing pending) */
	if (p->bulk && committed < 0 && len >= PARSE_AHEAD_MIN)
		return project_lines_ahead(p, rel, shard,
					   parse_ahead_start(buf, len), buf,
					   off, -1, stats);
	if (!p->bulk && len >= CATCH_UP_AHEAD_MIN)
		return project_new_lines_ahead(p, rel, shard, buf, len, off,
					       committed, stats);
	while (line < end) {
		const char *nl = memchr(line, '\n', end - line);
		size_t n = nl - line;
		struct event ev = EVENT_INIT;
		const char *why = NULL;
		uint64_t hash;
		int ret;

		if (!n || (n == 1 && line[0] == '\r')) {
			line = nl + 1;
			continue;
		}
		hash = event_line_hash(line, n);
		/* (a rebuild starts empty: projection_apply() sees repeats) */
		if (!p->bulk && already_seen(p, line, n, hash)) {
			line = nl + 1;
			continue;
		}
		ret = event_parse(&ev, line, n, EVENT_PARSE_VERIFY, &why);
		ret = project_line(p, rel, shard, line, n, off + (line - buf),
				   committed, hash, ret < 0 ? NULL : &ev, why,
				   stats);
		event_release(&ev);
		if (ret < 0)
			return -1;
		line = nl + 1;
	}
	return 0;
}

/* remember that rel has been consumed up to used bytes */
static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static const char file_put_sql[] =
	"INSERT INTO log_files(path, size, tail, ino, mtime)"
	" VALUES(:path, :size, :tail, :ino, :mtime)"
	" ON CONFLICT(path) DO UPDATE SET size = excluded.size,"
	" tail = excluded.tail, ino = excluded.ino,"
	" mtime = excluded.mtime";

static int record_file_state(struct projection *p, const char *rel, int fd,
			     int64_t used, const char *path)
{
	unsigned char tail[TAIL_BYTES];
	struct stat st;
	sqlite3_stmt *q;
	int tail_len;

	if (read_tail(fd, used, tail, &tail_len) < 0)
		return error_errno("cannot read '%s'", path);
	q = proj_stmt(p, ST_FILE_PUT, file_put_sql);
	proj_bind_text(q, ":path", rel);
	proj_bind_int(q, ":size", used);
	proj_bind_blob(q, ":tail", tail, tail_len);
	/* the stat identity only when it describes exactly what was read */
	if (!fstat(fd, &st) && st.st_size == used) {
		proj_bind_int(q, ":ino", (int64_t)st.st_ino);
		proj_bind_int(q, ":mtime", mtime_ns(&st));
	}
	return proj_run(p, q, "cannot record file state");
}

static const char pending_prune_sql[] =
	"DELETE FROM pending WHERE path = :path AND offset < :committed";

/*
 * Forget the pending lines of rel that a-sync now holds (the commit of a
 * sync cycle took the file up to *committed bytes).
 */
static int prune_pending(struct projection *p, struct store *s,
			 const char *rel, int64_t *committed)
{
	sqlite3_stmt *q;

	if (!p->origin)
		p->origin = store_origin_id(s);
	*committed = (int64_t)sync_committed_size(s->var_dir, rel);
	if (!*committed)
		return 0;
	q = proj_stmt(p, ST_PENDING_PRUNE, pending_prune_sql);
	proj_bind_text(q, ":path", rel);
	proj_bind_int(q, ":committed", *committed);
	return proj_run(p, q, "cannot forget committed lines");
}

/*
 * Did the projection consume exactly the file a merge read (its stat
 * identity recorded with all its bytes), or know nothing of a file that
 * was not there?  Then the merge's new lines are all it lacks.
 */
static int consumed_before(const struct file_state *fs,
			   const struct log_change *c)
{
	if (!c->before.ino)
		return !fs->known;
	return fs->known && fs->have_stat && (uint64_t)fs->size ==
	       c->before.size && (uint64_t)fs->ino == c->before.ino &&
	       fs->mtime == c->before.mtime_ns;
}

/*
 * Project the lines a merge brought into rel (open as fd), one span at a
 * time, and record the file as consumed up to what the merge wrote.
 */
static int project_spans(struct projection *p, const char *rel,
			 const char *shard, int fd, const char *path,
			 const struct log_change *c,
			 struct catch_up_stats *stats)
{
	struct strbuf buf = STRBUF_INIT;
	size_t i;
	int ret = -1;

	for (i = 0; i < c->nr; i++) {
		const struct log_span *sp = &c->spans[i];
		ssize_t n;

		strbuf_reset(&buf);
		if (strbuf_grow(&buf, sp->len) < 0)
			goto out;
		n = pread(fd, buf.buf, sp->len, sp->off);
		if (n != (ssize_t)sp->len) {
			error_errno("cannot read '%s'", path);
			goto out;
		}
		strbuf_setlen(&buf, n);
		/* merged in from the remote: the cycle commits them at once */
		if (project_lines(p, rel, shard, buf.buf, buf.len,
				  (int64_t)sp->off, -1, stats) < 0)
			goto out;
		/* one span's bytes at a time */
		strbuf_release(&buf);
	}
	ret = record_file_state(p, rel, fd, (int64_t)c->after.size, path);
out:
	strbuf_release(&buf);
	return ret;
}

/*
 * Read rel on from where the projection left it.  merged (may be NULL)
 * is what a merge reported of it: when the file in place is the one the
 * merge wrote and the projection held the one it read, the merge's new
 * lines are projected from its spans, and the file read on after them.
 */
static int catch_up_file(struct projection *p, struct store *s,
			 const char *rel, const struct log_change *merged,
			 struct catch_up_stats *stats)
{
	char *path = store_abs_path(s, rel);
	char *shard = store_shard_of(rel);
	struct strbuf buf = STRBUF_INIT;
	struct file_state fs;
	struct stat st;
	int64_t from, used, committed = 0;
	int fd = -1, ret = -1;
	ssize_t n;

	fd = xopen(path, O_RDONLY | O_NOFOLLOW, 0);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = 0;	/* vanished or not ours: nothing to read */
		goto out;
	}
	if (get_file_state(p, rel, &fs) < 0)
		goto out;
	if (merged && (uint64_t)st.st_ino == merged->after.ino &&
	    (uint64_t)st.st_size >= merged->after.size &&
	    consumed_before(&fs, merged) &&
	    (project_spans(p, rel, shard, fd, path, merged, stats) < 0 ||
	     get_file_state(p, rel, &fs) < 0))
		goto out;
	from = resume_offset(fd, st.st_size, &fs);
	if (from < 0) {
		ret = 0;
		goto out;
	}
	if (!from)
		stats->files_rescanned++;
	if (strbuf_grow(&buf, st.st_size - from) < 0)
		goto out;
	n = pread(fd, buf.buf, st.st_size - from, from);
	if (n < 0) {
		error_errno("cannot read '%s'", path);
		goto out;
	}
	strbuf_setlen(&buf, n);
	/* only whole lines: a line still being written is read next time */
	while (buf.len && buf.buf[buf.len - 1] != '\n')
		buf.len--;
	buf.buf[buf.len] = '\0';
	if (!p->bulk && prune_pending(p, s, rel, &committed) < 0)
		goto out;
	if (project_lines(p, rel, shard, buf.buf, buf.len, from,
			  p->bulk ? -1 : committed, stats) < 0)
		goto out;
	used = from + buf.len;
	ret = record_file_state(p, rel, fd, used, path);
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&buf);
	free(shard);
	free(path);
	return ret;
}

/* what log_files says of one file */
struct known_file {
	char *path;
	int64_t size, ino, mtime;
	int have_stat;
};

static int cmp_known(const void *a, const void *b)
{
	return strcmp(((const struct known_file *)a)->path,
		      ((const struct known_file *)b)->path);
}

static const char file_all_sql[] =
	"SELECT path, size, ino, mtime FROM log_files";

/*
 * Cheap look: which files differ from what was consumed?  One query and
 * one lstat() per file: a file whose inode, size and mtime are those
 * recorded when it was read is unchanged (log files only grow, and are
 * only replaced by rename); any other is checked by its tail.  The files
 * to read again go to *changed; returns 1 when there is anything to do
 * (a file to read, or one gone from the log), 0, or -1.
 */
static int needs_catch_up(struct projection *p, struct store *s,
			  const struct strvec *files, struct strvec *changed)
{
	struct known_file *known = NULL;
	size_t nr = 0, alloc = 0, i, matched = 0;
	sqlite3_stmt *q = proj_stmt(p, ST_FILE_ALL, file_all_sql);
	int ret = 0;

	while (sqlite3_step(q) == SQLITE_ROW) {
		struct known_file *k;

		ALLOC_GROW(known, nr + 1, alloc);
		k = &known[nr++];
		k->path = proj_col_text(q, 0);
		k->size = sqlite3_column_int64(q, 1);
		k->have_stat = sqlite3_column_type(q, 2) != SQLITE_NULL &&
			       sqlite3_column_type(q, 3) != SQLITE_NULL;
		k->ino = sqlite3_column_int64(q, 2);
		k->mtime = sqlite3_column_int64(q, 3);
	}
	sqlite3_reset(q);
	if (nr)
		qsort(known, nr, sizeof(*known), cmp_known);

	for (i = 0; i < files->nr; i++) {
		char *path = store_abs_path(s, files->v[i]);
		struct known_file key, *k;
		struct stat st;
		int differs;

		key.path = (char *)files->v[i];
		k = nr ? bsearch(&key, known, nr, sizeof(*known), cmp_known)
		       : NULL;
		matched += !!k;
		if (!k || lstat(path, &st) < 0 || st.st_size != k->size) {
			differs = 1;
		} else if (!k->have_stat || (int64_t)st.st_ino != k->ino ||
			   mtime_ns(&st) != k->mtime) {
			struct file_state fs;
			int fd;

			if (get_file_state(p, files->v[i], &fs) < 0) {
				free(path);
				ret = -1;
				break;
			}
			fd = xopen(path, O_RDONLY | O_NOFOLLOW, 0);
			differs = fd < 0 || resume_offset(fd, st.st_size,
							  &fs) >= 0;
			if (fd >= 0)
				close(fd);
		} else {
			differs = 0;
		}
		free(path);
		if (differs)
			strvec_push(changed, files->v[i]);
	}
	if (!ret)
		ret = changed->nr || matched != nr;
	for (i = 0; i < nr; i++)
		free(known[i].path);
	free(known);
	return ret;
}

static const char file_del_sql[] =
	"DELETE FROM log_files WHERE path = :path";

static int forget_missing_files(struct projection *p,
				const struct strvec *files)
{
	struct strvec gone = STRVEC_INIT;
	sqlite3_stmt *q = proj_stmt(p, ST_FILE_ALL, file_all_sql);
	size_t i;
	int ret = 0;

	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(q, 0);
		int present = 0;

		for (i = 0; i < files->nr && !present; i++)
			present = !strcmp(files->v[i], path);
		if (!present)
			strvec_push(&gone, path);
	}
	sqlite3_reset(q);
	for (i = 0; i < gone.nr && !ret; i++) {
		q = proj_stmt(p, ST_FILE_DEL, file_del_sql);
		proj_bind_text(q, ":path", gone.v[i]);
		ret = proj_run(p, q, "cannot forget file");
	}
	strvec_clear(&gone);
	return ret;
}

/* what a merge reported of rel, or NULL */
static const struct log_change *merge_of(const struct log_changes *changes,
					 const char *rel)
{
	size_t i;

	for (i = 0; changes && i < changes->nr; i++)
		if (changes->v[i].merged && !strcmp(changes->v[i].path, rel))
			return &changes->v[i];
	return NULL;
}

int projection_update(struct projection *p, struct store *s,
		      const struct log_changes *changes,
		      struct catch_up_stats *stats)
{
	struct catch_up_stats local = { 0 };
	struct strvec files = STRVEC_INIT, changed = STRVEC_INIT;
	size_t i;
	int ret = -1;

	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if (store_lock(s, LOCK_SH) < 0)
		return -1;
	if (!changes)
		store_list_projected(s, &files);
	for (i = 0; changes && i < changes->nr; i++)
		strvec_push(&files, changes->v[i].path);
	ret = needs_catch_up(p, s, &files, &changed);
	/* only the files named: what else is gone is not their question */
	if (changes && ret >= 0)
		ret = changed.nr > 0;
	if (ret <= 0)
		goto out;
	ret = -1;
	if (projection_begin(p) < 0)
		goto out;
	/* only what changed is read; catch_up_file() resumes each */
	for (i = 0; i < changed.nr; i++)
		if (catch_up_file(p, s, changed.v[i],
				  merge_of(changes, changed.v[i]), stats) < 0)
			goto fail;
	if ((!changes && forget_missing_files(p, &files) < 0) ||
	    projection_commit(p) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	projection_rollback(p);
out:
	store_unlock(s);
	strvec_clear(&files);
	strvec_clear(&changed);
	return ret;
}

/*
 * projection-log.c: the log cursor.  projection_update() brings the
 * projection up to date with the log files, reading only what each
 * gained since last time: a file that only grew is read from where we
 * stopped (checked by its last bytes), a rewritten one from the start,
 * already-known lines recognised by hash; what a merge wrote, from the
 * spans it reports.  The files after the one being applied are read
 * ahead and their lines queued (parsed and verified on the other cores
 * meanwhile: projection-lines.c, parse-ahead.c), so that no core waits
 * at the end of a file.  The lines this clone appended and a-sync does
 * not hold yet are kept as they are (see projection_recover()).
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
static int project_spans(struct projection *p, struct parse_ahead *pa,
			 const char *rel, const char *shard, int fd,
			 const char *path, const struct log_change *c,
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
		if (proj_project_lines(p, pa, rel, shard, buf.buf, buf.len,
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
 * One changed file of an update, from the moment it is read until its
 * lines are applied: the files after it can be read and their lines
 * parsed while its own are applied.
 */
struct file_job {
	const char *rel;
	char *path, *shard;
	int fd;
	struct strbuf buf;	/* its whole new lines, from offset from */
	int64_t from, committed;
	struct line_span *v;	/* in a catch-up, the lines queued */
	int read;		/* there is something to apply */
};

static void file_job_release(struct file_job *job)
{
	if (job->fd >= 0)
		close(job->fd);
	strbuf_release(&job->buf);
	free(job->v);
	free(job->shard);
	free(job->path);
}

/*
 * Read rel on from where the projection left it, into job, and queue
 * its lines in pa (may be NULL: they are parsed when applied).  merged
 * (may be NULL) is what a merge reported of it: when the file in place
 * is the one the merge wrote and the projection held the one it read,
 * the merge's new lines are projected from its spans first (pa has
 * nothing queued then), and the file read on after them.
 */
static int catch_up_read(struct projection *p, struct store *s,
			 struct parse_ahead *pa, const char *rel,
			 const struct log_change *merged,
			 struct catch_up_stats *stats, struct file_job *job)
{
	struct file_state fs;
	struct stat st;
	int64_t committed = 0;
	ssize_t n;

	memset(job, 0, sizeof(*job));
	strbuf_init(&job->buf, 0);
	job->rel = rel;
	job->path = store_abs_path(s, rel);
	job->shard = store_shard_of(rel);
	job->fd = xopen(job->path, O_RDONLY | O_NOFOLLOW, 0);
	if (job->fd < 0 || fstat(job->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;	/* vanished or not ours: nothing to read */
	if (get_file_state(p, rel, &fs) < 0)
		return -1;
	if (merged && (uint64_t)st.st_ino == merged->after.ino &&
	    (uint64_t)st.st_size >= merged->after.size &&
	    consumed_before(&fs, merged) &&
	    (project_spans(p, pa, rel, job->shard, job->fd, job->path,
			   merged, stats) < 0 ||
	     get_file_state(p, rel, &fs) < 0))
		return -1;
	job->from = resume_offset(job->fd, st.st_size, &fs);
	if (job->from < 0)
		return 0;
	if (!job->from)
		stats->files_rescanned++;
	if (strbuf_grow(&job->buf, st.st_size - job->from) < 0)
		return -1;
	n = pread(job->fd, job->buf.buf, st.st_size - job->from, job->from);
	if (n < 0)
		return error_errno("cannot read '%s'", job->path);
	strbuf_setlen(&job->buf, n);
	/* only whole lines: a line still being written is read next time */
	while (job->buf.len && job->buf.buf[job->buf.len - 1] != '\n')
		job->buf.len--;
	job->buf.buf[job->buf.len] = '\0';
	if (!p->bulk && prune_pending(p, s, rel, &committed) < 0)
		return -1;
	job->committed = p->bulk ? -1 : committed;
	job->read = 1;
	if (pa)
		proj_queue_lines(p, pa, job->buf.buf, job->buf.len, &job->v);
	return 0;
}

/* apply what catch_up_read() read, and record how far rel is consumed */
static int catch_up_apply(struct projection *p, struct parse_ahead *pa,
			  struct file_job *job, struct catch_up_stats *stats)
{
	int ret;

	if (!job->read)
		return 0;
	if (pa)
		ret = proj_apply_queued(p, pa, job->rel, job->shard,
					job->buf.buf, job->from, job->committed,
					stats);
	else
		ret = proj_project_lines(p, NULL, job->rel, job->shard,
					 job->buf.buf, job->buf.len, job->from,
					 job->committed, stats);
	if (ret < 0)
		return -1;
	return record_file_state(p, job->rel, job->fd,
				 job->from + job->buf.len, job->path);
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
 * to read again go to *changed, and about how many bytes they gained to
 * *gained (all of a file not known or smaller); returns 1 when there is
 * anything to do (a file to read, or one gone from the log), 0, or -1.
 */
static int needs_catch_up(struct projection *p, struct store *s,
			  const struct strvec *files, struct strvec *changed,
			  int64_t *gained)
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
		int differs, have_st;

		key.path = (char *)files->v[i];
		k = nr ? bsearch(&key, known, nr, sizeof(*known), cmp_known)
		       : NULL;
		matched += !!k;
		have_st = !lstat(path, &st);
		if (!k || !have_st || st.st_size != k->size) {
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
		if (differs && have_st)
			*gained += st.st_size - (k && st.st_size >= k->size ?
						 k->size : 0);
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
	for (i = 0; i < gone.nr && !ret; i++)
		ret = proj_run_text(p, ST_FILE_DEL, file_del_sql, ":path",
				    gone.v[i], "cannot forget file");
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

/*
 * Below this many new bytes in all, threads to parse them cost more
 * than they save: in a rebuild, and in a catch-up, where a signature
 * costs as much to verify as 100 bytes of JSON to parse
 */
#define PARSE_AHEAD_MIN (16 * 1024)
#define CATCH_UP_AHEAD_MIN (4 * 1024)
/*
 * How far past the file being applied the next ones are read and
 * queued (their lines parsed and verified meanwhile), so that no core
 * waits at the end of a file: a few log segments, a few open files
 */
#define AHEAD_BYTES (1024 * 1024)
#define AHEAD_FILES 16

/*
 * May changed->v[i] be read while those from k on are not applied?  Not
 * when a merge reported it (its spans are applied as it is read), nor
 * when it is one of them again (it is read on from where they leave it).
 */
static int may_read_ahead(const struct strvec *changed, size_t k, size_t i,
			  const struct log_changes *changes)
{
	size_t j;

	if (merge_of(changes, changed->v[i]))
		return 0;
	for (j = k; j < i; j++)
		if (!strcmp(changed->v[j], changed->v[i]))
			return 0;
	return 1;
}

int projection_update(struct projection *p, struct store *s,
		      const struct log_changes *changes,
		      struct catch_up_stats *stats)
{
	struct catch_up_stats local = { 0 };
	struct strvec files = STRVEC_INIT, changed = STRVEC_INIT;
	struct parse_ahead *pa = NULL;
	struct file_job *jobs = NULL;
	int64_t gained = 0;
	size_t i = 0, k = 0, queued = 0;
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
	ret = needs_catch_up(p, s, &files, &changed, &gained);
	/* only the files named: what else is gone is not their question */
	if (changes && ret >= 0)
		ret = changed.nr > 0;
	if (ret <= 0)
		goto out;
	ret = -1;
	if (projection_begin(p) < 0)
		goto out;
	if (gained >= (p->bulk ? PARSE_AHEAD_MIN : CATCH_UP_AHEAD_MIN))
		pa = parse_ahead_open();
	jobs = xcalloc(changed.nr, sizeof(*jobs));
	/*
	 * Only what changed is read; catch_up_read() resumes each.  The
	 * files after the one being applied are read and queued already
	 * (when may_read_ahead()).
	 */
	for (i = 0, k = 0; k < changed.nr; k++) {
		while (i < changed.nr &&
		       (i == k || (pa && i - k <= AHEAD_FILES &&
				   queued - jobs[k].buf.len < AHEAD_BYTES &&
				   may_read_ahead(&changed, k, i, changes)))) {
			if (catch_up_read(p, s, pa, changed.v[i],
					  merge_of(changes, changed.v[i]),
					  stats, &jobs[i]) < 0) {
				i++;
				goto fail;
			}
			queued += jobs[i++].buf.len;
		}
		if (catch_up_apply(p, pa, &jobs[k], stats) < 0)
			goto fail;
		queued -= jobs[k].buf.len;
		file_job_release(&jobs[k]);
	}
	if ((!changes && forget_missing_files(p, &files) < 0) ||
	    projection_commit(p) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	projection_rollback(p);
out:
	/* the threads stop before the buffers they read go */
	parse_ahead_finish(pa);
	for (; jobs && k < i; k++)
		file_job_release(&jobs[k]);
	free(jobs);
	store_unlock(s);
	strvec_clear(&files);
	strvec_clear(&changed);
	return ret;
}

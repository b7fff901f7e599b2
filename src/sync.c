/*
 * sync.c: exchanging a-sync with the remote.
 *
 * Invariants:
 *  - one cycle at a time per repository: flock(var/sync.lock), and a held
 *    lock means "busy", never an error;
 *  - the network goes through the git command (the user's credentials,
 *    ssh configuration and helpers apply); objects and refs through
 *    libgit2; a-sync only ever moves by compare-and-swap;
 *  - merging holds the log lock, so no append can be lost between reading
 *    a file and replacing it; files are replaced by rename, never edited
 *    in place, and nothing from the remote is followed or trusted:
 *    entries are filtered by is_log_path(), lines by merge_file();
 *  - the merge holds one file at a time, however many the remote names;
 *  - an idle cycle makes no commit; an active one makes at most one per
 *    attempt, whose parent is the remote tip (linear history).
 */
#include "thrum.h"
#include <ini.h>
#include "sync.h"
#include "clock.h"
#include "config.h"
#include "date.h"
#include "event.h"
#include "gitx.h"
#include "lockfile.h"
#include "merge.h"
#include "projection.h"
#include "repo.h"
#include "run-command.h"
#include "store.h"
#include "strbuf.h"
#include "strvec.h"
#include "sync-net.h"
#include "synctree.h"
#include "usage.h"
#include "wrapper.h"

#define PUSH_ATTEMPTS 3
/* the pause before a push is tried again: attempt * this, plus jitter */
#define PUSH_BACKOFF_MS 100
#define PUSH_JITTER_MS 150
/* how long a git lock file may stand before it counts as stale */
#define STALE_LOCK_WAIT_MS 2000
#define STALE_LOCK_STEP_MS 10

static const char *const state_names[SYNC_STATE_MAX] = {
	"never", "synced", "local-only", "offline", "busy", "error",
	"refused", "auth", "timeout", "rejected",
};

const char *sync_state_name(enum sync_state state)
{
	return state < SYNC_STATE_MAX ? state_names[state] : "error";
}

int sync_state_network_failed(enum sync_state state)
{
	return state == SYNC_OFFLINE || state == SYNC_REFUSED ||
	       state == SYNC_AUTH || state == SYNC_TIMEOUT ||
	       state == SYNC_REJECTED;
}

const char *sync_spec_state(const struct sync_status *st)
{
	if (st->running)
		return "syncing";
	switch (st->state) {
	case SYNC_NEVER:
		return st->daemon_pid ? "idle" : "stopped";
	case SYNC_SYNCED:
	case SYNC_LOCAL_ONLY:
	case SYNC_BUSY:
		return sync_state_name(st->state);
	default:
		return "error";
	}
}

void sync_status_release(struct sync_status *st)
{
	free(st->last_sync_at);
	free(st->last_error);
	free(st->remote);
	free(st->remote_tip);
	free(st->retry_at);
	memset(st, 0, sizeof(*st));
}

/* --- the recorded status --- */

static char *status_path(const struct repo *r)
{
	return path_join(r->var_dir, "sync-status");
}

static int status_handler(void *payload, const char *section,
			  const char *name, const char *value)
{
	struct sync_status *st = payload;
	long n = 0;
	int i;

	if (strcmp(section, "sync"))
		return 1;
	if (!strcmp(name, "state")) {
		for (i = 0; i < SYNC_STATE_MAX; i++)
			if (!strcmp(value, state_names[i]))
				st->state = i;
	} else if (!strcmp(name, "last_sync_at")) {
		free(st->last_sync_at);
		st->last_sync_at = xstrdup(value);
	} else if (!strcmp(name, "remote")) {
		free(st->remote);
		st->remote = *value ? xstrdup(value) : NULL;
	} else if (!strcmp(name, "remote_tip")) {
		free(st->remote_tip);
		st->remote_tip = *value ? xstrdup(value) : NULL;
	} else if (!strcmp(name, "last_error")) {
		free(st->last_error);
		st->last_error = *value ? xstrdup(value) : NULL;
	} else if (!strcmp(name, "retry_at")) {
		free(st->retry_at);
		st->retry_at = *value ? xstrdup(value) : NULL;
	} else if (!thrum_parse_long(value, 0, LONG_MAX, &n)) {
		if (!strcmp(name, "new"))
			st->new_events = n;
		else if (!strcmp(name, "skipped"))
			st->skipped = n;
		else if (!strcmp(name, "skipped_entries"))
			st->skipped_entries = n;
		else if (!strcmp(name, "conflicts"))
			st->conflicts = n;
		else if (!strcmp(name, "ahead"))
			st->ahead = n;
		else if (!strcmp(name, "behind"))
			st->behind = n;
		else if (!strcmp(name, "committed"))
			st->committed = !!n;
		else if (!strcmp(name, "pushed"))
			st->pushed = !!n;
		else if (!strcmp(name, "duration_us"))
			st->duration_us = n;
		else if (!strcmp(name, "auth_failures"))
			st->auth_failures = n;
	}
	return 1;
}

int sync_status_read(const struct repo *r, struct sync_status *out)
{
	char *path = status_path(r);
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!access(path, F_OK) && ini_parse(path, status_handler, out))
		ret = error("cannot read '%s'", path);
	free(path);
	return ret;
}

/*
 * The longest line inih reads back (its INI_MAX_LINE, newline and NUL
 * included): a longer one would make the whole file unreadable.
 */
#define STATUS_MAX_LINE 200

/*
 * one line of the status file; a value never holds a line break, and
 * one too long is cut (at a character boundary) and ends in "..."
 */
static void add_value(struct strbuf *sb, const char *key, const char *v)
{
	size_t start = sb->len, room;

	strbuf_addf(sb, "%s = ", key);
	room = STATUS_MAX_LINE - 2 - (sb->len - start);
	if (v && strlen(v) > room) {
		size_t cut = room - 3;

		while (cut && ((unsigned char)v[cut] & 0xc0) == 0x80)
			cut--;
		for (; cut--; v++)
			strbuf_addch(sb, *v == '\n' || *v == '\r' ? ' ' : *v);
		strbuf_addstr(sb, "...");
		v = NULL;
	}
	for (; v && *v; v++)
		strbuf_addch(sb, *v == '\n' || *v == '\r' ? ' ' : *v);
	strbuf_addch(sb, '\n');
}

int sync_status_write(const struct repo *r, const struct sync_status *st)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = status_path(r);
	int ret;

	strbuf_addstr(&sb, "# written by git-thrum after each sync cycle\n"
		      "[sync]\n");
	add_value(&sb, "state", sync_state_name(st->state));
	add_value(&sb, "last_sync_at", st->last_sync_at);
	add_value(&sb, "last_error", st->last_error);
	add_value(&sb, "remote", st->remote);
	add_value(&sb, "remote_tip", st->remote_tip);
	if (st->retry_at)
		add_value(&sb, "retry_at", st->retry_at);
	if (st->auth_failures)
		strbuf_addf(&sb, "auth_failures = %ld\n", st->auth_failures);
	strbuf_addf(&sb, "new = %ld\nskipped = %ld\nskipped_entries = %ld\n"
		    "conflicts = %ld\n"
		    "ahead = %ld\nbehind = %ld\ncommitted = %d\npushed = %d\n"
		    "duration_us = %ld\n",
		    st->new_events, st->skipped, st->skipped_entries,
		    st->conflicts, st->ahead,
		    st->behind, st->committed, st->pushed, st->duration_us);
	ret = write_file_derived(path, sb.buf, sb.len, 0644);
	strbuf_release(&sb);
	free(path);
	return ret;
}

/* --- the blob cache --- */

/*
 * var/sync-cache remembers, for every work tree file, the blob it was
 * when last committed, keyed by what stat() says (inode, size, mtime).
 * Log files only grow by appends and are only replaced by rename, so a
 * file whose key is unchanged holds the same bytes: it is neither read
 * nor hashed again.  The cache also names the a-sync commit it was
 * written for; when a-sync and the remote branch are both still there
 * and no file changed, a cycle has nothing to do (idle_cycle()).  The
 * file is derived data: a damaged one is ignored and rewritten.
 *
 *   a-sync <hex>
 *   <blob hex> <inode> <size> <mtime ns> <path>
 */
struct blob_stat {
	char *path;
	struct gitx_oid blob;
	uint64_t ino, size;
	int64_t mtime_ns;
};

struct blob_cache {
	char tip[GITX_OID_HEXSZ + 1];	/* "" when unknown */
	struct blob_stat *v;
	size_t nr, alloc;
};
#define BLOB_CACHE_INIT { "", NULL, 0, 0 }

static int cmp_blob_stat(const void *a, const void *b)
{
	return strcmp(((const struct blob_stat *)a)->path,
		      ((const struct blob_stat *)b)->path);
}

static void blob_cache_release(struct blob_cache *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		free(c->v[i].path);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static int stat_key(const char *path, struct blob_stat *out)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	out->ino = (uint64_t)st.st_ino;
	out->size = (uint64_t)st.st_size;
	out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
			st.st_mtim.tv_nsec;
	return 0;
}

static int parse_u64(const char **p, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(*p, &end, 10);
	if (errno || end == *p || *end != ' ')
		return -1;
	*p = end + 1;
	return 0;
}

static int parse_cache_line(const char *line, struct blob_stat *e)
{
	const char *p = line + GITX_OID_HEXSZ + 1;
	uint64_t mtime;

	if (strlen(line) <= GITX_OID_HEXSZ + 1 ||
	    line[GITX_OID_HEXSZ] != ' ' ||
	    gitx_oid_from_hex(&e->blob, line) < 0 ||
	    parse_u64(&p, &e->ino) < 0 || parse_u64(&p, &e->size) < 0 ||
	    parse_u64(&p, &mtime) < 0 || !*p)
		return -1;
	e->mtime_ns = (int64_t)mtime;
	e->path = xstrdup(p);
	return 0;
}

static void blob_cache_read(const struct repo *r, struct blob_cache *c)
{
	char *path = path_join(r->var_dir, "sync-cache");
	struct strbuf sb = STRBUF_INIT;
	char *line, *next;

	if (strbuf_read_file(&sb, path, 0) < 0)
		goto out;
	for (line = sb.buf; *line; line = next) {
		struct blob_stat e;

		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		if (!strncmp(line, "a-sync ", 7) &&
		    strlen(line + 7) == GITX_OID_HEXSZ) {
			memcpy(c->tip, line + 7, GITX_OID_HEXSZ + 1);
			continue;
		}
		if (parse_cache_line(line, &e) < 0) {
			blob_cache_release(c);	/* damaged: start again */
			break;
		}
		ALLOC_GROW(c->v, c->nr + 1, c->alloc);
		c->v[c->nr++] = e;
	}
	if (c->nr)
		qsort(c->v, c->nr, sizeof(*c->v), cmp_blob_stat);
out:
	free(path);
	strbuf_release(&sb);
}

static const struct blob_stat *blob_cache_find(const struct blob_cache *c,
					       const char *path)
{
	struct blob_stat key;

	key.path = (char *)path;
	return c->nr ? bsearch(&key, c->v, c->nr, sizeof(*c->v),
			       cmp_blob_stat) : NULL;
}

static int same_stat(const struct blob_stat *a, const struct blob_stat *b)
{
	return a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

static void blob_cache_write(const struct repo *r, const struct blob_cache *c)
{
	char *path = path_join(r->var_dir, "sync-cache");
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (*c->tip)
		strbuf_addf(&sb, "a-sync %s\n", c->tip);
	for (i = 0; i < c->nr; i++) {
		const struct blob_stat *e = &c->v[i];
		char hex[GITX_OID_HEXSZ + 1];

		gitx_oid_hex(&e->blob, hex);
		strbuf_addf(&sb, "%s %" PRIu64 " %" PRIu64 " %" PRId64 " %s\n",
			    hex, e->ino, e->size, e->mtime_ns, e->path);
	}
	/* a cache that cannot be written only costs time next cycle */
	if (write_file_derived(path, sb.buf, sb.len, 0644) < 0)
		warning("the next sync cycle will re-read every log file");
	free(path);
	strbuf_release(&sb);
}

uint64_t sync_committed_size(const char *var_dir, const char *rel)
{
	struct repo r = REPO_INIT;
	struct blob_cache c = BLOB_CACHE_INIT;
	const struct blob_stat *e;
	uint64_t size;

	r.var_dir = (char *)var_dir;
	blob_cache_read(&r, &c);
	e = blob_cache_find(&c, rel);
	size = e ? e->size : 0;
	blob_cache_release(&c);
	return size;
}

/* --- merging the remote into the work tree --- */

/* read a work tree file; a missing one is empty */
static int read_local(const char *path, struct strbuf *sb)
{
	int fd = xopen(path, O_RDONLY | O_NOFOLLOW, 0);
	struct stat st;
	ssize_t n;

	strbuf_reset(sb);
	if (fd < 0)
		return errno == ENOENT ? 0 : error_errno("cannot open '%s'",
							 path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error("'%s' is not a regular file", path);
	}
	n = strbuf_read_fd(sb, fd, st.st_size);
	close(fd);
	return n < 0 ? error_errno("cannot read '%s'", path) : 0;
}

static int ensure_messages_dir(struct store *s)
{
	char *dir = store_abs_path(s, "messages");
	struct stat st;
	int ret = 0;

	if (!lstat(dir, &st)) {
		if (!S_ISDIR(st.st_mode))
			ret = error("'%s' is not a directory", dir);
	} else if (mkdir(dir, 0777) < 0) {
		ret = error_errno("cannot create '%s'", dir);
	}
	free(dir);
	return ret;
}

/* does a log file hold a line (blank lines carry nothing)? */
static int has_lines(const struct strbuf *sb)
{
	size_t i;

	for (i = 0; i < sb->len; i++)
		if (sb->buf[i] != '\n')
			return 1;
	return 0;
}

/*
 * Which entries of a-sync's tree are log files: events.jsonl,
 * messages.jsonl, and in messages/ the segments of valid agent names
 * (see store.h); nothing else is read.
 */
static int is_log_path(const char *path, void *payload)
{
	char *agent;

	if (!strcmp(path, "events.jsonl") || !strcmp(path, "messages.jsonl") ||
	    !strcmp(path, "messages/"))
		return 1;
	if (strncmp(path, "messages/", 9))
		return 0;
	agent = store_shard_from_name(path + 9);
	free(agent);
	return !!agent;
}

/*
 * Merge the remote's log files into the work tree.  A merged file that
 * came out byte for byte as the remote's blob (nothing of ours was
 * missing there) goes into *learned with that blob id, so that the
 * commit does not hash it again.
 *
 * Memory follows the largest file, not the number of files: each file
 * is read, merged, staged and its new lines projected (into the open
 * transaction) before the next is read, and nothing of it is kept but
 * its name.  Crash safety is unchanged: the projection commits only
 * after every staged file was flushed and renamed into place, and each
 * file is recorded as consumed only once it is there; a crash before
 * leaves the old files and the old projection.
 */
static int merge_remote(struct gitx_repo *repo,
			const struct gitx_oid *remote_tip,
			const struct gitx_oid *local_tip,
			const struct thrum_config *cfg, struct store *s,
			struct projection *p, struct sync_status *st,
			struct blob_cache *learned)
{
	struct gitx_files rfiles = GITX_FILES_INIT, lfiles = GITX_FILES_INIT;
	struct strbuf wbuf = STRBUF_INIT, merged = STRBUF_INIT,
		      fresh = STRBUF_INIT;
	struct strvec staged = STRVEC_INIT, staged_rel = STRVEC_INIT;
	const struct gitx_oid **as_remote = NULL;	/* or NULL */
	size_t as_remote_alloc = 0;
	struct catch_up_stats cs = { 0 };
	struct gitx_filter ours = { is_log_path, NULL, SIZE_MAX };
	struct gitx_filter theirs = { is_log_path, NULL, cfg->max_file_bytes };
	size_t i;
	int ret = -1, in_txn = 0, renamed = 0;

	/* ours first: what the remote shares with us needs no checking */
	if (local_tip &&
	    gitx_log_files(repo, local_tip, &ours, NULL, &lfiles) < 0)
		goto out;
	if (gitx_log_files(repo, remote_tip, &theirs, &lfiles, &rfiles) < 0)
		goto out;
	st->skipped_entries += rfiles.skipped;

	if (store_lock(s, LOCK_EX) < 0)
		goto out;
	/* the projection must hold everything the work tree holds */
	if (projection_catch_up(p, s, NULL) < 0 || projection_begin(p) < 0)
		goto unlock;
	in_txn = 1;
	for (i = 0; i < rfiles.nr; i++) {
		const struct gitx_file *rf = &rfiles.v[i];
		const struct gitx_file *lf = gitx_files_find(&lfiles, rf->path);
		struct merge_stats ms = { 0 };
		struct gitx_blob *blob = NULL;
		const char *rbuf, *res;
		size_t rlen, res_len = 0;
		char *path;
		int r, had;

		/* what a-sync already holds, the work tree holds too */
		if (lf && gitx_oid_equal(&lf->blob, &rf->blob))
			continue;
		if (gitx_blob_borrow(repo, &rf->blob, &blob, &rbuf, &rlen) < 0)
			goto unlock;
		path = store_abs_path(s, rf->path);
		r = read_local(path, &wbuf);
		had = !r && has_lines(&wbuf);
		strbuf_reset(&merged);
		strbuf_reset(&fresh);
		res = merged.buf;
		if (!r && !had &&
		    merge_is_remote(rbuf, rlen, EVENT_MAX_LINE, &ms)) {
			/* new to us and clean: the blob is the result */
			res = rbuf;
			res_len = rlen;
		} else if (!r) {
			/*
			 * room for the largest result at once: growing by
			 * copies would hold two of them for a moment
			 */
			strbuf_grow(&merged, wbuf.len + rlen + 2);
			if (had)
				strbuf_grow(&fresh, rlen + 1);
			merge_file(wbuf.buf, wbuf.len, rbuf, rlen,
				   EVENT_MAX_LINE, &merged, had ? &fresh : NULL,
				   &ms);
			res = merged.buf;
			res_len = merged.len;
		}
		if (!r && res_len == wbuf.len &&
		    !memcmp(res, wbuf.buf, wbuf.len)) {
			gitx_blob_release(blob);
			free(path);
			continue;	/* nothing new */
		}
		if (!r && !strncmp(rf->path, "messages/", 9))
			r = ensure_messages_dir(s);
		if (!r)
			r = write_file_staged(path, res, res_len, 0644);
		if (r < 0) {
			gitx_blob_release(blob);
			free(path);
			goto unlock;
		}
		strvec_push(&staged, path);
		strvec_push(&staged_rel, rf->path);
		free(path);
		ALLOC_GROW(as_remote, staged.nr, as_remote_alloc);
		as_remote[staged.nr - 1] =
			res == rbuf || (res_len == rlen &&
					!memcmp(res, rbuf, rlen)) ? &rf->blob
								  : NULL;
		/* unparseable lines: the projection counts each one */
		st->skipped += ms.dropped;
		/*
		 * the new lines, whole (a hostile line may hold a NUL): all
		 * of the result when we had none of the file
		 */
		r = projection_ingest_lines(p, rf->path, had ? fresh.buf : res,
					    had ? fresh.len : res_len, &cs);
		gitx_blob_release(blob);
		if (r < 0)
			goto unlock;
		/* one file's buffers at a time, not the largest file's */
		strbuf_release(&merged);
		strbuf_release(&fresh);
	}
	/* what one file needed is not kept through the renames */
	strbuf_release(&wbuf);
	/* one flush for all the files, then each is renamed into place */
	renamed = 1;
	if (commit_staged_files(staged.v, staged.nr) < 0)
		goto unlock;
	for (i = 0; i < staged.nr; i++) {
		struct blob_stat key = { 0 };

		if (!as_remote[i] || stat_key(staged.v[i], &key) < 0)
			continue;
		key.path = xstrdup(staged_rel.v[i]);
		key.blob = *as_remote[i];
		ALLOC_GROW(learned->v, learned->nr + 1, learned->alloc);
		learned->v[learned->nr++] = key;
	}
	if (learned->nr)
		qsort(learned->v, learned->nr, sizeof(*learned->v),
		      cmp_blob_stat);
	for (i = 0; i < staged_rel.nr; i++)
		if (projection_ingest_done(p, s, staged_rel.v[i]) < 0)
			goto unlock;
	if (projection_commit(p) < 0)
		goto unlock;
	in_txn = 0;
	st->new_events += cs.applied;
	st->skipped += cs.unparseable;
	st->conflicts += cs.conflicts;
	ret = 0;
unlock:
	if (in_txn)
		projection_rollback(p);
	for (i = 0; !renamed && i < staged.nr; i++) {
		char *tmp = tempfile_path(staged.v[i]);

		unlink(tmp);	/* staged, never renamed */
		tempfile_unregister(tmp);
		free(tmp);
	}
	store_unlock(s);
out:
	free(as_remote);
	strvec_clear(&staged);
	strvec_clear(&staged_rel);
	gitx_files_release(&rfiles);
	gitx_files_release(&lfiles);
	strbuf_release(&wbuf);
	strbuf_release(&merged);
	strbuf_release(&fresh);
	return ret;
}

/* --- committing the work tree --- */

/*
 * The work tree's log files and their blobs; a file whose stat key the
 * cache knows is not read again.  *now receives the new cache entries.
 */
static int worktree_files(struct gitx_repo *repo, struct store *s,
			  const struct blob_cache *cache,
			  const struct blob_cache *learned,
			  struct gitx_files *out, struct blob_cache *now)
{
	struct strvec files = STRVEC_INIT;
	struct strbuf buf = STRBUF_INIT;
	size_t i;
	int ret = -1;

	if (store_lock(s, LOCK_SH) < 0)
		return -1;
	store_list_files(s, &files);
	for (i = 0; i < files.nr; i++) {
		char *path = store_abs_path(s, files.v[i]);
		const struct blob_stat *known;
		struct blob_stat key = { 0 };
		struct gitx_file *f;
		int have_key = !stat_key(path, &key);

		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		f = &out->v[out->nr++];
		f->path = xstrdup(files.v[i]);
		known = have_key ? blob_cache_find(cache, files.v[i]) : NULL;
		if ((!known || !same_stat(known, &key)) && have_key && learned)
			known = blob_cache_find(learned, files.v[i]);
		if (known && same_stat(known, &key)) {
			f->blob = known->blob;
			f->size = (size_t)known->size;
		} else {
			/* nothing appends while we hold the log lock */
			int r = read_local(path, &buf);

			if (r < 0 || gitx_blob_write(repo, buf.buf, buf.len,
						     &f->blob) < 0) {
				free(path);
				goto out;
			}
			f->size = buf.len;
		}
		free(path);
		if (have_key) {
			key.path = xstrdup(files.v[i]);
			key.blob = f->blob;
			ALLOC_GROW(now->v, now->nr + 1, now->alloc);
			now->v[now->nr++] = key;
		}
	}
	ret = 0;
out:
	store_unlock(s);
	strvec_clear(&files);
	strbuf_release(&buf);
	return ret;
}

/*
 * A git lock file left by a process killed while holding it.  Every thrum
 * writer of a-sync holds var/sync.lock, which we hold now, so a lock that
 * outlives a real ref or index update (milliseconds) is stale: wait a
 * little, then remove it, so that one crash cannot stop sync forever.
 */
static int lock_gone(void *lock)
{
	return access(lock, F_OK) < 0;
}

static void clear_stale_lock(const char *lock)
{
	if (!poll_until(lock_gone, (void *)lock, STALE_LOCK_WAIT_MS,
			STALE_LOCK_STEP_MS)) {
		warning("removing the stale lock '%s'", lock);
		unlink(lock);
	}
}

/* after a-sync moved: make the sync work tree's index match it */
static void refresh_index(const struct repo *r)
{
	char *gitdir = synctree_git_dir(r);

	if (gitdir) {
		char *lock = path_join(gitdir, "index.lock");

		clear_stale_lock(lock);
		free(lock);
		free(gitdir);
	}
	if (run_git(r->sync_dir, RUN_GIT_NO_HOOKS, NULL, "reset", "--quiet",
		    NULL))
		warning("cannot refresh the index of '%s'", r->sync_dir);
}

static int commit_worktree(struct gitx_repo *repo, const struct repo *r,
			   const struct thrum_config *cfg, struct store *s,
			   const struct gitx_oid *parent,
			   const struct gitx_oid *local_tip,
			   const struct blob_cache *learned,
			   struct sync_status *st, struct gitx_oid *tip)
{
	struct gitx_files files = GITX_FILES_INIT;
	struct blob_cache cache = BLOB_CACHE_INIT, now = BLOB_CACHE_INIT;
	char when[DATE_RFC3339_LEN + 1];
	struct strbuf msg = STRBUF_INIT;
	int made = 0, ret = -1, r2;

	date_format_rfc3339_sec(date_now_ns(), when);
	strbuf_addf(&msg, "sync: %s\n", when);
	blob_cache_read(r, &cache);
	if (worktree_files(repo, s, &cache, learned, &files, &now) < 0 ||
	    gitx_commit_files(repo, &files, parent, local_tip, msg.buf,
			      cfg->commit_author, tip, &made) < 0)
		goto out;
	st->committed |= made;
	if (local_tip && gitx_oid_equal(local_tip, tip)) {
		gitx_oid_hex(tip, now.tip);
		blob_cache_write(r, &now);
		ret = 0;
		goto out;
	}
	{
		char *lock = path_join(r->common_dir,
				       GITX_SYNC_REF ".lock");

		clear_stale_lock(lock);
		free(lock);
	}
	r2 = gitx_ref_cas(repo, GITX_SYNC_REF, tip, local_tip,
			  made ? msg.buf : "sync: fast-forward");
	if (r2 == THRUM_ECONFLICT)
		error("a-sync moved during the sync cycle; try again");
	if (r2 < 0)
		goto out;
	refresh_index(r);
	gitx_oid_hex(tip, now.tip);
	blob_cache_write(r, &now);
	ret = 0;
out:
	gitx_files_release(&files);
	blob_cache_release(&cache);
	blob_cache_release(&now);
	strbuf_release(&msg);
	return ret;
}

/* --- the cycle --- */

static void backoff(int attempt)
{
	uint32_t jitter = 0;

	if (getrandom(&jitter, sizeof(jitter), 0) < 0)
		jitter = (uint32_t)getpid();
	sleep_ms(PUSH_BACKOFF_MS * attempt + jitter % PUSH_JITTER_MS);
}

/*
 * A cycle with nothing to do, decided without libgit2 (loading it costs
 * more than the rest of such a cycle): a-sync is where the last cycle
 * left it, the remote branch is there too (the fetch brought nothing new,
 * and nothing waits to be pushed), and no log file changed since.  Fills
 * *st and returns 1 when the cycle was idle.
 */
static int idle_cycle(const struct repo *r, const struct thrum_config *cfg,
		      struct store *s, const char *remote_ref,
		      struct sync_status *st)
{
	struct blob_cache cache = BLOB_CACHE_INIT;
	struct strvec files = STRVEC_INIT;
	char local[GITX_OID_HEXSZ + 1], remote[GITX_OID_HEXSZ + 1];
	size_t i;
	int idle = 0;

	blob_cache_read(r, &cache);
	if (!*cache.tip || repo_read_ref(r, GITX_SYNC_REF, local) ||
	    strcmp(local, cache.tip))
		goto out;
	if (!cfg->local_only && (repo_read_ref(r, remote_ref, remote) ||
				 strcmp(remote, local)))
		goto out;
	if (store_lock(s, LOCK_SH) < 0)
		goto out;
	store_list_files(s, &files);
	idle = files.nr == cache.nr;
	for (i = 0; idle && i < files.nr; i++) {
		char *path = store_abs_path(s, files.v[i]);
		const struct blob_stat *known = blob_cache_find(&cache,
								files.v[i]);
		struct blob_stat key;

		idle = known && !stat_key(path, &key) && same_stat(known, &key);
		free(path);
	}
	store_unlock(s);
	if (!idle)
		goto out;
	if (cfg->local_only) {
		struct sync_status prev = SYNC_STATUS_INIT;

		/* the remote branch did not move: neither did the counts */
		if (!sync_status_read(r, &prev)) {
			st->ahead = prev.ahead;
			st->behind = prev.behind;
			st->remote_tip = prev.remote_tip;
			prev.remote_tip = NULL;
		}
		sync_status_release(&prev);
		st->state = SYNC_LOCAL_ONLY;
	} else {
		st->remote_tip = xstrdup(remote);
		st->state = SYNC_SYNCED;
	}
out:
	blob_cache_release(&cache);
	strvec_clear(&files);
	return idle;
}

int sync_worktree_changed(const struct repo *r, struct store *s)
{
	struct blob_cache cache = BLOB_CACHE_INIT;
	struct strvec files = STRVEC_INIT;
	size_t i;
	int changed;

	blob_cache_read(r, &cache);
	if (store_lock(s, LOCK_SH) < 0) {
		blob_cache_release(&cache);
		return 1;	/* unsure: a cycle will tell */
	}
	store_list_files(s, &files);
	changed = files.nr != cache.nr;
	for (i = 0; !changed && i < files.nr; i++) {
		char *path = store_abs_path(s, files.v[i]);
		const struct blob_stat *known = blob_cache_find(&cache,
								files.v[i]);
		struct blob_stat key;

		changed = !known || stat_key(path, &key) ||
			  !same_stat(known, &key);
		free(path);
	}
	store_unlock(s);
	blob_cache_release(&cache);
	strvec_clear(&files);
	return changed;
}

int sync_remote_moved(const struct repo *r, char **remote)
{
	struct sync_status st = SYNC_STATUS_INIT;
	char tip[GITX_OID_HEXSZ + 1], *ref;
	int moved = 0;

	*remote = NULL;
	/* a cycle that failed is not retried by every command */
	if (sync_status_read(r, &st) < 0 || !st.remote ||
	    (st.state != SYNC_SYNCED && !sync_state_network_failed(st.state)))
		goto out;
	ref = xstrfmt("refs/remotes/%s/a-sync", st.remote);
	moved = !repo_read_ref(r, ref, tip) &&
		(!st.remote_tip || strcmp(tip, st.remote_tip));
	free(ref);
	if (moved) {
		*remote = st.remote;
		st.remote = NULL;
	}
out:
	sync_status_release(&st);
	return moved;
}

static int lock_sync(const struct repo *r, int *fd, long wait_ms)
{
	char *path = path_join(r->var_dir, "sync.lock");
	int ret;

	/* a bounded wait: the other cycle's network step has a timeout too */
	ret = lock_take(path, LOCK_EX, wait_ms, 0600, fd);
	free(path);
	return ret;
}

int sync_running(const struct repo *r)
{
	char *path = path_join(r->var_dir, "sync.lock");
	int running = lock_held(path);

	free(path);
	return running;
}

/* what the remote's a-sync holds now, as far as this cycle knows */
static void set_remote_tip(struct sync_status *st, const struct gitx_oid *oid)
{
	char hex[GITX_OID_HEXSZ + 1];

	gitx_oid_hex(oid, hex);
	free(st->remote_tip);
	st->remote_tip = xstrdup(hex);
}

int sync_cycle(const struct repo *r, const struct thrum_config *cfg,
	       struct store *s, struct projection *p, unsigned flags,
	       struct sync_status *st)
{
	struct gitx_repo *repo = NULL;
	struct projection *own = NULL;	/* opened here when p is NULL */
	struct strbuf remote_ref = STRBUF_INIT, why = STRBUF_INIT;
	struct blob_cache learned = BLOB_CACHE_INIT;
	char when[DATE_RFC3339_LEN + 1];
	char *err = NULL;
	int lock_fd = -1, attempt, ret = -1;
	int64_t started = date_now_ns();

	memset(st, 0, sizeof(*st));
	st->remote = xstrdup(cfg->remote);
	ret = lock_sync(r, &lock_fd, (flags & SYNC_WAIT)
			? (cfg->network_timeout * 2 + 10) * 1000 : 0);
	if (ret == THRUM_EBUSY) {
		st->state = SYNC_BUSY;
		return 0;
	}
	if (ret < 0)
		return -1;
	ret = -1;
	if (synctree_health(r, &why)) {
		err = xstrfmt("the sync work tree is broken (%s); run 'git "
			      "thrum init --force'", why.buf);
		goto done;
	}
	strbuf_addf(&remote_ref, "refs/remotes/%s/a-sync", cfg->remote);

	for (attempt = 1; attempt <= PUSH_ATTEMPTS; attempt++) {
		struct gitx_oid remote_tip, local_tip, tip;
		int have_remote, have_local, offline = 0;
		enum net_result nr = NET_OK;
		enum sync_state failed = SYNC_ERROR;

		free(err);
		err = NULL;
		blob_cache_release(&learned);
		if (!cfg->local_only && !(flags & SYNC_NO_NETWORK)) {
			nr = sync_fetch(r, cfg, flags, &err, &failed);
			offline = nr == NET_FAILED;
			if (nr == NET_NO_BRANCH) {
				free(err);
				err = NULL;
			}
		}
		if (attempt == 1 && nr == NET_OK &&
		    idle_cycle(r, cfg, s, remote_ref.buf, st)) {
			ret = 0;
			goto done;
		}
		if (!repo && gitx_open(&repo, r->git_dir) < 0) {
			err = xstrdup("cannot open the repository");
			goto done;
		}
		have_remote = gitx_resolve(repo, remote_ref.buf,
					   &remote_tip) == 0;
		have_local = gitx_resolve(repo, GITX_SYNC_REF, &local_tip) == 0;
		if (have_remote && !p) {
			if (projection_open(&own, r->var_dir) < 0) {
				err = xstrdup("cannot open the database");
				goto done;
			}
			p = own;
		}
		if (have_remote) {
			if (merge_remote(repo, &remote_tip,
					 have_local ? &local_tip : NULL, cfg, s,
					 p, st, &learned) < 0)
				goto done;
			set_remote_tip(st, &remote_tip);
		}
		if (commit_worktree(repo, r, cfg, s,
				    have_remote ? &remote_tip
				    : have_local ? &local_tip : NULL,
				    have_local ? &local_tip : NULL, &learned,
				    st, &tip) < 0)
			goto done;
		if (cfg->local_only) {
			st->state = SYNC_LOCAL_ONLY;
			break;
		}
		if (flags & SYNC_NO_NETWORK) {
			st->state = SYNC_SYNCED;
			break;
		}
		if (offline) {
			/* committed here; the events wait for the network */
			st->state = failed;
			break;
		}
		if (have_remote && gitx_oid_equal(&remote_tip, &tip)) {
			st->state = SYNC_SYNCED;
			break;
		}
		nr = sync_push(r, cfg, flags, &err, &failed);
		if (nr == NET_OK) {
			/* the remote, and git's tracking ref, now hold ours */
			set_remote_tip(st, &tip);
			st->pushed = 1;
			st->state = SYNC_SYNCED;
			free(err);
			err = NULL;
			break;
		}
		if (nr == NET_FAILED) {
			st->state = failed;
			break;
		}
		/*
		 * rejected: the remote moved; fetch, merge, commit, again.
		 * Still rejected after that: the remote was reachable, so
		 * the class is rejected, never offline.
		 */
		if (attempt == PUSH_ATTEMPTS) {
			st->state = SYNC_REJECTED;
			break;
		}
		backoff(attempt);
	}
	ret = 0;
done:
	if (ret < 0) {
		st->state = SYNC_ERROR;
		if (err)
			error("%s", err);
	}
	free(st->last_error);
	st->last_error = err;
	err = NULL;
	date_format_rfc3339_sec(date_now_ns(), when);
	st->last_sync_at = xstrdup(when);
	if (repo) {
		struct gitx_oid a, b;

		if (!gitx_resolve(repo, GITX_SYNC_REF, &a) &&
		    !gitx_resolve(repo, remote_ref.buf, &b)) {
			size_t ahead = 0, behind = 0;

			if (!gitx_ahead_behind(repo, &a, &b, &ahead, &behind)) {
				st->ahead = (long)ahead;
				st->behind = (long)behind;
			}
		}
	}
	st->duration_us = (long)((date_now_ns() - started) / 1000);
	sync_status_write(r, st);
	blob_cache_release(&learned);
	gitx_close(repo);
	projection_free(own);
	strbuf_release(&remote_ref);
	strbuf_release(&why);
	lock_release(lock_fd);
	return ret;
}

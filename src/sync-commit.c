/*
 * sync-commit.c: the commit step of a sync cycle.  The work tree's log
 * files become one commit on top of the remote's tip (linear history),
 * only when the tree changed; a-sync moves by compare-and-swap; blob ids
 * of files that did not change come from var/sync-cache, never hashed
 * again.
 */
#include "thrum.h"
#include "sync-internal.h"
#include "sync.h"
#include "blob-cache.h"
#include "clock.h"
#include "config.h"
#include "date.h"
#include "gitx.h"
#include "repo.h"
#include "run-command.h"
#include "store.h"
#include "strbuf.h"
#include "strvec.h"
#include "synctree.h"
#include "usage.h"
#include "wrapper.h"

/* how long a git lock file may stand before it counts as stale */
#define STALE_LOCK_WAIT_MS 2000
#define STALE_LOCK_STEP_MS 10

static int same_file(const struct log_file_id *a, const struct log_file_id *b)
{
	return a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

/* is the file as the last commit took it (absent then: absent now)? */
static int as_committed(const struct blob_cache *cache, const char *path,
			const struct log_file_id *id)
{
	const struct blob_stat *e = blob_cache_find(cache, path);
	struct log_file_id was = { 0, 0, 0 };

	if (e) {
		was.ino = e->ino;
		was.size = e->size;
		was.mtime_ns = e->mtime_ns;
	}
	return same_file(&was, id);
}

/*
 * Was the file written since the last commit other than by this cycle's
 * merge?  A merged file: before the merge read it, or after it put it in
 * place; any other: at all.  Only asked when the cycle found no appends
 * (var/sync-cache then describes the files as they were).
 */
static int appended_since(const struct blob_cache *cache,
			  const struct log_changes *merged, const char *path,
			  const struct blob_stat *key)
{
	struct log_file_id now = { key->ino, key->size, key->mtime_ns };
	const struct log_change *m = NULL;
	size_t i;

	for (i = 0; i < merged->nr; i++)
		if (merged->v[i].merged && !strcmp(merged->v[i].path, path))
			m = &merged->v[i];
	if (!m)
		return !as_committed(cache, path, &now);
	return !as_committed(cache, path, &m->before) ||
	       !same_file(&m->after, &now);
}

/*
 * The work tree's log files and their blobs; a file whose stat key the
 * cache knows is not read again.  *now receives the new cache entries;
 * with merged, *appended whether a file was written since the last
 * commit other than by the merge (appended_since()).
 */
static int worktree_files(struct gitx_repo *repo, struct store *s,
			  const struct blob_cache *cache,
			  const struct blob_cache *learned,
			  const struct log_changes *merged, int *appended,
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
		int have_key = !blob_stat_key(path, &key);

		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		f = &out->v[out->nr++];
		f->path = xstrdup(files.v[i]);
		known = have_key ? blob_cache_find(cache, files.v[i]) : NULL;
		if ((!known || !blob_stat_same(known, &key)) && have_key &&
		    learned)
			known = blob_cache_find(learned, files.v[i]);
		if (known && blob_stat_same(known, &key)) {
			f->blob = known->blob;
			f->size = (size_t)known->size;
		} else {
			/* nothing appends while we hold the log lock */
			int r = sync_read_file(path, &buf, NULL);

			if (r < 0 || gitx_blob_write(repo, buf.buf, buf.len,
						     &f->blob) < 0) {
				free(path);
				goto out;
			}
			f->size = buf.len;
		}
		free(path);
		if (merged && !*appended)
			*appended = !have_key ||
				    appended_since(cache, merged, files.v[i], &key);
		if (have_key) {
			key.path = xstrdup(files.v[i]);
			key.blob = f->blob;
			blob_cache_add(now, &key);
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

void sync_refresh_index(const struct repo *r)
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

int sync_commit(struct gitx_repo *repo, const struct repo *r,
		const struct thrum_config *cfg, struct store *s,
		const struct gitx_oid *parent, const struct gitx_oid *local_tip,
		const struct blob_cache *learned,
		const struct sync_appends *appends, struct sync_status *st,
		struct gitx_oid *tip)
{
	struct gitx_files files = GITX_FILES_INIT;
	struct blob_cache cache = BLOB_CACHE_INIT, now = BLOB_CACHE_INIT;
	char when[DATE_RFC3339_LEN + 1];
	struct strbuf msg = STRBUF_INIT;
	int made = 0, ret = -1, appended = 0, r2;

	date_format_rfc3339_sec(date_now_ns(), when);
	strbuf_addf(&msg, "sync: %s\n", when);
	blob_cache_read(r, &cache);
	if (worktree_files(repo, s, &cache, learned,
			   appends ? appends->merged : NULL, &appended,
			   &files, &now) < 0 ||
	    (appended && appends->appended(appends->data) < 0) ||
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

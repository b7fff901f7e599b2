/*
 * sync-merge.c: the merge step of a sync cycle, the remote's log files
 * into the work tree.
 *
 * Invariants:
 *  - it holds the log lock, so no append can be lost between reading a
 *    file and replacing it; files are replaced by rename, never edited in
 *    place;
 *  - nothing from the remote is followed or trusted: entries are
 *    filtered by is_log_path() (and gitx's size cap), lines by
 *    merge_file();
 *  - it holds one file at a time, however many the remote names.
 */
#include "thrum.h"
#include "sync-internal.h"
#include "sync.h"
#include "blob-cache.h"
#include "config.h"
#include "event.h"
#include "gitx.h"
#include "lockfile.h"
#include "merge.h"
#include "store.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

/* what stat() says of a file, as struct log_file_id has it */
static void file_id(const struct stat *st, struct log_file_id *id)
{
	id->ino = (uint64_t)st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
		       st->st_mtim.tv_nsec;
}

int sync_read_file(const char *path, struct strbuf *sb,
		   struct log_file_id *seen)
{
	int fd = xopen(path, O_RDONLY | O_NOFOLLOW, 0);
	struct stat st;
	ssize_t n;

	strbuf_reset(sb);
	if (seen)
		memset(seen, 0, sizeof(*seen));
	if (fd < 0)
		return errno == ENOENT ? 0 : error_errno("cannot open '%s'",
							 path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error("'%s' is not a regular file", path);
	}
	n = strbuf_read_fd(sb, fd, st.st_size);
	if (seen)
		file_id(&st, seen);
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
 * is read, merged and staged before the next is read, and nothing of it
 * is kept but its name and where its new lines are (*changes).  The
 * staged files are flushed together, then renamed into place; a crash
 * before leaves the old files, one after leaves files the projection
 * reads again.
 */
int sync_merge(struct gitx_repo *repo, const struct gitx_oid *remote_tip,
	       const struct gitx_oid *local_tip, const struct gitx_oid *before,
	       const struct thrum_config *cfg, struct store *s,
	       struct sync_status *st, struct blob_cache *learned,
	       struct log_changes *changes)
{
	struct gitx_files rfiles = GITX_FILES_INIT, lfiles = GITX_FILES_INIT,
			  sfiles = GITX_FILES_INIT;
	struct strbuf wbuf = STRBUF_INIT, merged = STRBUF_INIT,
		      fresh = STRBUF_INIT;
	struct strvec staged = STRVEC_INIT;
	const struct gitx_oid **as_remote = NULL;	/* or NULL */
	size_t as_remote_alloc = 0;
	struct gitx_filter ours = { is_log_path, NULL, SIZE_MAX };
	struct gitx_filter theirs = { is_log_path, NULL, cfg->max_file_bytes };
	size_t i;
	int ret = -1, renamed = 0;

	/* ours first: what the remote shares with us needs no checking */
	if (local_tip &&
	    gitx_log_files(repo, local_tip, &ours, NULL, &lfiles) < 0)
		goto out;
	if (gitx_log_files(repo, remote_tip, &theirs, &lfiles, &rfiles) < 0)
		goto out;
	st->skipped_entries += rfiles.skipped;
	/*
	 * a clone's ref merged before: what it still holds as it was is in
	 * the work tree already (unreadable now: every file is compared)
	 */
	if (before &&
	    gitx_log_files(repo, before, &theirs, &rfiles, &sfiles) < 0)
		gitx_files_release(&sfiles);

	if (store_lock(s, LOCK_EX) < 0)
		goto out;
	for (i = 0; i < rfiles.nr; i++) {
		const struct gitx_file *rf = &rfiles.v[i];
		const struct gitx_file *lf = gitx_files_find(&lfiles, rf->path);
		const struct gitx_file *sf = gitx_files_find(&sfiles, rf->path);
		struct merge_stats ms = { 0 };
		struct gitx_blob *blob = NULL;
		struct log_file_id seen;
		struct log_change *c;
		const char *rbuf, *res;
		size_t rlen, res_len = 0;
		char *path;
		int r, had;

		/* what a-sync already holds, the work tree holds too */
		if ((lf && gitx_oid_equal(&lf->blob, &rf->blob)) ||
		    (sf && gitx_oid_equal(&sf->blob, &rf->blob)))
			continue;
		if (gitx_blob_borrow(repo, &rf->blob, &blob, &rbuf, &rlen) < 0)
			goto unlock;
		path = store_abs_path(s, rf->path);
		r = sync_read_file(path, &wbuf, &seen);
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
		free(path);
		ALLOC_GROW(as_remote, staged.nr, as_remote_alloc);
		as_remote[staged.nr - 1] =
			res == rbuf || (res_len == rlen &&
					!memcmp(res, rbuf, rlen)) ? &rf->blob
								  : NULL;
		/* unparseable lines: the projection counts each one */
		st->skipped += ms.dropped;
		/*
		 * where the new lines are: all of the result when we had
		 * none of the file
		 */
		c = log_changes_add(changes, rf->path);
		c->merged = 1;
		c->before = seen;
		if (had)
			merge_spans(res, res_len, fresh.buf, fresh.len, c);
		else if (res_len)
			log_change_add_span(c, 0, res_len);
		gitx_blob_release(blob);
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
		struct log_change *c = &changes->v[changes->nr - staged.nr + i];

		if (blob_stat_key(staged.v[i], &key) < 0)
			continue;
		/* the file the merge put in place, as the projection will */
		c->after.ino = key.ino;
		c->after.size = key.size;
		c->after.mtime_ns = key.mtime_ns;
		if (!as_remote[i])
			continue;
		key.path = xstrdup(c->path);
		key.blob = *as_remote[i];
		blob_cache_add(learned, &key);
	}
	blob_cache_sort(learned);
	ret = 0;
unlock:
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
	gitx_files_release(&rfiles);
	gitx_files_release(&lfiles);
	gitx_files_release(&sfiles);
	strbuf_release(&wbuf);
	strbuf_release(&merged);
	strbuf_release(&fresh);
	return ret;
}

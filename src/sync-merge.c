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

/* one file of one tip to merge: its path and blob */
struct candidate {
	const char *path;
	const struct gitx_oid *blob;
	size_t tip;
};

static int cmp_candidate(const void *x, const void *y)
{
	const struct candidate *a = x, *b = y;
	int c = strcmp(a->path, b->path);

	if (c)
		return c;
	return a->tip < b->tip ? -1 : a->tip > b->tip;
}

/*
 * The files of each tip to merge: those neither a-sync here nor the
 * commit of the same ref merged before holds as they are.  A tip whose
 * tree cannot be read is marked failed: nothing of it is merged.
 */
static void list_candidates(struct gitx_repo *repo, struct sync_merge_tip *tips,
			    size_t nr, const struct gitx_files *lfiles,
			    const struct gitx_filter *theirs,
			    struct gitx_files *rfiles, struct sync_status *st,
			    struct candidate **out, size_t *nr_out)
{
	size_t k, i, alloc = 0;

	*out = NULL;
	*nr_out = 0;
	for (k = 0; k < nr; k++) {
		struct gitx_files sfiles = GITX_FILES_INIT;

		/* ours first: what the remote shares with us needs no check */
		if (gitx_log_files(repo, &tips[k].tip, theirs, lfiles,
				   &rfiles[k]) < 0) {
			tips[k].failed = 1;
			gitx_files_release(&rfiles[k]);
			continue;
		}
		st->skipped_entries += rfiles[k].skipped;
		/*
		 * a clone's ref merged before: what it still holds as it was
		 * is in the work tree already (unreadable now: every file is
		 * compared)
		 */
		if (tips[k].have_before &&
		    gitx_log_files(repo, &tips[k].before, theirs, &rfiles[k],
				   &sfiles) < 0)
			gitx_files_release(&sfiles);
		for (i = 0; i < rfiles[k].nr; i++) {
			const struct gitx_file *rf = &rfiles[k].v[i];
			const struct gitx_file *lf = gitx_files_find(lfiles,
								     rf->path);
			const struct gitx_file *sf = gitx_files_find(&sfiles,
								     rf->path);

			/* what a-sync already holds, the work tree holds too */
			if ((lf && gitx_oid_equal(&lf->blob, &rf->blob)) ||
			    (sf && gitx_oid_equal(&sf->blob, &rf->blob)))
				continue;
			ALLOC_GROW(*out, *nr_out + 1, alloc);
			(*out)[(*nr_out)++] = (struct candidate){
				rf->path, &rf->blob, k };
		}
		gitx_files_release(&sfiles);
	}
	if (*nr_out > 1)
		qsort(*out, *nr_out, sizeof(**out), cmp_candidate);
}

/*
 * A file as the merge of one path has it so far: the work tree's bytes,
 * a tip's blob taken as it is (held until the next step), or a merge's
 * output in one of two buffers that take turns.
 */
struct so_far {
	const char *buf;
	size_t len;
	struct gitx_blob *blob;		/* held, or NULL */
	struct strbuf out[2];
	int turn;			/* the buffer the next merge writes */
};

/*
 * Merge into f each blob of c[0..n), the same file in several tips,
 * giving the last blob taken as it is (nothing of ours was missing
 * there) in *adopted, else NULL.  A blob that cannot be read marks its
 * tip failed.  Memory: what the file is so far, one blob and one merge
 * output at a time.
 */
static void merge_tips_of_file(struct gitx_repo *repo,
			       const struct candidate *c, size_t n,
			       struct sync_merge_tip *tips, struct so_far *f,
			       struct sync_status *st,
			       const struct gitx_oid **adopted)
{
	size_t m, q;

	*adopted = NULL;
	for (m = 0; m < n; m++) {
		struct merge_stats ms = { 0 };
		struct gitx_blob *blob = NULL;
		struct strbuf *out;
		const char *rbuf;
		size_t rlen;
		int dup = 0;

		/* the same blob in two tips: once */
		for (q = 0; q < m && !dup; q++)
			dup = gitx_oid_equal(c[q].blob, c[m].blob);
		if (dup || tips[c[m].tip].failed)
			continue;
		if (gitx_blob_borrow(repo, c[m].blob, &blob, &rbuf, &rlen) < 0) {
			/* nothing more of that tip: it is merged next time */
			tips[c[m].tip].failed = 1;
			continue;
		}
		if (!merge_has_lines(f->buf, f->len) &&
		    merge_is_remote(rbuf, rlen, EVENT_MAX_LINE, &ms)) {
			/* new to us and clean: the blob is the result */
			gitx_blob_release(f->blob);
			f->blob = blob;
			f->buf = rbuf;
			f->len = rlen;
			*adopted = c[m].blob;
			continue;
		}
		out = &f->out[f->turn];
		f->turn = !f->turn;
		strbuf_reset(out);
		/*
		 * room for the largest result at once: growing by copies
		 * would hold two of them for a moment
		 */
		strbuf_grow(out, f->len + rlen + 2);
		merge_file(f->buf, f->len, rbuf, rlen, EVENT_MAX_LINE, out,
			   NULL, &ms);
		/* unparseable lines: the projection counts each one */
		st->skipped += ms.dropped;
		if (out->len == rlen && !memcmp(out->buf, rbuf, rlen))
			*adopted = c[m].blob;
		else if (out->len != f->len ||
			 memcmp(out->buf, f->buf, f->len))
			*adopted = NULL;
		gitx_blob_release(blob);
		gitx_blob_release(f->blob);
		f->blob = NULL;
		f->buf = out->buf;
		f->len = out->len;
	}
}

static void so_far_release(struct so_far *f)
{
	gitx_blob_release(f->blob);
	f->blob = NULL;
	strbuf_release(&f->out[0]);
	strbuf_release(&f->out[1]);
	f->buf = NULL;
	f->len = 0;
}

/*
 * Merge the remote's log files, of every tip at once, into the work
 * tree.  A merged file that came out byte for byte as one tip's blob
 * (nothing of ours was missing there) goes into *learned with that blob
 * id, so that the commit does not hash it again.
 *
 * Memory follows the largest file, not the number of files or tips:
 * each file is read, merged with each tip's version in turn and staged
 * before the next is read, and nothing of it is kept but its name and
 * where its new lines are (*changes).  The staged files of all the tips
 * are flushed together, once, then renamed into place; a crash before
 * leaves the old files, one after leaves files the projection reads
 * again.
 */
int sync_merge(struct gitx_repo *repo, struct sync_merge_tip *tips,
	       size_t nr, const struct gitx_oid *local_tip,
	       const struct thrum_config *cfg, struct store *s,
	       struct sync_status *st, struct blob_cache *learned,
	       struct log_changes *changes)
{
	struct gitx_files lfiles = GITX_FILES_INIT;
	struct gitx_files *rfiles = xcalloc(nr ? nr : 1, sizeof(*rfiles));
	struct strbuf wbuf = STRBUF_INIT;
	struct so_far f = { NULL, 0, NULL, { STRBUF_INIT, STRBUF_INIT }, 0 };
	struct strvec staged = STRVEC_INIT;
	const struct gitx_oid **as_remote = NULL;	/* or NULL */
	size_t as_remote_alloc = 0, ncand = 0, i, j, k;
	struct candidate *cand = NULL;
	struct gitx_filter ours = { is_log_path, NULL, SIZE_MAX };
	struct gitx_filter theirs = { is_log_path, NULL, cfg->max_file_bytes };
	int ret = -1, renamed = 0;

	if (local_tip &&
	    gitx_log_files(repo, local_tip, &ours, NULL, &lfiles) < 0)
		goto out;
	list_candidates(repo, tips, nr, &lfiles, &theirs, rfiles, st, &cand,
			&ncand);
	if (store_lock(s, LOCK_EX) < 0)
		goto out;
	for (i = 0; i < ncand; i = j) {
		const struct gitx_oid *adopted;
		struct log_file_id seen;
		struct log_change *c;
		char *path;
		int had;

		for (j = i + 1; j < ncand && !strcmp(cand[j].path,
						      cand[i].path); j++)
			;
		path = store_abs_path(s, cand[i].path);
		if (sync_read_file(path, &wbuf, &seen) < 0) {
			free(path);
			goto unlock;
		}
		had = merge_has_lines(wbuf.buf, wbuf.len);
		f.buf = wbuf.buf;
		f.len = wbuf.len;
		merge_tips_of_file(repo, cand + i, j - i, tips, &f, st,
				   &adopted);
		if (f.len == wbuf.len && !memcmp(f.buf, wbuf.buf, wbuf.len)) {
			so_far_release(&f);
			free(path);
			continue;	/* nothing new */
		}
		if ((!strncmp(cand[i].path, "messages/", 9) &&
		     ensure_messages_dir(s) < 0) ||
		    write_file_staged(path, f.buf, f.len, 0644) < 0) {
			so_far_release(&f);
			free(path);
			goto unlock;
		}
		strvec_push(&staged, path);
		free(path);
		ALLOC_GROW(as_remote, staged.nr, as_remote_alloc);
		as_remote[staged.nr - 1] = adopted;
		/*
		 * where the new lines are: all of the result when we had
		 * none of the file
		 */
		c = log_changes_add(changes, cand[i].path);
		c->merged = 1;
		c->before = seen;
		if (had)
			merge_new_spans(wbuf.buf, wbuf.len, f.buf, f.len, c);
		else if (f.len)
			log_change_add_span(c, 0, f.len);
		/* one file's buffers at a time, not the largest file's */
		so_far_release(&f);
	}
	/* what one file needed is not kept through the renames */
	strbuf_release(&wbuf);
	/* one flush for all the files of all the tips, then the renames */
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
	free(cand);
	free(as_remote);
	strvec_clear(&staged);
	for (k = 0; k < nr; k++)
		gitx_files_release(&rfiles[k]);
	free(rfiles);
	gitx_files_release(&lfiles);
	strbuf_release(&wbuf);
	so_far_release(&f);
	return ret;
}

#ifndef THRUM_GITX_H
#define THRUM_GITX_H

/*
 * libgit2 glue: lazy library initialisation (it costs milliseconds, so
 * commands that never touch objects never pay it), repository opening,
 * and error reporting.  Objects returned are owned by the caller and freed
 * with their git_*_free().
 */
#include <git2.h>

struct strbuf;

/* the branch everything lives on */
#define GITX_SYNC_BRANCH "a-sync"
#define GITX_SYNC_REF "refs/heads/a-sync"

/* open the repository whose git directory is git_dir; 0 or -1 */
int gitx_open(git_repository **out, const char *git_dir);

/* report git_error_last() as "error: <what>: <message>"; returns -1 */
int gitx_error(const char *what);

/*
 * The signature for our commits: thrum.commitAuthor ("Name <email>") or
 * "Thrum <thrum@local>".  0 or -1.
 */
int gitx_signature(git_signature **out, const char *commit_author);

/* does ref exist?  1, 0, or -1 on error */
int gitx_ref_exists(git_repository *repo, const char *ref);

/*
 * Create refs/heads/a-sync as a root commit of the empty tree, unless it
 * exists (a compare-and-swap: never overwrites).  0 or -1.
 */
int gitx_create_orphan_branch(git_repository *repo, const char *author);

/* point refs/heads/a-sync at the commit refname names; 0 or -1 */
int gitx_branch_from(git_repository *repo, const char *refname);

/* a log file of a-sync as libgit2 sees it */
struct gitx_file {
	char *path;		/* "events.jsonl", "messages/<name>.jsonl" */
	git_oid blob;
	size_t size;
};

struct gitx_files {
	struct gitx_file *v;
	size_t nr, alloc;
	size_t skipped;		/* entries ignored: links, submodules, other
				 * names, nested trees, blobs over the cap */
};

#define GITX_FILES_INIT { NULL, 0, 0, 0 }
void gitx_files_release(struct gitx_files *f);
/* the entry for path, or NULL */
const struct gitx_file *gitx_files_find(const struct gitx_files *f,
					const char *path);

/*
 * Look up refname; 0 with *out set, THRUM_ENOTFOUND, or -1.
 */
int gitx_resolve(git_repository *repo, const char *refname, git_oid *out);

/*
 * The log files of commit's tree: events.jsonl, messages.jsonl and
 * messages/<valid-name>.jsonl, regular blobs of at most max_bytes.
 * Everything else is counted in out->skipped, never opened.  0 or -1.
 */
int gitx_log_files(git_repository *repo, const git_oid *commit,
		   size_t max_bytes, struct gitx_files *out);

/* read a blob into sb (replacing its content); 0 or -1 */
int gitx_blob_read(git_repository *repo, const git_oid *blob,
		   struct strbuf *sb);

/* write buf as a blob; 0 or -1 */
int gitx_blob_write(git_repository *repo, const char *buf, size_t len,
		    git_oid *out);

/*
 * Write the tree of files (paths as in struct gitx_file) and, unless its
 * tree equals the parent's, a commit of it with parent (NULL: a root
 * commit).  *made says whether a commit was made; *out is the new commit
 * or the parent.  0 or -1.
 */
int gitx_commit_files(git_repository *repo, const struct gitx_files *files,
		      const git_oid *parent, const char *message,
		      const char *author, git_oid *out, int *made);

/*
 * Move ref to new_id if it still points at old_id (NULL: must not exist).
 * 0, THRUM_ECONFLICT when it moved, or -1.
 */
int gitx_ref_cas(git_repository *repo, const char *ref, const git_oid *new_id,
		 const git_oid *old_id, const char *log_message);

/* commits of a not in b and of b not in a */
int gitx_ahead_behind(git_repository *repo, const git_oid *a,
		      const git_oid *b, size_t *ahead, size_t *behind);

#endif

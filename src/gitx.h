#ifndef THRUM_GITX_H
#define THRUM_GITX_H

/*
 * Object access for the sync engine: read the trees and blobs of a-sync,
 * write blobs, trees and commits, move refs by compare-and-swap.
 *
 * The work is done by libgit2, but libgit2 is not linked into git-thrum:
 * merely loading it (and its TLS and ssh libraries) costs ~2.5 ms at every
 * start, and git_libgit2_init() parses the system CA bundle, another
 * ~6 ms — more than `send` or an idle sync cycle may take in all.  So
 * src/gitx.c is built as a module, git-thrum-git2.so, that gitx-load.c
 * opens with dlopen() the first time one of the functions below that
 * needs it is called.  Commands that never touch objects never pay for it.
 *
 * This header does not include <git2.h>: callers see opaque handles and a
 * 20-byte object id.
 */

struct strbuf;

/* the branch everything lives on */
#define GITX_SYNC_BRANCH "a-sync"
#define GITX_SYNC_REF "refs/heads/a-sync"

#define GITX_OID_RAWSZ 20
#define GITX_OID_HEXSZ 40

/* an object id; the same bytes as libgit2's git_oid (SHA-1) */
struct gitx_oid {
	unsigned char id[GITX_OID_RAWSZ];
};

/* an open repository */
struct gitx_repo;

/*
 * Let libgit2 go until it is needed again: shut it down and unload the
 * module and the libraries it brought (the daemon does this after each
 * cycle, so an idle daemon holds none of them).  No gitx_repo may be
 * open.
 */
void gitx_unload(void);

/*
 * Load and initialise libgit2 now, without a repository (a busy daemon
 * does, so that the cycles it forks find it loaded); 0 or -1.  Whether
 * it is loaded: gitx_loaded().
 */
int gitx_preload(void);
int gitx_loaded(void);

/*
 * Open the repository whose git directory is git_dir; 0 or -1.  This is
 * the call that loads the module: one that cannot be loaded (missing,
 * not ours, from another build) is reported and -1 returned, never
 * fatal, and the next gitx_open() looks for it again.
 */
int gitx_open(struct gitx_repo **out, const char *git_dir);
void gitx_close(struct gitx_repo *repo);

/* does ref exist?  1, 0, or -1 on error */
int gitx_ref_exists(struct gitx_repo *repo, const char *ref);

/*
 * Create refs/heads/a-sync as an orphan: one commit of the empty tree, by
 * author ("Name <email>", or NULL for the default).  0 or -1.
 */
int gitx_create_orphan_branch(struct gitx_repo *repo, const char *author);

/* point refs/heads/a-sync at what refname points to; 0 or -1 */
int gitx_branch_from(struct gitx_repo *repo, const char *refname);

struct gitx_file {
	char *path;		/* "events.jsonl", "messages/<name>.jsonl" */
	struct gitx_oid blob;
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
/* binary search: f must be sorted by path (gitx_log_files() output is) */
const struct gitx_file *gitx_files_find(const struct gitx_files *f,
					const char *path);

/* the commit refname points to: 0, THRUM_ENOTFOUND, or -1 */
int gitx_resolve(struct gitx_repo *repo, const char *refname,
		 struct gitx_oid *out);

/*
 * Which entries of a tree are log files.  accept(path, payload) is asked
 * of each entry at the top ("events.jsonl"), of each tree there as a
 * directory ("messages/"), and of the entries of a directory it took
 * ("messages/alice.jsonl"); 1 takes the entry.  Deeper trees are never
 * read.  Blobs larger than max_bytes are not taken either.
 */
struct gitx_filter {
	int (*accept)(const char *path, void *payload);
	void *payload;
	size_t max_bytes;	/* SIZE_MAX: our own tree, no cap */
};

/*
 * The log files of a commit's tree, as a remote may have written it: the
 * regular blobs filter takes, no larger than its max_bytes (read from the
 * object header, never inflated to find out).  Everything else is
 * counted in out->skipped.  An entry whose path and blob are in trusted
 * (may be NULL) is taken without reading its header: a history of many
 * segments costs one look-up per file that changed, not per file.  out
 * is sorted by path; size is 0 for trusted entries.
 */
int gitx_log_files(struct gitx_repo *repo, const struct gitx_oid *commit,
		   const struct gitx_filter *filter,
		   const struct gitx_files *trusted, struct gitx_files *out);

/* a blob's content into sb (replacing it); 0 or -1 */
int gitx_blob_read(struct gitx_repo *repo, const struct gitx_oid *blob,
		   struct strbuf *sb);

/*
 * A blob's content without a copy: *buf and *len are valid until
 * gitx_blob_release(*out) (which takes NULL).  0 or -1.
 */
struct gitx_blob;
int gitx_blob_borrow(struct gitx_repo *repo, const struct gitx_oid *blob,
		     struct gitx_blob **out, const char **buf, size_t *len);
void gitx_blob_release(struct gitx_blob *blob);

/* write a blob; 0 or -1 */
int gitx_blob_write(struct gitx_repo *repo, const char *buf, size_t len,
		    struct gitx_oid *out);

/*
 * Commit the files (path + blob) on top of parent (or as a root commit):
 * *made is 0 and *out is parent when the tree would not change, or
 * current (the commit a-sync points to, may be NULL) when current is
 * that very commit already: the same tree on the same parent, made by a
 * cycle that could not push it.
 */
int gitx_commit_files(struct gitx_repo *repo, const struct gitx_files *files,
		      const struct gitx_oid *parent,
		      const struct gitx_oid *current, const char *message,
		      const char *author, struct gitx_oid *out, int *made);

/*
 * Move ref to new_id if it still points to old_id (or does not exist,
 * when old_id is NULL): 0, THRUM_ECONFLICT when it moved, or -1.
 */
int gitx_ref_cas(struct gitx_repo *repo, const char *ref,
		 const struct gitx_oid *new_id, const struct gitx_oid *old_id,
		 const char *log_message);

/* commits in a and not b, and in b and not a */
int gitx_ahead_behind(struct gitx_repo *repo, const struct gitx_oid *a,
		      const struct gitx_oid *b, size_t *ahead, size_t *behind);

/* helpers that need no library */
int gitx_oid_equal(const struct gitx_oid *a, const struct gitx_oid *b);
/* 40 hex digits and a NUL into out */
void gitx_oid_hex(const struct gitx_oid *id, char *out);
/* parse exactly 40 hex digits; 0 or -1 */
int gitx_oid_from_hex(struct gitx_oid *out, const char *hex);

#endif

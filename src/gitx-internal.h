#ifndef THRUM_GITX_INTERNAL_H
#define THRUM_GITX_INTERNAL_H

/*
 * What the libgit2 module (src/gitx.c, built as git-thrum-git2.so)
 * exports to gitx-load.c: one table, found with dlsym().  The module
 * resolves strbuf_*(), error() and the allocation wrappers against the
 * git-thrum binary that loads it (linked with -rdynamic), so there is one
 * copy of each.  The ABI number must match the binary's: a module from
 * another build is refused rather than called.
 */
#include "gitx.h"

#define GITX_OPS_SYMBOL "thrum_gitx_ops"

struct gitx_ops {
	unsigned abi;		/* GITX_ABI of the build */
	void (*shutdown)(void);
	int (*init)(void);
	int (*open)(struct gitx_repo **out, const char *git_dir);
	void (*close)(struct gitx_repo *repo);
	int (*ref_exists)(struct gitx_repo *repo, const char *ref);
	int (*create_orphan_branch)(struct gitx_repo *repo,
				    const char *author);
	int (*branch_from)(struct gitx_repo *repo, const char *refname);
	int (*resolve)(struct gitx_repo *repo, const char *refname,
		       struct gitx_oid *out);
	int (*log_files)(struct gitx_repo *repo, const struct gitx_oid *commit,
			 const struct gitx_filter *filter,
			 const struct gitx_files *trusted,
			 struct gitx_files *out);
	int (*blob_read)(struct gitx_repo *repo, const struct gitx_oid *blob,
			 struct strbuf *sb);
	int (*blob_borrow)(struct gitx_repo *repo, const struct gitx_oid *blob,
			   struct gitx_blob **out, const char **buf,
			   size_t *len);
	void (*blob_release)(struct gitx_blob *blob);
	int (*blob_write)(struct gitx_repo *repo, const char *buf, size_t len,
			  struct gitx_oid *out);
	int (*commit_files)(struct gitx_repo *repo,
			    const struct gitx_files *files,
			    const struct gitx_oid *parent,
			    const struct gitx_oid *current, const char *message,
			    const char *author, struct gitx_oid *out,
			    int *made);
	int (*ref_cas)(struct gitx_repo *repo, const char *ref,
		       const struct gitx_oid *new_id,
		       const struct gitx_oid *old_id, const char *log_message);
	int (*ahead_behind)(struct gitx_repo *repo, const struct gitx_oid *a,
			    const struct gitx_oid *b, size_t *ahead,
			    size_t *behind);
};

/* bump the first number when a function's meaning changes */
#define GITX_ABI (5u * 65536 + (unsigned)sizeof(struct gitx_ops))

#endif

#ifndef THRUM_GITX_MODULE_H
#define THRUM_GITX_MODULE_H

/*
 * What the files of the libgit2 module (gitx.c, gitx-commit.c) share;
 * nothing outside the module includes this header, which needs
 * <git2.h>.
 */

/* error("<what>: <libgit2's last error>"); returns -1 */
int gitx_error(const char *what);

/*
 * The tree and first parent of commit id, from the raw object, leniently
 * (see gitx-commit.c).  parent may be NULL; *has_parent (may be NULL)
 * says whether there was one.  0, or -1 with libgit2's error set.
 */
int gitx_read_commit(git_repository *repo, const git_oid *id, git_oid *tree,
		     git_oid *parent, int *has_parent);

/*
 * Commits reachable from a and not b (*ahead) and the reverse, counted
 * as git_graph_ahead_behind() counts them but from the raw parent and
 * committer lines (see gitx-commit.c).  0, or -1 with libgit2's error
 * set.
 */
int gitx_lenient_ahead_behind(git_repository *repo, const git_oid *a,
			      const git_oid *b, size_t *ahead, size_t *behind);

#endif

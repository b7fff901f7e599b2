#ifndef THRUM_GITX_H
#define THRUM_GITX_H

/*
 * libgit2 glue: lazy library initialisation (it costs milliseconds, so
 * commands that never touch objects never pay it), repository opening,
 * and error reporting.  Objects returned are owned by the caller and freed
 * with their git_*_free().
 */
#include <git2.h>

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

#endif

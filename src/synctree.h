#ifndef THRUM_SYNCTREE_H
#define THRUM_SYNCTREE_H

/*
 * The sync work tree: a linked, sparse work tree of branch a-sync at
 * <git-common-dir>/thrum-sync/a-sync (technical/architecture.adoc), made and
 * repaired with the git command (libgit2 1.5 has no sparse checkout), always
 * with hooks disabled so the user's hooks never see our checkouts.
 */
struct repo;
struct strbuf;

/*
 * The 4-point health check: .git is a file; git lists the work tree (its
 * administrative directory points back at it); HEAD is a-sync; the sparse
 * patterns are present.  Returns 0 when healthy, else the number (1-4) of
 * the first failed check with a reason appended to why (may be NULL).
 */
int synctree_health(const struct repo *r, struct strbuf *why);

/* the sync work tree's own git directory (caller frees), or NULL */
char *synctree_git_dir(const struct repo *r);

/*
 * Make the sync work tree for the existing branch a-sync.  The directory
 * must not exist.  0 or -1 (git's own message is on stderr).
 */
int synctree_create(const struct repo *r);

/*
 * Rebuild a missing or broken sync work tree without losing events: the
 * log lines found in the old directory that the branch does not hold are
 * appended again after the checkout.  0 or -1.
 */
int synctree_repair(const struct repo *r);

#endif

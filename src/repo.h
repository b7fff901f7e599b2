#ifndef THRUM_REPO_H
#define THRUM_REPO_H

/*
 * Where things are.  repo_discover() finds the user's work tree the way
 * git does (GIT_DIR / GIT_WORK_TREE, else walking up to a ".git" directory
 * or gitfile) without libgit2 and without running git, because every
 * command needs it and both cost milliseconds.  All paths are absolute and
 * owned by the struct until repo_release().
 */
struct repo {
	char *worktree;		/* top of the user's work tree */
	char *git_dir;		/* this work tree's git directory */
	char *common_dir;	/* shared by all work trees */
	char *local_thrum_dir;	/* <worktree>/.thrum: identities live here */
	char *thrum_dir;	/* the shared .thrum (after the redirect) */
	char *var_dir;		/* <thrum_dir>/var */
	char *sync_dir;		/* <common_dir>/thrum-sync/a-sync */
};

/* in a linked work tree's git directory: the absolute path of the shared .thrum */
#define REPO_REDIRECT_FILE "thrum-redirect"

#define REPO_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL }

/*
 * Fill r for the current directory.  Returns 0; THRUM_ENOTFOUND when not
 * inside a git repository; THRUM_EINVALID for a bare repository or a
 * broken .git file or redirect (reported through error()).
 */
int repo_discover(struct repo *r);
void repo_release(struct repo *r);

/* 1 when `git thrum init` has run here (.thrum/var exists) */
int repo_is_initialised(const struct repo *r);

/* "<dir>/<name>" as a new string */
char *path_join(const char *dir, const char *name);

/*
 * The object id a ref points to, as 40 hex digits into hex (41 bytes),
 * read from its loose file or packed-refs without libgit2 or a child
 * process (a sync cycle with nothing to do must cost little more than its
 * fetch).  0, THRUM_ENOTFOUND, or -1 when the ref is something this simple
 * reader does not follow (a symbolic ref): callers then ask libgit2.
 */
int repo_read_ref(const struct repo *r, const char *refname, char *hex);

/*
 * The refs directly under prefix ("refs/thrum/remotes/origin/"), read
 * from the files as repo_read_ref() does: fn(name after the prefix, its
 * length, its 40 hex digits, payload) for each packed one, then for each
 * loose one, whose value replaces a packed one's.  A loose entry that is
 * no ref (a directory, a lock being written) is given with hex NULL.
 */
int repo_for_each_ref(const struct repo *r, const char *prefix,
		      void (*fn)(const char *name, size_t len,
				 const char *hex, void *payload),
		      void *payload);

#endif

#ifndef THRUM_HOOKS_H
#define THRUM_HOOKS_H

/*
 * Installing the hook dispatchers of hooks/ (git-thrum(1), HOOKS) into the
 * effective hooks directory, chaining the user's own hooks, and removing
 * them again so that the user's hooks come back byte for byte.
 */
struct repo;
struct thrum_config;
struct strbuf;

struct hook_script {
	const char *name;
	const char *text;	/* with @ORIG@ where the chained hook goes */
};

/* the scripts of hooks/, built in (hook-scripts.c); NULL-terminated */
extern const struct hook_script hook_scripts[];

/* the line that marks a hook file as ours */
#define HOOKS_MARKER "# git-thrum hook"

/*
 * Install (or update) our hooks.  When core.hooksPath names a directory
 * inside the work tree (husky, pre-commit), it is left untouched: a
 * thrum-owned directory takes its place and forwards to it.  Adds the
 * a-sync fetch refspec when the remote's refspecs do not cover it.
 * 0, or -1 after error().
 */
int hooks_install(const struct repo *r, const struct thrum_config *cfg);

/* remove ours, put the user's back; 0 or -1 */
int hooks_uninstall(const struct repo *r);

enum hook_state_kind {
	HOOK_INSTALLED,
	HOOK_MISSING,
	HOOK_REPLACED,		/* another hook of that name */
	HOOK_NOT_WANTED,	/* thrum.fetchHook=false */
};

struct hook_state {
	const char *name;	/* static */
	enum hook_state_kind state;
	char *path;		/* where git runs it */
	char *chains_to;	/* the user's hook ours runs first, or NULL */
};

#define HOOKS_MAX 4
struct hooks_report {
	struct hook_state v[HOOKS_MAX];
	size_t nr;
	char *hooks_path_reset;	/* core.hooksPath another tool set, or NULL */
	int bad;		/* hooks not as installed */
};

/*
 * What is installed, hook by hook; returns rep->bad.  Release with
 * hooks_report_release().
 */
int hooks_inspect(const struct repo *r, const struct thrum_config *cfg,
		  struct hooks_report *rep);
void hooks_report_release(struct hooks_report *rep);
/* "installed", "missing", "replaced", "not-wanted" */
const char *hook_state_name(enum hook_state_kind k);

/*
 * One line per hook into out: "<name>: <state>".  Returns the number of
 * hooks that are not as installed (0: all good), or -1.
 */
int hooks_status(const struct repo *r, const struct thrum_config *cfg,
		 struct strbuf *out);

#endif

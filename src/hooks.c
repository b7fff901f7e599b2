/*
 * hooks.c: our hooks in the user's repository.
 *
 * Two layouts.  Usually the effective hooks directory (`git rev-parse
 * --git-path hooks`) is ours to write: an existing hook is renamed
 * <hook>.thrum-orig and called first by our dispatcher.  When
 * core.hooksPath points into the work tree (a tracked directory managed by
 * husky or pre-commit), we never write there: <git-common-dir>/thrum-hooks
 * becomes core.hooksPath, with a forwarder for each of the user's hooks,
 * and the old value is kept in thrum.hooksPathOrig for uninstall.
 * Invariant: a file is only ever replaced or removed when it carries our
 * marker; the user's hooks are only ever renamed, never rewritten.
 */
#include "thrum.h"
#include "hooks.h"
#include "config.h"
#include "lockfile.h"
#include "repo.h"
#include "run-command.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

#define ORIG_SUFFIX ".thrum-orig"

static int trimmed(int ret, struct strbuf *out)
{
	if (out)
		strbuf_trim(out);
	return ret;
}

/* run git in the work tree, quietly; its output trimmed into out */
#define git_out(r, out, ...) \
	trimmed(run_git((r)->worktree, RUN_GIT_QUIET, (out), __VA_ARGS__), \
		(out))

static int is_ours(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int ours;

	sb.max = 1 << 20;
	ours = strbuf_read_file(&sb, path, 0) >= 0 &&
	       strstr(sb.buf, HOOKS_MARKER) != NULL;
	strbuf_release(&sb);
	return ours;
}

static char *absolute(const struct repo *r, const char *path)
{
	return path[0] == '/' ? xstrdup(path) : path_join(r->worktree, path);
}

/* the directory git runs hooks from, as it stands */
static char *effective_dir(const struct repo *r)
{
	struct strbuf out = STRBUF_INIT;
	char *dir;

	if (git_out(r, &out, "rev-parse", "--git-path", "hooks", NULL) ||
	    !out.len)
		dir = path_join(r->common_dir, "hooks");
	else
		dir = absolute(r, out.buf);
	strbuf_release(&out);
	return dir;
}

static char *own_dir(const struct repo *r)
{
	return path_join(r->common_dir, "thrum-hooks");
}

/*
 * The tracked hooks directory core.hooksPath points at, or NULL when
 * core.hooksPath is unset or points outside the work tree.
 */
static char *tracked_dir(const struct repo *r)
{
	struct strbuf val = STRBUF_INIT, files = STRBUF_INIT;
	char *dir = NULL, *real = NULL, *mine = own_dir(r);
	size_t n = strlen(r->worktree);

	if (!git_out(r, &val, "config", "thrum.hooksPathOrig", NULL) &&
	    val.len) {
		dir = absolute(r, val.buf);	/* installed already */
		goto out;
	}
	strbuf_reset(&val);
	if (git_out(r, &val, "config", "core.hooksPath", NULL) || !val.len)
		goto out;
	dir = absolute(r, val.buf);
	real = realpath(dir, NULL);
	if (!real || strncmp(real, r->worktree, n) || real[n] != '/' ||
	    !strcmp(real, mine) ||
	    git_out(r, &files, "ls-files", "--", real, NULL) || !files.len) {
		free(dir);
		dir = NULL;
	}
out:
	free(real);
	free(mine);
	strbuf_release(&val);
	strbuf_release(&files);
	return dir;
}

/* 'text' quoted for sh */
static void sq_quote(struct strbuf *sb, const char *text)
{
	strbuf_addch(sb, '\'');
	for (; *text; text++) {
		if (*text == '\'')
			strbuf_addstr(sb, "'\\''");
		else
			strbuf_addch(sb, *text);
	}
	strbuf_addch(sb, '\'');
}

/* the script with @ORIG@ replaced by the chained hook's path */
static void render(struct strbuf *out, const char *text, const char *orig)
{
	const char *at = strstr(text, "@ORIG@");

	strbuf_add(out, text, at - text);
	if (orig)
		sq_quote(out, orig);
	else
		strbuf_addstr(out, "\"$0" ORIG_SUFFIX "\"");
	strbuf_addstr(out, at + 6);
}

static int write_hook(const char *path, const struct strbuf *text)
{
	return write_file_atomic(path, text->buf, text->len, 0755);
}

static int wanted(const struct hook_script *h, const struct thrum_config *cfg)
{
	return cfg->fetch_hook || strcmp(h->name, "reference-transaction");
}

static int install_direct(const char *dir, const struct thrum_config *cfg)
{
	const struct hook_script *h;
	int ret = 0;

	if (mkdir_p(dir, 0755) < 0)
		return error_errno("cannot create '%s'", dir);
	for (h = hook_scripts; h->name && !ret; h++) {
		char *path = path_join(dir, h->name);
		struct strbuf orig = STRBUF_INIT, text = STRBUF_INIT;

		strbuf_addf(&orig, "%s%s", path, ORIG_SUFFIX);
		if (!wanted(h, cfg)) {
			/* nothing */
		} else if (!access(path, F_OK) && !is_ours(path) &&
			   !access(orig.buf, F_OK)) {
			ret = error("cannot chain '%s': '%s' exists already",
				    path, orig.buf);
		} else if (!access(path, F_OK) && !is_ours(path) &&
			   rename(path, orig.buf) < 0) {
			ret = error_errno("cannot move '%s' aside", path);
		} else {
			render(&text, h->text, NULL);
			ret = write_hook(path, &text);
		}
		strbuf_release(&orig);
		strbuf_release(&text);
		free(path);
	}
	return ret;
}

static int install_own_dir(const struct repo *r, const char *tracked,
			   const struct thrum_config *cfg)
{
	char *dir = own_dir(r);
	const struct hook_script *h;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (mkdir_p(dir, 0755) < 0) {
		ret = error_errno("cannot create '%s'", dir);
		goto out;
	}
	/* a forwarder for each of the user's hooks */
	d = opendir(tracked);
	while (d && (de = readdir(d)) && !ret) {
		char *src = path_join(tracked, de->d_name);
		char *dst = path_join(dir, de->d_name);
		struct strbuf text = STRBUF_INIT;
		struct stat st;
		int mine = 0;

		for (h = hook_scripts; h->name; h++)
			mine |= !strcmp(h->name, de->d_name);
		if (!mine && de->d_name[0] != '.' && !stat(src, &st) &&
		    S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
			strbuf_addstr(&text, "#!/bin/sh\n" HOOKS_MARKER
				      ": forwards to the tracked hook\nexec ");
			sq_quote(&text, src);
			strbuf_addstr(&text, " \"$@\"\n");
			ret = write_hook(dst, &text);
		}
		strbuf_release(&text);
		free(src);
		free(dst);
	}
	if (d)
		closedir(d);
	for (h = hook_scripts; h->name && !ret; h++) {
		char *src = path_join(tracked, h->name);
		char *dst = path_join(dir, h->name);
		struct strbuf text = STRBUF_INIT;

		if (wanted(h, cfg)) {
			render(&text, h->text, src);
			ret = write_hook(dst, &text);
		}
		strbuf_release(&text);
		free(src);
		free(dst);
	}
	if (!ret) {
		struct strbuf val = STRBUF_INIT;

		if (git_out(r, &val, "config", "thrum.hooksPathOrig", NULL) ||
		    !val.len) {
			strbuf_reset(&val);
			git_out(r, &val, "config", "core.hooksPath", NULL);
			if (git_out(r, NULL, "config", "thrum.hooksPathOrig",
				    val.buf, NULL))
				ret = error("cannot record core.hooksPath");
		}
		if (!ret && git_out(r, NULL, "config", "core.hooksPath", dir,
				    NULL))
			ret = error("cannot set core.hooksPath");
		strbuf_release(&val);
	}
out:
	free(dir);
	return ret;
}

/* make sure a plain `git fetch` brings a-sync (--single-branch clones) */
static void ensure_refspec(const struct repo *r, const char *remote)
{
	struct strbuf key = STRBUF_INIT, out = STRBUF_INIT;
	const char *p;
	int covered = 0;

	strbuf_addf(&key, "remote.%s.fetch", remote);
	if (git_out(r, &out, "config", "--get-all", key.buf, NULL))
		goto out;	/* no such remote: nothing to cover */
	for (p = out.buf; *p; ) {
		size_t n = strcspn(p, "\n");
		const char *src = *p == '+' ? p + 1 : p;
		size_t len = strcspn(src, ":\n");

		if ((len == 12 && !strncmp(src, "refs/heads/*", 12)) ||
		    (len == 17 && !strncmp(src, "refs/heads/a-sync", 17)))
			covered = 1;
		p += n + (p[n] == '\n');
	}
	if (!covered) {
		struct strbuf spec = STRBUF_INIT;

		strbuf_addf(&spec, "+refs/heads/a-sync:refs/remotes/%s/a-sync",
			    remote);
		git_out(r, NULL, "config", "--add", key.buf, spec.buf, NULL);
		strbuf_release(&spec);
	}
out:
	strbuf_release(&key);
	strbuf_release(&out);
}

int hooks_install(const struct repo *r, const struct thrum_config *cfg)
{
	char *tracked = tracked_dir(r), *dir;
	int ret;

	if (tracked) {
		ret = install_own_dir(r, tracked, cfg);
	} else {
		dir = effective_dir(r);
		ret = install_direct(dir, cfg);
		free(dir);
	}
	free(tracked);
	if (!ret)
		ensure_refspec(r, cfg->remote);
	return ret;
}

static int uninstall_dir(const char *dir, int restore_orig)
{
	const struct hook_script *h;
	int ret = 0;

	for (h = hook_scripts; h->name; h++) {
		char *path = path_join(dir, h->name);
		struct strbuf orig = STRBUF_INIT;

		strbuf_addf(&orig, "%s%s", path, ORIG_SUFFIX);
		if (!access(path, F_OK) && is_ours(path) && unlink(path) < 0)
			ret = error_errno("cannot remove '%s'", path);
		else if (restore_orig && !access(orig.buf, F_OK) &&
			 access(path, F_OK) && rename(orig.buf, path) < 0)
			ret = error_errno("cannot restore '%s'", path);
		strbuf_release(&orig);
		free(path);
	}
	return ret;
}

int hooks_uninstall(const struct repo *r)
{
	struct strbuf val = STRBUF_INIT;
	char *dir;
	int ret;

	if (!git_out(r, &val, "config", "thrum.hooksPathOrig", NULL) &&
	    val.len) {
		DIR *d;
		struct dirent *de;

		dir = own_dir(r);
		ret = git_out(r, NULL, "config", "core.hooksPath", val.buf,
			      NULL) ? error("cannot restore core.hooksPath") : 0;
		if (!ret)
			git_out(r, NULL, "config", "--unset",
				"thrum.hooksPathOrig", NULL);
		d = opendir(dir);
		while (d && (de = readdir(d))) {
			char *p = path_join(dir, de->d_name);

			if (de->d_name[0] != '.' && is_ours(p))
				unlink(p);
			free(p);
		}
		if (d)
			closedir(d);
		rmdir(dir);
	} else {
		dir = effective_dir(r);
		ret = uninstall_dir(dir, 1);
	}
	free(dir);
	strbuf_release(&val);
	return ret;
}

void hooks_report_release(struct hooks_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nr; i++) {
		free(rep->v[i].path);
		free(rep->v[i].chains_to);
	}
	free(rep->hooks_path_reset);
	memset(rep, 0, sizeof(*rep));
}

int hooks_inspect(const struct repo *r, const struct thrum_config *cfg,
		  struct hooks_report *rep)
{
	char *tracked = tracked_dir(r);
	char *dir = tracked ? own_dir(r) : effective_dir(r);
	struct strbuf hp = STRBUF_INIT;
	const struct hook_script *h;

	memset(rep, 0, sizeof(*rep));
	/* an own directory that is no longer core.hooksPath: reset */
	if (tracked) {
		char *real;

		git_out(r, &hp, "config", "core.hooksPath", NULL);
		real = hp.len ? realpath(hp.buf, NULL) : NULL;
		if (!real || strcmp(real, dir)) {
			rep->hooks_path_reset = xstrdup(hp.buf);
			rep->bad++;
		}
		free(real);
	}
	for (h = hook_scripts; h->name && rep->nr < HOOKS_MAX; h++) {
		struct hook_state *st = &rep->v[rep->nr++];
		struct strbuf orig = STRBUF_INIT;

		st->name = h->name;
		st->path = path_join(dir, h->name);
		if (tracked)
			strbuf_addf(&orig, "%s/%s", tracked, h->name);
		else
			strbuf_addf(&orig, "%s%s", st->path, ORIG_SUFFIX);
		if (!wanted(h, cfg)) {
			st->state = HOOK_NOT_WANTED;
		} else if (access(st->path, F_OK)) {
			st->state = HOOK_MISSING;
			rep->bad++;
		} else if (!is_ours(st->path)) {
			st->state = HOOK_REPLACED;
			rep->bad++;
		} else {
			st->state = HOOK_INSTALLED;
			if (!access(orig.buf, X_OK))
				st->chains_to = strbuf_detach(&orig, NULL);
		}
		strbuf_release(&orig);
	}
	strbuf_release(&hp);
	free(tracked);
	free(dir);
	return rep->bad;
}

const char *hook_state_name(enum hook_state_kind k)
{
	static const char *const names[] = {
		[HOOK_INSTALLED] = "installed",
		[HOOK_MISSING] = "missing",
		[HOOK_REPLACED] = "replaced",
		[HOOK_NOT_WANTED] = "not-wanted",
	};
	return names[k];
}

int hooks_status(const struct repo *r, const struct thrum_config *cfg,
		 struct strbuf *out)
{
	struct hooks_report rep;
	size_t i;
	int bad = hooks_inspect(r, cfg, &rep);

	if (rep.hooks_path_reset)
		strbuf_addf(out, "core.hooksPath: reset to '%s' (run "
			    "'git thrum hooks install')\n",
			    rep.hooks_path_reset);
	for (i = 0; i < rep.nr; i++) {
		const struct hook_state *st = &rep.v[i];

		strbuf_addf(out, "%s: ", st->name);
		switch (st->state) {
		case HOOK_NOT_WANTED:
			strbuf_addstr(out, "not wanted (thrum.fetchHook)");
			break;
		case HOOK_MISSING:
			strbuf_addstr(out, "missing");
			break;
		case HOOK_REPLACED:
			strbuf_addstr(out, "replaced by another hook");
			break;
		case HOOK_INSTALLED:
			strbuf_addstr(out, "installed");
			if (st->chains_to)
				strbuf_addf(out, ", chains to '%s'",
					    st->chains_to);
			break;
		}
		strbuf_addf(out, " (%s)\n", st->path);
	}
	hooks_report_release(&rep);
	return bad;
}

/*
 * repo.c: discovery of the work tree, git directories and thrum
 * directories.  Follows gitrepository-layout(5): a ".git" directory, or a
 * ".git" file holding "gitdir: <path>", whose "commondir" file (if any)
 * names the directory shared by linked work trees.  A linked work tree's
 * redirect (<git-dir>/thrum-redirect) is followed one hop only, so every
 * work tree of a repository shares one database and daemon while keeping
 * its own identities.
 */
#include "thrum.h"
#include "repo.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

char *path_join(const char *dir, const char *name)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, dir);
	if (sb.len && sb.buf[sb.len - 1] != '/')
		strbuf_addch(&sb, '/');
	strbuf_addstr(&sb, name);
	return strbuf_detach(&sb, NULL);
}

static int is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static int is_git_dir(const char *path)
{
	char *head = path_join(path, "HEAD");
	char *objects = path_join(path, "objects");
	char *commondir = path_join(path, "commondir");
	int ok;

	ok = !access(head, F_OK) &&
	     (is_dir(objects) || !access(commondir, F_OK));
	free(head);
	free(objects);
	free(commondir);
	return ok;
}

/* the first line of a small file, trimmed; NULL when unreadable */
static char *read_line_file(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	sb.max = PATH_MAX + 64;
	if (strbuf_read_file(&sb, path, 256) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	if (memchr(sb.buf, '\n', sb.len))
		strbuf_setlen(&sb, (char *)memchr(sb.buf, '\n', sb.len) - sb.buf);
	strbuf_trim(&sb);
	return strbuf_detach(&sb, NULL);
}

/* path made absolute against base, then canonicalised; NULL if missing */
static char *resolve(const char *base, const char *path)
{
	char *joined = path[0] == '/' ? xstrdup(path) : path_join(base, path);
	char *real = realpath(joined, NULL);

	free(joined);
	return real;
}

static int read_gitfile(const char *dotgit, const char *dir, char **out)
{
	char *line = read_line_file(dotgit);

	if (!line || strncmp(line, "gitdir: ", 8)) {
		free(line);
		return error("invalid gitfile format: %s", dotgit);
	}
	*out = resolve(dir, line + 8);
	if (!*out || !is_git_dir(*out)) {
		error("not a git repository: %s", line + 8);
		free(line);
		free(*out);
		*out = NULL;
		return THRUM_EINVALID;
	}
	free(line);
	return 0;
}

/*
 * GIT_CEILING_DIRECTORIES: a colon-separated list of absolute paths that
 * discovery must not step into from below (the start directory itself is
 * always looked at).  Is the parent of cwd (cwd cut at slash) one?
 */
static int at_ceiling(const char *cwd, const char *slash)
{
	const char *list = getenv("GIT_CEILING_DIRECTORIES");
	size_t plen = slash == cwd ? 1 : (size_t)(slash - cwd);
	int hit = 0;

	while (list && *list && !hit) {
		const char *colon = strchr(list, ':');
		size_t n = colon ? (size_t)(colon - list) : strlen(list);
		char *entry = xstrndup(list, n), *real;

		while (n > 1 && entry[n - 1] == '/')
			entry[--n] = '\0';
		real = entry[0] == '/' ? realpath(entry, NULL) : NULL;
		if (real)
			hit = strlen(real) == plen && !strncmp(real, cwd, plen);
		free(real);
		free(entry);
		list = colon ? colon + 1 : NULL;
	}
	return hit;
}

static int find_git_dir(struct repo *r)
{
	const char *env_dir = getenv("GIT_DIR");
	char *cwd = getcwd(NULL, 0), *p;

	if (!cwd)
		return error_errno("cannot get the current directory");
	if (env_dir && *env_dir) {
		const char *wt = getenv("GIT_WORK_TREE");

		r->git_dir = resolve(cwd, env_dir);
		r->worktree = wt && *wt ? resolve(cwd, wt) : xstrdup(cwd);
		free(cwd);
		if (!r->git_dir || !r->worktree || !is_git_dir(r->git_dir))
			return error("not a git repository: '%s'", env_dir);
		return 0;
	}
	for (p = cwd + strlen(cwd); ; ) {
		char *dotgit;
		struct stat st;

		*p = '\0';
		dotgit = path_join(*cwd ? cwd : "/", ".git");
		if (!lstat(dotgit, &st) && S_ISDIR(st.st_mode) &&
		    is_git_dir(dotgit)) {
			r->git_dir = realpath(dotgit, NULL);
			r->worktree = xstrdup(*cwd ? cwd : "/");
		} else if (!lstat(dotgit, &st) && S_ISREG(st.st_mode)) {
			int ret = read_gitfile(dotgit, *cwd ? cwd : "/",
					       &r->git_dir);

			if (ret < 0) {
				free(dotgit);
				free(cwd);
				return ret;
			}
			r->worktree = xstrdup(*cwd ? cwd : "/");
		} else if (is_git_dir(*cwd ? cwd : "/")) {
			free(dotgit);
			free(cwd);
			return error("this operation must be run in a work tree");
		}
		free(dotgit);
		if (r->git_dir)
			break;
		p = strrchr(cwd, '/');
		if (p && at_ceiling(cwd, p)) {
			free(cwd);
			return THRUM_ENOTFOUND;
		}
		if (!p || (p == cwd && !cwd[1])) {
			free(cwd);
			return THRUM_ENOTFOUND;
		}
		if (p == cwd)
			p++;	/* try "/" itself next */
	}
	free(cwd);
	return 0;
}

/*
 * A linked work tree shares the main work tree's .thrum through a
 * redirect kept in its own git directory (<git-dir>/thrum-redirect),
 * never in the work tree: a file there may be tracked, and a project must
 * not be able to move anybody's database by committing one.  A
 * .thrum/redirect left in the work tree (written by older versions, or
 * checked out) is not read.
 */
static int find_thrum_dir(struct repo *r)
{
	char *redirect = path_join(r->git_dir, REPO_REDIRECT_FILE);
	char *legacy = path_join(r->local_thrum_dir, "redirect");
	char *target;

	if (access(redirect, F_OK)) {
		if (!access(legacy, F_OK))
			warning("ignoring '%s': thrum reads no redirect from the "
				"work tree; run 'git thrum init' here to share "
				"the main work tree's thrum", legacy);
		free(legacy);
		free(redirect);
		r->thrum_dir = xstrdup(r->local_thrum_dir);
		return 0;
	}
	free(legacy);
	target = read_line_file(redirect);
	if (!target || target[0] != '/') {
		error("invalid redirect in '%s': want an absolute path",
		      redirect);
		goto fail;
	}
	r->thrum_dir = realpath(target, NULL);
	if (!r->thrum_dir || !is_dir(r->thrum_dir)) {
		error("redirect in '%s' names a missing directory '%s'",
		      redirect, target);
		goto fail;
	}
	{
		char *again = path_join(r->thrum_dir, "redirect");
		char *self = realpath(r->local_thrum_dir, NULL);
		int chained = !access(again, F_OK);
		int loop = (self && !strcmp(self, r->thrum_dir)) ||
			   !strcmp(r->local_thrum_dir, r->thrum_dir);

		free(again);
		free(self);
		if (chained || loop) {
			error("redirect in '%s' points at another redirect or "
			      "at itself", redirect);
			goto fail;
		}
	}
	free(target);
	free(redirect);
	return 0;
fail:
	free(target);
	free(redirect);
	free(r->thrum_dir);
	r->thrum_dir = NULL;
	return THRUM_EINVALID;
}

int repo_discover(struct repo *r)
{
	char *commondir;
	char *line;
	int ret;

	if ((ret = find_git_dir(r)) < 0)
		goto fail;
	commondir = path_join(r->git_dir, "commondir");
	line = read_line_file(commondir);
	free(commondir);
	r->common_dir = line ? resolve(r->git_dir, line) : xstrdup(r->git_dir);
	free(line);
	if (!r->common_dir) {
		ret = error("cannot find the common git directory of '%s'",
			    r->git_dir);
		goto fail;
	}
	r->local_thrum_dir = path_join(r->worktree, ".thrum");
	if ((ret = find_thrum_dir(r)) < 0)
		goto fail;
	r->var_dir = path_join(r->thrum_dir, "var");
	r->sync_dir = path_join(r->common_dir, "thrum-sync/a-sync");
	return 0;
fail:
	repo_release(r);
	return ret < 0 ? ret : -1;
}

void repo_release(struct repo *r)
{
	free(r->worktree);
	free(r->git_dir);
	free(r->common_dir);
	free(r->local_thrum_dir);
	free(r->thrum_dir);
	free(r->var_dir);
	free(r->sync_dir);
	memset(r, 0, sizeof(*r));
}

int repo_is_initialised(const struct repo *r)
{
	/* a missing sync work tree is broken, not uninitialised */
	return is_dir(r->thrum_dir) && is_dir(r->var_dir);
}

static int is_hex40(const char *p, size_t len)
{
	size_t i;

	if (len < 40)
		return 0;
	for (i = 0; i < 40; i++)
		if (!isxdigit((unsigned char)p[i]))
			return 0;
	return len == 40 || p[40] == '\n' || p[40] == ' ';
}

int repo_read_ref(const struct repo *r, const char *refname, char *hex)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = path_join(r->common_dir, refname);
	const char *p, *end;
	size_t nlen = strlen(refname);
	int ret = THRUM_ENOTFOUND;

	if (strbuf_read_file(&sb, path, 64) >= 0) {
		if (is_hex40(sb.buf, sb.len)) {
			memcpy(hex, sb.buf, 40);
			hex[40] = '\0';
			ret = 0;
		} else {
			ret = -1;	/* "ref: ...", or being written */
		}
		goto out;
	}
	free(path);
	path = path_join(r->common_dir, "packed-refs");
	strbuf_reset(&sb);
	if (strbuf_read_file(&sb, path, 0) < 0)
		goto out;
	/* "<hex> <refname>\n" lines; '#' and '^' lines carry no ref */
	for (p = sb.buf; p < sb.buf + sb.len; p = end + 1) {
		end = memchr(p, '\n', sb.buf + sb.len - p);
		if (!end)
			end = sb.buf + sb.len;
		if (end - p == (ptrdiff_t)(41 + nlen) && p[40] == ' ' &&
		    !memcmp(p + 41, refname, nlen) && is_hex40(p, 41)) {
			memcpy(hex, p, 40);
			hex[40] = '\0';
			ret = 0;
			break;
		}
	}
out:
	free(path);
	strbuf_release(&sb);
	return ret;
}

int repo_for_each_ref(const struct repo *r, const char *prefix,
		      void (*fn)(const char *name, size_t len,
				 const char *hex, void *payload),
		      void *payload)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = path_join(r->common_dir, "packed-refs");
	size_t plen = strlen(prefix);
	const char *p, *end;
	struct dirent *de;
	DIR *d;

	/* packed first: a loose ref, given after, replaces its value */
	if (strbuf_read_file(&sb, path, 0) < 0)
		strbuf_reset(&sb);
	for (p = sb.buf; p < sb.buf + sb.len; p = end + 1) {
		char hex[41];

		end = memchr(p, '\n', sb.buf + sb.len - p);
		if (!end)
			end = sb.buf + sb.len;
		if (end - p <= (ptrdiff_t)(41 + plen) || !is_hex40(p, 41) ||
		    memcmp(p + 41, prefix, plen))
			continue;
		memcpy(hex, p, 40);
		hex[40] = '\0';
		fn(p + 41 + plen, end - p - 41 - plen, hex, payload);
	}
	free(path);
	path = path_join(r->common_dir, prefix);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		char hex[41];
		char *ref;

		if (de->d_name[0] == '.')
			continue;
		ref = xstrfmt("%s%s", prefix, de->d_name);
		fn(de->d_name, strlen(de->d_name),
		   repo_read_ref(r, ref, hex) ? NULL : hex, payload);
		free(ref);
	}
	if (d)
		closedir(d);
	free(path);
	strbuf_release(&sb);
	return 0;
}

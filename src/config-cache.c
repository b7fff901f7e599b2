/*
 * config-cache.c: the thrum.* entries of git's configuration, kept in
 * var/config-cache so that a command starts no `git config` child (1 to
 * 1.5 ms, the most a `sync force` of an idle clone spends above its
 * fetch) while nothing that child would read has changed.  We never parse
 * git's files: git reads them, and the cache only remembers its answer
 * together with everything the answer depends on.
 *
 * The rule: a cached answer is used only when every input of the child
 * that produced it is the same now.  The inputs are
 *
 *  - the environment the child inherits, by value: every GIT_* variable
 *    (GIT_DIR, GIT_CONFIG_GLOBAL, GIT_CONFIG_NOSYSTEM, ...), HOME,
 *    XDG_CONFIG_HOME and PATH; `git -c` (GIT_CONFIG_PARAMETERS,
 *    GIT_CONFIG_COUNT) and GIT_CONFIG turn the cache off;
 *  - where it runs and as whom: the work tree, this work tree's and the
 *    common git directory, our uid, and the owner and mode of those
 *    three directories (git ignores a repository's configuration when
 *    it is not ours: safe.directory);
 *  - every file it read or might have read, by stat (device, inode,
 *    mode, owner, size, mtime and ctime to the nanosecond; or how stat
 *    failed; for a directory, which git does not read, only the first
 *    four): the system file, the global and XDG files, the
 *    repository's config and config.worktree, the work tree's .git,
 *    HEAD (includeIf "onbranch:"), `git` itself on PATH, every file an
 *    entry came from (--show-origin), and the target of every
 *    include.path and includeIf.<condition>.path, whether its condition
 *    held or not: a condition can only change through an input above
 *    (gitdir: the paths; onbranch: HEAD; hasconfig: the files), and a
 *    target that was not read cannot matter until one does.
 *
 * An include whose path we cannot place exactly as git does (~user,
 * %(prefix), an origin that is not a file) leaves nothing cached.  A
 * file changed in the clock tick of our stat could still look the same,
 * so nothing is cached while any input file changed less than
 * CONFIG_CACHE_SETTLE_MS before the child started: every later change
 * gives a later ctime, which no program can set back (only the clock
 * can).  A file the answer came from must be there when we look: one
 * removed meanwhile leaves nothing cached either.  The system file is
 * git's default place, /etc/gitconfig, or GIT_CONFIG_SYSTEM.
 */
#include "thrum.h"
#include <json-c/json.h>
#include "config-cache.h"
#include "lockfile.h"
#include "repo.h"
#include "run-command.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

extern char **environ;

#define CACHE_FILE "config-cache"
#define CACHE_VERSION 2
#define CACHE_MAX_BYTES (1 << 20)

/* one input: a file, or a directory (who owns it) */
struct input {
	unsigned must_exist:1;
	char *path;
};

struct inputs {
	struct strbuf env;
	struct input *v;
	size_t nr, alloc;
	int cacheable;
};

#define INPUTS_INIT { STRBUF_INIT, NULL, 0, 0, 1 }

static void add_input(struct inputs *in, const char *path, int must_exist)
{
	struct input *e;
	size_t i;

	/* an origin comes once per entry: stat it once */
	for (i = 0; i < in->nr; i++)
		if (!strcmp(in->v[i].path, path)) {
			in->v[i].must_exist |= !!must_exist;
			return;
		}
	ALLOC_GROW(in->v, in->nr + 1, in->alloc);
	e = &in->v[in->nr++];
	e->must_exist = !!must_exist;
	e->path = xstrdup(path);
}

/* the file name in directory dir, which may be missing (sb: scratch) */
static void add_file_in(struct inputs *in, struct strbuf *sb,
			const char *dir, const char *name)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "%s/%s", dir, name);
	add_input(in, sb->buf, 0);
}

static void inputs_release(struct inputs *in)
{
	size_t i;

	for (i = 0; i < in->nr; i++)
		free(in->v[i].path);
	free(in->v);
	strbuf_release(&in->env);
}

/*
 * What path looks like now into sb; *ctime_ns its ctime, -1 when stat
 * failed or for a directory, of which only who it is and who owns it
 * count (git reads no directory; it checks their owner): a file made in
 * .git would otherwise throw the cache away.
 */
static void describe(const char *path, struct strbuf *sb, int64_t *ctime_ns)
{
	struct stat st;

	strbuf_reset(sb);
	*ctime_ns = -1;
	if (stat(path, &st) < 0) {
		strbuf_addf(sb, "-%d", errno == ENOTDIR ? ENOENT : errno);
		return;
	}
	strbuf_addf(sb, "%ju %ju %o %ju", (uintmax_t)st.st_dev,
		    (uintmax_t)st.st_ino, (unsigned)st.st_mode,
		    (uintmax_t)st.st_uid);
	if (S_ISDIR(st.st_mode))
		return;
	*ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 +
		    st.st_ctim.tv_nsec;
	strbuf_addf(sb, " %jd %jd.%09ld %jd.%09ld",
			    (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec,
			    (long)st.st_mtim.tv_nsec,
			    (intmax_t)st.st_ctim.tv_sec,
			    (long)st.st_ctim.tv_nsec);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int env_input(const char *name)
{
	return !strncmp(name, "GIT_", 4) || !strncmp(name, "HOME=", 5) ||
	       !strncmp(name, "XDG_CONFIG_HOME=", 16) ||
	       !strncmp(name, "PATH=", 5);
}

/* the environment, the places and the files known before the child runs */
static void fixed_inputs(const struct repo *r, struct inputs *in)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	const char *sys = getenv("GIT_CONFIG_SYSTEM");
	const char *global = getenv("GIT_CONFIG_GLOBAL");
	const char *path = getenv("PATH");
	struct strvec env = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	char **e;
	size_t i;

	if (getenv("GIT_CONFIG_PARAMETERS") || getenv("GIT_CONFIG_COUNT") ||
	    getenv("GIT_CONFIG"))
		in->cacheable = 0;
	for (e = environ; *e; e++)
		if (env_input(*e))
			strvec_push(&env, *e);
	qsort(env.v, env.nr, sizeof(*env.v), cmp_str);
	for (i = 0; i < env.nr; i++)
		strbuf_addf(&in->env, "%s\n", env.v[i]);
	strbuf_addf(&in->env, "uid=%ju\nworktree=%s\ngit_dir=%s\n"
		    "common_dir=%s\n", (uintmax_t)geteuid(), r->worktree,
		    r->git_dir, r->common_dir);
	strvec_clear(&env);

	add_input(in, r->worktree, 1);
	add_input(in, r->git_dir, 1);
	add_input(in, r->common_dir, 1);
	add_input(in, sys ? sys : "/etc/gitconfig", 0);
	if (global)
		add_input(in, global, 0);
	else if (home)
		add_file_in(in, &sb, home, ".gitconfig");
	if (xdg && *xdg)
		add_file_in(in, &sb, xdg, "git/config");
	else if (home)
		add_file_in(in, &sb, home, ".config/git/config");
	add_file_in(in, &sb, r->common_dir, "config");
	add_file_in(in, &sb, r->git_dir, "config.worktree");
	add_file_in(in, &sb, r->git_dir, "HEAD");
	add_file_in(in, &sb, r->worktree, ".git");
	/* the git that runs: the first on PATH, and every place before it */
	while (path && *path) {
		size_t len = strcspn(path, ":");
		struct stat st;

		/* the child looks for it from the work tree */
		strbuf_reset(&sb);
		if (!len || *path != '/')
			strbuf_addf(&sb, "%s/", r->worktree);
		strbuf_add(&sb, path, len);
		strbuf_addstr(&sb, "/git");
		add_input(in, sb.buf, 0);
		if (!stat(sb.buf, &st) && S_ISREG(st.st_mode) &&
		    !access(sb.buf, X_OK))
			break;
		path += len + (path[len] == ':');
	}
	strbuf_release(&sb);
}

/* "<dir of file>/<rel>", or rel when it is absolute */
static void place_path(struct strbuf *sb, const char *file, const char *rel)
{
	const char *slash = strrchr(file, '/');

	strbuf_reset(sb);
	if (*rel != '/' && slash)
		strbuf_add(sb, file, slash - file + 1);
	strbuf_addstr(sb, rel);
}

/*
 * An include.path or includeIf.*.path of the file origin: its target is
 * an input.  Expanded as git does; what we cannot expand exactly, ends
 * the caching.
 */
static void include_input(struct inputs *in, const char *origin,
			  const char *value)
{
	const char *home = getenv("HOME");
	struct strbuf sb = STRBUF_INIT;

	if (!value || !*value || !origin || !strncmp(value, "%(", 2)) {
		in->cacheable = 0;
	} else if (*value == '~') {
		if ((value[1] != '/' && value[1]) || !home || !*home) {
			in->cacheable = 0;	/* ~user */
		} else {
			strbuf_addf(&sb, "%s%s", home, value + 1);
			add_input(in, sb.buf, 0);
		}
	} else {
		place_path(&sb, origin, value);
		add_input(in, sb.buf, 0);
	}
	strbuf_release(&sb);
}

static int include_key(const char *key, size_t len)
{
	return (len == 12 && !strncmp(key, "include.path", 12)) ||
	       (len > 15 && !strncmp(key, "includeif.", 10) &&
		!strncmp(key + len - 5, ".path", 5));
}

/*
 * The child's `--show-origin --show-scope --list` (scope NUL origin NUL
 * key [LF value] NUL, each) into the thrum.* entries in out, and the
 * files it names into in.
 */
static void take_listing(const struct repo *r, const struct strbuf *list,
			 struct inputs *in, struct strbuf *out)
{
	const char *p = list->buf, *end = list->buf + list->len;
	struct strbuf origin = STRBUF_INIT;

	while (p < end) {
		const char *scope = p, *from, *key, *nl, *nul;
		size_t keylen;

		if (!(nul = memchr(p, '\0', end - p)))
			break;
		from = nul + 1;
		if (!(nul = memchr(from, '\0', end - from)))
			break;
		key = nul + 1;
		if (!(nul = memchr(key, '\0', end - key)))
			break;
		nl = memchr(key, '\n', nul - key);
		keylen = (nl ? nl : nul) - key;
		if (keylen > 6 && !strncasecmp(key, "thrum.", 6)) {
			strbuf_addstr(out, scope);
			strbuf_addch(out, '\0');
			strbuf_add(out, key, nul - key);
			strbuf_addch(out, '\0');
		}
		strbuf_reset(&origin);
		if (!strncmp(from, "file:", 5) && from[5]) {
			/* relative to where the child ran */
			if (from[5] != '/')
				strbuf_addf(&origin, "%s/", r->worktree);
			strbuf_addstr(&origin, from + 5);
			add_input(in, origin.buf, 1);
		} else {
			in->cacheable = 0;	/* the command line, a blob */
		}
		if (include_key(key, keylen))
			include_input(in, origin.len ? origin.buf : NULL,
				      nl ? nl + 1 : NULL);
		p = nul + 1;
	}
	strbuf_release(&origin);
}

/* every input as it is now, as a JSON array; NULL: not to be cached */
static json_object *snapshot(const struct inputs *in, int64_t since_ns)
{
	json_object *files = json_object_new_array();
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < in->nr && in->cacheable; i++) {
		const struct input *e = &in->v[i];
		json_object *row = json_object_new_array();
		int64_t ctime_ns;

		describe(e->path, &sb, &ctime_ns);
		json_object_array_add(row, json_object_new_string(e->path));
		json_object_array_add(row, json_object_new_string(sb.buf));
		json_object_array_add(files, row);
		/* gone since the child read it, or too fresh to trust */
		if ((e->must_exist && !strncmp(sb.buf, "-", 1)) ||
		    ctime_ns >= since_ns)
			break;
	}
	strbuf_release(&sb);
	if (i < in->nr || !in->cacheable) {
		json_object_put(files);
		return NULL;
	}
	return files;
}

static long settle_ms(void)
{
	return thrum_env_long("THRUM_TEST_CONFIG_SETTLE_MS", 0, LONG_MAX,
			      CONFIG_CACHE_SETTLE_MS);
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* entries with no byte outside printable ASCII, tab and LF: JSON-safe */
static int plain_bytes(const struct strbuf *sb)
{
	size_t i;

	for (i = 0; i < sb->len; i++) {
		unsigned char c = sb->buf[i];

		if (c >= 0x7f || (c < 0x20 && c && c != '\n' && c != '\t'))
			return 0;
	}
	return 1;
}

static void write_cache(const char *path, const struct strbuf *env,
			json_object *files, const struct strbuf *entries)
{
	json_object *o = json_object_new_object();
	const char *text;
	int was;

	json_object_object_add(o, "v", json_object_new_int(CACHE_VERSION));
	json_object_object_add(o, "env",
			       json_object_new_string_len(env->buf, env->len));
	json_object_object_add(o, "files", files);
	json_object_object_add(o, "entries",
			       json_object_new_string_len(entries->buf,
							  entries->len));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	/* a cache: a full disk or a read-only directory is not the user's
	 * business, the next command asks git again */
	was = set_error_quiet(1);
	write_file_derived(path, text, strlen(text), 0644);
	set_error_quiet(was);
	json_object_put(o);
}

/* the cached entries into out when every input is as recorded; 0 if so */
static int read_cache(const char *path, const struct strbuf *env,
		      struct strbuf *out)
{
	struct strbuf sb = STRBUF_INIT, now = STRBUF_INIT;
	json_object *o = NULL, *v, *files, *entries;
	size_t i, n;
	int ret = -1;

	if (strbuf_read_file(&sb, path, 4096) < 0 || sb.len > CACHE_MAX_BYTES ||
	    !(o = json_tokener_parse(sb.buf)) ||
	    !json_object_object_get_ex(o, "v", &v) ||
	    json_object_get_int(v) != CACHE_VERSION ||
	    !json_object_object_get_ex(o, "env", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) != env->len ||
	    memcmp(json_object_get_string(v), env->buf, env->len) ||
	    !json_object_object_get_ex(o, "files", &files) ||
	    !json_object_is_type(files, json_type_array) ||
	    !json_object_object_get_ex(o, "entries", &entries) ||
	    !json_object_is_type(entries, json_type_string))
		goto out;
	n = json_object_array_length(files);
	for (i = 0; i < n; i++) {
		json_object *row = json_object_array_get_idx(files, i);
		const char *file, *was;
		int64_t ctime_ns;

		if (!json_object_is_type(row, json_type_array) ||
		    json_object_array_length(row) != 2)
			goto out;
		file = json_object_get_string(json_object_array_get_idx(row, 0));
		was = json_object_get_string(json_object_array_get_idx(row, 1));
		if (!file || !was)
			goto out;
		describe(file, &now, &ctime_ns);
		if (strcmp(now.buf, was))
			goto out;
	}
	strbuf_reset(out);
	strbuf_add(out, json_object_get_string(entries),
		   json_object_get_string_len(entries));
	ret = 0;
out:
	json_object_put(o);
	strbuf_release(&sb);
	strbuf_release(&now);
	return ret;
}

/* the plain child of before, for what cannot be cached */
static void ask_git(const struct repo *r, struct strbuf *out)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	cp.git_cmd = 1;
	cp.no_stdin = 1;
	cp.no_stderr = 1;
	if (r)
		cp.dir = r->worktree;
	strvec_pushl(&cp.args, "config", "-z", "--show-scope",
		     "--get-regexp", "^thrum\\.", NULL);
	/* exit 1 means "no such key": nothing to do */
	if (capture_command(&cp, out, NULL) != 0)
		strbuf_reset(out);
}

int config_cache_entries(const struct repo *r, struct strbuf *out)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct inputs in = INPUTS_INIT;
	struct strbuf list = STRBUF_INIT;
	json_object *files;
	char *path = NULL;
	int64_t start;

	strbuf_reset(out);
	if (!r || !r->var_dir || access(r->var_dir, W_OK)) {
		ask_git(r, out);
		return 0;
	}
	fixed_inputs(r, &in);
	path = path_join(r->var_dir, CACHE_FILE);
	if (!in.cacheable) {
		ask_git(r, out);
		goto out;
	}
	if (!read_cache(path, &in.env, out))
		goto out;
	start = realtime_ns();
	cp.git_cmd = 1;
	cp.no_stdin = 1;
	cp.no_stderr = 1;
	cp.dir = r->worktree;
	strvec_pushl(&cp.args, "config", "-z", "--show-origin",
		     "--show-scope", "--list", NULL);
	if (capture_command(&cp, &list, NULL) != 0)
		goto out;	/* git cannot read it: no entries, as before */
	take_listing(r, &list, &in, out);
	if (!plain_bytes(out))
		goto out;
	files = snapshot(&in, start - settle_ms() * 1000000);
	if (files)
		write_cache(path, &in.env, files, out);
out:
	free(path);
	strbuf_release(&list);
	inputs_release(&in);
	return 0;
}

/*
 * identity.c: who "I" am in this work tree.  Files are written with a
 * temporary name and renamed into place, so a reader never sees half a
 * file; they are parsed by the event codec (the bare form of an
 * agent.register event), so there is one JSON reader in the project.
 */
#include "thrum.h"
#include <sodium.h>
#include "identity.h"
#include "event.h"
#include "lockfile.h"
#include "repo.h"
#include "run-command.h"
#include "strbuf.h"
#include "strvec.h"
#include "ulid.h"
#include "usage.h"
#include "wrapper.h"

void identity_release(struct identity *id)
{
	free(id->name);
	free(id->agent_id);
	free(id->kind);
	free(id->role);
	free(id->module);
	free(id->display);
	free(id->worktree);
	free(id->session_id);
	free(id->intent);
	memset(id, 0, sizeof(*id));
}

static char *identity_dir(const struct repo *r)
{
	return path_join(r->local_thrum_dir, "identities");
}

static char *identity_path(const struct repo *r, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	char *dir = identity_dir(r);

	strbuf_addf(&sb, "%s/%s.json", dir, name);
	free(dir);
	return strbuf_detach(&sb, NULL);
}

char *identity_key_path(const struct repo *r, const char *name)
{
	char *dir = identity_dir(r), *path = xstrfmt("%s/%s.key", dir, name);

	free(dir);
	return path;
}

/*
 * Identities are never taken from files git tracks (a project that
 * commits .thrum/identities/x.json must not make every clone act as x).
 * <git-dir>/thrum-identities, which nothing tracked can write, lists the
 * files thrum wrote, by name and what stat() said then:
 *
 *   <name> <inode> <size> <mtime ns>
 *
 * A file listed with its current stat is ours.  Any other (written by an
 * older thrum, or checked out) is asked about once with `git ls-files`:
 * untracked, it is registered; tracked, it is ignored with a warning.
 */
static char *registry_path(const struct repo *r)
{
	return path_join(r->git_dir, "thrum-identities");
}

static void stat_line(struct strbuf *sb, const char *name,
		      const struct stat *st)
{
	strbuf_addf(sb, "%s %" PRIu64 " %" PRIu64 " %" PRId64 "\n", name,
		    (uint64_t)st->st_ino, (uint64_t)st->st_size,
		    (int64_t)st->st_mtim.tv_sec * 1000000000 +
		    st->st_mtim.tv_nsec);
}

/* the registry without name's line, into out */
static void registry_others(const struct strbuf *reg, const char *name,
			    struct strbuf *out)
{
	const char *p = reg->buf, *end = reg->buf + reg->len;
	size_t n = strlen(name);

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (!(len > n && !strncmp(p, name, n) && p[n] == ' '))
			strbuf_add(out, p, len);
		p += len;
	}
}

static int registry_put(const struct repo *r, const char *name,
			const char *path)
{
	struct strbuf reg = STRBUF_INIT, out = STRBUF_INIT;
	char *rpath = registry_path(r);
	struct stat st;
	int ret = -1;

	if (lstat(path, &st) < 0) {
		error_errno("cannot stat '%s'", path);
		goto out;
	}
	if (strbuf_read_file(&reg, rpath, 0) < 0 && errno != ENOENT) {
		error_errno("cannot read '%s'", rpath);
		goto out;
	}
	registry_others(&reg, name, &out);
	stat_line(&out, name, &st);
	ret = write_file_atomic(rpath, out.buf, out.len, 0600);
out:
	strbuf_release(&reg);
	strbuf_release(&out);
	free(rpath);
	return ret;
}

static int is_tracked(const struct repo *r, const char *path)
{
	struct strbuf out = STRBUF_INIT;
	int tracked;

	/* an error counts as tracked: trust needs a yes */
	tracked = run_git(r->worktree, RUN_GIT_QUIET, &out, "ls-files", "-z",
			  "--", path, NULL) || out.len;
	strbuf_release(&out);
	return tracked;
}

/* 1 when the identity file of name is one thrum wrote, else 0 */
static int trusted(const struct repo *r, const char *name, const char *path)
{
	struct strbuf reg = STRBUF_INIT, want = STRBUF_INIT;
	char *rpath = registry_path(r);
	struct stat st;
	int ok = 0;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	stat_line(&want, name, &st);
	if (strbuf_read_file(&reg, rpath, 0) >= 0) {
		const char *hit = strstr(reg.buf, want.buf);

		ok = hit && (hit == reg.buf || hit[-1] == '\n');
	}
	if (ok)
		goto out;
	if (is_tracked(r, path)) {
		static int warned;

		if (!warned++)
			warning("ignoring the identity '%s': git tracks it, "
				"and thrum takes no identity from tracked "
				"files", path);
		goto out;
	}
	ok = registry_put(r, name, path) == 0;
out:
	strbuf_release(&reg);
	strbuf_release(&want);
	free(rpath);
	return ok;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void identity_list(const struct repo *r, struct strvec *out)
{
	char *dir = identity_dir(r);
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t first = out->nr;

	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *name;

		if (len <= 5 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		name = xstrndup(de->d_name, len - 5);
		if (event_valid_name(name, NULL)) {
			char *path = identity_path(r, name);

			if (trusted(r, name, path))
				strvec_push(out, name);
			free(path);
		}
		free(name);
	}
	if (d)
		closedir(d);
	free(dir);
	qsort(out->v + first, out->nr - first, sizeof(char *), cmp_str);
}

int identity_load(const struct repo *r, const char *name,
		  struct identity *out)
{
	char *path = identity_path(r, name);
	struct strbuf sb = STRBUF_INIT;
	struct event ev = EVENT_INIT;
	const char *why = NULL;
	int ret;

	sb.max = 1 << 20;
	if (!access(path, F_OK) && !trusted(r, name, path)) {
		ret = THRUM_ENOTFOUND;
		goto out;
	}
	if (strbuf_read_file(&sb, path, 512) < 0) {
		ret = errno == ENOENT ? THRUM_ENOTFOUND
				      : error_errno("cannot read '%s'", path);
		goto out;
	}
	strbuf_rtrim(&sb);
	if (event_parse(&ev, sb.buf, sb.len, EVENT_PARSE_BARE, &why) < 0) {
		error("corrupt identity file '%s': %s", path, why);
		ret = THRUM_EINVALID;
		goto out;
	}
	if (!ev.name || strcmp(ev.name, name) || !ev.agent_id) {
		error("corrupt identity file '%s': it does not name agent '%s'",
		      path, name);
		ret = THRUM_EINVALID;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->name = ev.name;
	out->agent_id = ev.agent_id;
	out->kind = ev.kind;
	out->role = ev.role;
	out->module = ev.module;
	out->display = ev.display;
	out->worktree = ev.worktree;
	out->session_id = ev.session_id;
	out->intent = ev.intent;
	ev.name = ev.agent_id = ev.kind = ev.role = ev.module = NULL;
	ev.display = ev.worktree = ev.session_id = ev.intent = NULL;
	ret = 0;
out:
	event_release(&ev);
	strbuf_release(&sb);
	free(path);
	return ret;
}

int identity_select(const struct repo *r, struct identity *out,
		    unsigned flags)
{
	const char *env = getenv("THRUM_NAME");
	struct strvec names = STRVEC_INIT;
	const char *why;
	int ret;

	if (env && *env) {
		if (!event_valid_name(env, &why))
			return error("invalid THRUM_NAME '%s': %s", env, why);
		ret = identity_load(r, env, out);
		if (ret == THRUM_ENOTFOUND)
			return error("no identity '%s' in this work tree "
				     "(THRUM_NAME); create it with 'git thrum "
				     "quickstart --name %s --role R --module M'",
				     env, env);
		return ret < 0 ? -1 : 0;
	}
	identity_list(r, &names);
	if (!names.nr && (flags & IDENTITY_NONE_QUIET)) {
		ret = THRUM_ENOTFOUND;
	} else if (!names.nr) {
		ret = error("no identity in this work tree; create one with "
			    "'git thrum quickstart --role R --module M' "
			    "(--name N to choose the name)");
	} else if (names.nr > 1) {
		struct strbuf list = STRBUF_INIT;
		size_t i;

		for (i = 0; i < names.nr; i++)
			strbuf_addf(&list, "%s%s", i ? ", " : "", names.v[i]);
		ret = error("several identities here (%s): set THRUM_NAME to "
			    "choose one", list.buf);
		strbuf_release(&list);
	} else {
		ret = identity_load(r, names.v[0], out) < 0 ? -1 : 0;
	}
	strvec_clear(&names);
	return ret;
}

int identity_remove(const struct repo *r, const char *name)
{
	char *path = identity_path(r, name), *key = identity_key_path(r, name);
	int ret = 0;

	if (unlink(path) < 0 && errno != ENOENT)
		ret = error_errno("cannot remove '%s'", path);
	/* and its signing key: nothing speaks as it any more */
	else if (unlink(key) < 0 && errno != ENOENT)
		ret = error_errno("cannot remove '%s'", key);
	free(key);
	free(path);
	return ret;
}

int identity_save(const struct repo *r, const struct identity *id)
{
	struct event ev = EVENT_INIT;
	struct strbuf line = STRBUF_INIT;
	char *dir = identity_dir(r), *path = identity_path(r, id->name);
	int ret = -1;

	/* borrow the strings; ev is not released, only cleared */
	ev.name = id->name;
	ev.agent_id = id->agent_id;
	ev.kind = id->kind;
	ev.role = id->role;
	ev.module = id->module;
	ev.display = id->display;
	ev.worktree = id->worktree;
	ev.session_id = id->session_id;
	ev.intent = id->intent;
	if (event_serialize(&ev, &line, EVENT_PARSE_BARE) < 0) {
		error("cannot serialise identity '%s'", id->name);
		goto out;
	}
	strbuf_addch(&line, '\n');
	if (mkdir_p(dir, 0700) < 0) {
		error_errno("cannot create '%s'", dir);
		goto out;
	}
	if (write_file_atomic(path, line.buf, line.len, 0600) < 0 ||
	    registry_put(r, id->name, path) < 0)
		goto out;
	ret = 0;
out:
	memset(&ev, 0, sizeof(ev));
	strbuf_release(&line);
	free(dir);
	free(path);
	return ret;
}

/*
 * The original normalises a remote URL before hashing it: scp-like
 * "git@host:path" and "scheme://[user@]host/path" both become
 * "https://<host>/<path>" without ".git"; anything it cannot parse gives
 * no repository id at all.  0, or -1 when there is none.
 */
static int normalize_url(const char *url, struct strbuf *out)
{
	const char *p, *host, *path, *end;
	size_t n;

	if (!*url)
		return -1;
	if (!strncmp(url, "git@", 4)) {
		const char *colon = strchr(url, ':');

		if (!colon)
			return -1;
		strbuf_addf(out, "https://%.*s/", (int)(colon - url - 4),
			    url + 4);
		path = colon + 1;
		n = strlen(path);
		if (n >= 4 && !strcmp(path + n - 4, ".git"))
			n -= 4;
		strbuf_add(out, path, n);
		return 0;
	}
	/* a scheme: a letter, then letters, digits, '+', '-', '.', then ':' */
	for (p = url; isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
		      *p == '.'; p++)
		;
	if (*p == ':' && p > url && isalpha((unsigned char)*url)) {
		p++;
	} else {
		/* no scheme: a colon before the first '/' does not parse */
		const char *slash = strchr(url, '/'), *colon = strchr(url, ':');

		if (colon && (!slash || colon < slash))
			return -1;
		p = url;
	}
	host = "";
	n = 0;
	if (!strncmp(p, "//", 2)) {
		const char *at;

		p += 2;
		end = p + strcspn(p, "/?#");
		at = memchr(p, '@', end - p);
		while (at && memchr(at + 1, '@', end - at - 1))
			at = memchr(at + 1, '@', end - at - 1);
		host = at ? at + 1 : p;
		n = end - host;
		p = end;
	}
	strbuf_addstr(out, "https://");
	for (; n; n--, host++)
		strbuf_addch(out, (char)tolower((unsigned char)*host));
	n = strcspn(p, "?#");
	if (n >= 4 && !strncmp(p + n - 4, ".git", 4))
		n -= 4;
	strbuf_add(out, p, n);
	return 0;
}

/* Crockford base32 of the SHA-256 of text, the first len characters */
static void hash_text(const char *text, size_t len, int lower,
		      struct strbuf *out)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char enc[(crypto_hash_sha256_BYTES * 8 + 4) / 5 + 1];
	size_t i;

	crypto_hash_sha256(digest, (const unsigned char *)text, strlen(text));
	crockford_encode(digest, sizeof(digest), enc);
	for (i = 0; i < len && enc[i]; i++)
		strbuf_addch(out, lower ? (char)tolower((unsigned char)enc[i])
					: enc[i]);
}

char *identity_default_name(const char *origin_url, const char *role,
			    const char *module)
{
	struct strbuf url = STRBUF_INIT, repo_id = STRBUF_INIT,
		      input = STRBUF_INIT, name = STRBUF_INIT;

	if (sodium_init() < 0)
		BUG("libsodium does not initialise");
	if (origin_url && !normalize_url(origin_url, &url)) {
		strbuf_addstr(&repo_id, "r_");
		hash_text(url.buf, 12, 0, &repo_id);
	}
	strbuf_addf(&input, "%s|%s|%s", repo_id.buf, role, module);
	strbuf_addf(&name, "%s_", role);
	hash_text(input.buf, 10, 1, &name);
	strbuf_release(&url);
	strbuf_release(&repo_id);
	strbuf_release(&input);
	return strbuf_detach(&name, NULL);
}

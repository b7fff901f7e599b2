/*
 * config.c: the thrum.* settings.  Git configuration is read by running
 * `git config`: that is the only way to see what git sees
 * (GIT_CONFIG_PARAMETERS from `git -c`, includes, worktree config), which
 * libgit2 1.5 does not.  It costs one process, so it happens only in
 * commands that need a setting, and config-cache.c remembers its answer
 * for as long as nothing git would read changes.
 */
#include "thrum.h"
#include <ini.h>
#include "config.h"
#include "config-cache.h"
#include "peer.h"
#include "repo.h"
#include "run-command.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

static const struct {
	const char *name;	/* git config key, camelCase */
	const char *env;	/* environment override, or NULL */
	const char *def;
} keys[CFG_KEY_MAX] = {
	[CFG_LOCAL_ONLY] = { "thrum.localOnly", "THRUM_LOCAL_ONLY", "true" },
	[CFG_REMOTE] = { "thrum.remote", "THRUM_REMOTE", "origin" },
	[CFG_SYNC_INTERVAL] = { "thrum.syncInterval", "THRUM_SYNC_INTERVAL",
				"60" },
	[CFG_COMMIT_AUTHOR] = { "thrum.commitAuthor", NULL, "" },
	[CFG_MAX_FILE_BYTES] = { "thrum.maxFileBytes", NULL, "67108864" },
	[CFG_FETCH_HOOK] = { "thrum.fetchHook", NULL, "true" },
	[CFG_NETWORK_TIMEOUT] = { "thrum.networkTimeout", NULL, "120" },
	[CFG_DAEMON] = { "thrum.daemon", "THRUM_DAEMON", "true" },
	[CFG_WRITE_DELAY] = { "thrum.writeDelay", "THRUM_WRITE_DELAY", "200" },
	[CFG_PEER_LISTEN] = { "thrum.peerListen", NULL, "" },
	[CFG_ALLOWED_SIGNERS] = { "thrum.allowedSigners", NULL, "" },
	[CFG_REQUIRE_SIGNED] = { "thrum.requireSigned", NULL, "false" },
	[CFG_CLONE_REFS] = { "thrum.cloneRefs", NULL, "true" },
};

const char *config_key_name(enum config_key key)
{
	return keys[key].name;
}

const char *config_source_name(enum config_source src)
{
	static const char *const names[] = {
		"default", "file", "git", "env", "flag",
	};
	return names[src];
}

int config_parse_bool(const char *v)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0", "" };
	size_t i;

	if (!v)
		return 1;	/* "[thrum] localOnly" with no value is true */
	for (i = 0; i < ARRAY_SIZE(yes); i++)
		if (!strcasecmp(v, yes[i]))
			return 1;
	for (i = 0; i < ARRAY_SIZE(no); i++)
		if (!strcasecmp(v, no[i]))
			return 0;
	return -1;
}

static int find_key(const char *name)
{
	int i;

	for (i = 0; i < CFG_KEY_MAX; i++)
		if (!strcasecmp(keys[i].name, name))
			return i;
	return -1;
}

static void set_value(struct thrum_config *cfg, int key, const char *value,
		      enum config_source src, const char *origin)
{
	struct config_value *cv = &cfg->v[key];

	free(cv->value);
	free(cv->origin);
	cv->value = xstrdup_or_null(value);
	cv->source = src;
	cv->origin = xstrdup_or_null(origin);
}

static int config_ini_handler(void *payload, const char *section,
			      const char *name,
		       const char *value)
{
	struct thrum_config *cfg = payload;
	struct strbuf full = STRBUF_INIT;
	int key;

	strbuf_addf(&full, "%s.%s", section, name);
	key = find_key(full.buf);
	strbuf_release(&full);
	if (key >= 0)
		set_value(cfg, key, value, CONFIG_THRUM_FILE, ".thrum/config");
	return 1;
}

/*
 * Git takes no configuration from tracked files, and neither do we: a
 * .thrum/config committed to the project (which would turn sync on for
 * everybody who clones it) is ignored, with one warning.
 */
static int tracked_file(const struct repo *r, const char *path)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT;
	int tracked;

	cp.git_cmd = 1;
	cp.no_stdin = 1;
	cp.no_stderr = 1;
	cp.dir = r->worktree;
	strvec_pushl(&cp.args, "ls-files", "-z", "--", path, NULL);
	/* an error counts as tracked: obeying the file needs a clear no */
	tracked = capture_command(&cp, &out, NULL) != 0 || out.len;
	strbuf_release(&out);
	return tracked;
}

static int load_thrum_file(struct thrum_config *cfg, const struct repo *r)
{
	char *path = path_join(r->thrum_dir, "config");
	int ret = 0, line;

	if (!access(path, F_OK) && tracked_file(r, path)) {
		warning("ignoring '%s': git tracks it, and thrum takes no "
			"configuration from tracked files (use 'git config "
			"thrum.<key>')", path);
	} else if (!access(path, F_OK)) {
		line = ini_parse(path, config_ini_handler, cfg);
		if (line)
			ret = error("bad config line %d in '%s'", line, path);
	}
	free(path);
	return ret;
}

/*
 * each entry of `git config -z --show-scope`: scope NUL key LF value NUL
 * (config-cache.c asks git, or remembers what it said)
 */
static void load_git_config(struct thrum_config *cfg, const struct repo *r)
{
	struct strbuf out = STRBUF_INIT;
	const char *p, *end;

	config_cache_entries(r, &out);
	p = out.buf;
	end = out.buf + out.len;
	while (p < end) {
		const char *scope = p, *key, *value = NULL, *nl, *nul;
		char *keyname;
		int k;

		nul = memchr(p, '\0', end - p);
		if (!nul)
			break;
		key = nul + 1;
		nul = memchr(key, '\0', end - key);
		if (!nul)
			break;
		nl = memchr(key, '\n', nul - key);
		keyname = xstrndup(key, (nl ? nl : nul) - key);
		if (nl)
			value = nl + 1;
		k = find_key(keyname);
		if (k >= 0)
			set_value(cfg, k, value, CONFIG_GIT, scope);
		free(keyname);
		p = nul + 1;
	}
	strbuf_release(&out);
}

/*
 * thrum.commitAuthor goes into the author and committer lines of every
 * a-sync commit we write and push: "Name <email>" on one line, one pair
 * of angle brackets, the name not empty.  NULL when it is fine, else why
 * not.
 */
static const char *bad_commit_author(const char *v)
{
	const char *lt = strchr(v, '<'), *gt = strchr(v, '>'), *p;

	for (p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "a line break or control character in it";
	if (!lt || !gt || gt < lt || gt[1] || strchr(lt + 1, '<') ||
	    strchr(gt + 1, '>'))
		return "want 'Name <email>'";
	for (p = v; p < lt && *p == ' '; p++)
		;
	if (p == lt)
		return "the name is empty";
	return NULL;
}

static int parse_values(struct thrum_config *cfg)
{
	int i;

	for (i = 0; i < CFG_KEY_MAX; i++) {
		const struct config_value *cv = &cfg->v[i];
		const char *v = cv->value, *why;
		long n;
		int b;

		switch (i) {
		case CFG_LOCAL_ONLY:
		case CFG_FETCH_HOOK:
		case CFG_DAEMON:
		case CFG_CLONE_REFS:
			if ((b = config_parse_bool(v)) < 0)
				return error("bad boolean value '%s' for '%s' "
					     "(from %s)", v, keys[i].name,
					     config_source_name(cv->source));
			*(i == CFG_LOCAL_ONLY ? &cfg->local_only :
			  i == CFG_FETCH_HOOK ? &cfg->fetch_hook :
			  i == CFG_CLONE_REFS ? &cfg->clone_refs :
			  &cfg->daemon) = b;
			break;
		case CFG_SYNC_INTERVAL:
		case CFG_MAX_FILE_BYTES:
		case CFG_NETWORK_TIMEOUT:
			if (!v || thrum_parse_long(v, 1, LONG_MAX, &n) < 0)
				return error("bad number '%s' for '%s' "
					     "(from %s)", v ? v : "",
					     keys[i].name,
					     config_source_name(cv->source));
			*(i == CFG_SYNC_INTERVAL ? &cfg->sync_interval :
			  i == CFG_MAX_FILE_BYTES ? &cfg->max_file_bytes :
			  &cfg->network_timeout) = n;
			break;
		case CFG_WRITE_DELAY:
			/* milliseconds; 0 pushes at once, -1 turns it off */
			if (!v || thrum_parse_long(v, -1, 60000, &n) < 0)
				return error("bad value '%s' for '%s' (from %s): "
					     "want milliseconds from -1 (off) to "
					     "60000", v ? v : "", keys[i].name,
					     config_source_name(cv->source));
			cfg->write_delay = n;
			break;
		case CFG_REMOTE:
			if (!v || !*v || *v == '-')
				return error("bad remote name '%s' for '%s'",
					     v ? v : "", keys[i].name);
			free(cfg->remote);
			cfg->remote = xstrdup(v);
			break;
		case CFG_PEER_LISTEN:
			/* numeric: the daemon binds it without a name server */
			if (v && *v && !peer_valid_address(v))
				return error("bad address '%s' for '%s' "
					     "(from %s): want host:port", v,
					     keys[i].name,
					     config_source_name(cv->source));
			free(cfg->peer_listen);
			cfg->peer_listen = v && *v ? xstrdup(v) : NULL;
			break;
		case CFG_ALLOWED_SIGNERS:
			free(cfg->allowed_signers);
			cfg->allowed_signers = v && *v ? xstrdup(v) : NULL;
			break;
		case CFG_REQUIRE_SIGNED:
			if ((b = config_parse_bool(v)) < 0)
				return error("bad boolean value '%s' for '%s' "
					     "(from %s)", v, keys[i].name,
					     config_source_name(cv->source));
			cfg->require_signed = b;
			break;
		case CFG_COMMIT_AUTHOR:
			if (v && *v && (why = bad_commit_author(v)))
				return error("bad value for '%s' (from %s): %s",
					     keys[i].name,
					     config_source_name(cv->source),
					     why);
			free(cfg->commit_author);
			cfg->commit_author = v && *v ? xstrdup(v) : NULL;
			break;
		}
	}
	return 0;
}

int config_load(struct thrum_config *cfg, const struct repo *r)
{
	int i;

	for (i = 0; i < CFG_KEY_MAX; i++)
		set_value(cfg, i, keys[i].def, CONFIG_DEFAULT, NULL);
	if (r && load_thrum_file(cfg, r) < 0)
		return -1;
	load_git_config(cfg, r);
	for (i = 0; i < CFG_KEY_MAX; i++) {
		const char *e = keys[i].env ? getenv(keys[i].env) : NULL;

		if (e)
			set_value(cfg, i, e, CONFIG_ENV, keys[i].env);
	}
	return parse_values(cfg);
}

int config_set_flag(struct thrum_config *cfg, enum config_key key,
		    const char *value)
{
	set_value(cfg, key, value, CONFIG_FLAG, NULL);
	return parse_values(cfg);
}

void config_release(struct thrum_config *cfg)
{
	int i;

	for (i = 0; i < CFG_KEY_MAX; i++) {
		free(cfg->v[i].value);
		free(cfg->v[i].origin);
	}
	free(cfg->remote);
	free(cfg->commit_author);
	free(cfg->peer_listen);
	free(cfg->allowed_signers);
	memset(cfg, 0, sizeof(*cfg));
}

#ifndef THRUM_CONFIG_H
#define THRUM_CONFIG_H

/*
 * Effective configuration. Precedence (git-thrum(1), CONFIGURATION):
 * command-line flag > environment > `git config thrum.*` (read through the git
 * command, so `git -c thrum.x=y thrum ...`, includes and every scope apply) >
 * .thrum/config (INI, read with inih) > default. Each value remembers where it
 * came from, for `git thrum config`. Strings are owned by the struct until
 * config_release().
 */
struct repo;

enum config_source {
	CONFIG_DEFAULT = 0,
	CONFIG_THRUM_FILE,	/* .thrum/config */
	CONFIG_GIT,		/* git config; the scope is in the entry */
	CONFIG_ENV,
	CONFIG_FLAG,
};

struct config_value {
	char *value;		/* as given */
	enum config_source source;
	char *origin;		/* "local", "global", "command", a path, ... */
};

enum config_key {
	CFG_LOCAL_ONLY,
	CFG_REMOTE,
	CFG_SYNC_INTERVAL,
	CFG_COMMIT_AUTHOR,
	CFG_MAX_FILE_BYTES,
	CFG_FETCH_HOOK,
	CFG_NETWORK_TIMEOUT,
	CFG_DAEMON,
	CFG_WRITE_DELAY,
	CFG_PEER_LISTEN,
	CFG_ALLOWED_SIGNERS,
	CFG_REQUIRE_SIGNED,
	CFG_CLONE_REFS,
	CFG_KEY_MAX
};

struct thrum_config {
	struct config_value v[CFG_KEY_MAX];
	/* parsed */
	int local_only;
	char *remote;
	long sync_interval;
	char *commit_author;	/* NULL: "Thrum <thrum@local>" */
	long max_file_bytes;
	int fetch_hook;
	long network_timeout;	/* seconds a fetch or push may take */
	int daemon;		/* keep a daemon running while sync is on */
	long write_delay;	/* ms from a local append to its cycle */
	char *peer_listen;	/* "host:port" of the peers' UDP socket; NULL: none */
	char *allowed_signers;	/* the file of "name key" lines; NULL: none */
	int require_signed;	/* show only what the name's key signed */
	int clone_refs;		/* push refs/thrum/clones/<id> beside a-sync */
};

#define THRUM_CONFIG_INIT { .remote = NULL }

/*
 * Load everything for r (r may be NULL: defaults, environment and git's
 * global scopes only).  Returns 0, or -1 after error() for a value that
 * does not parse (naming key and source).
 */
int config_load(struct thrum_config *cfg, const struct repo *r);

/* a command-line flag wins over everything; re-parses the value */
int config_set_flag(struct thrum_config *cfg, enum config_key key,
		    const char *value);

void config_release(struct thrum_config *cfg);

const char *config_key_name(enum config_key key);	/* "thrum.localOnly" */
const char *config_source_name(enum config_source src);

/* git's boolean words; 1, 0, or -1 when value is none of them */
int config_parse_bool(const char *value);

#endif

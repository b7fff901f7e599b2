#ifndef THRUM_IDENTITY_H
#define THRUM_IDENTITY_H

/*
 * Agent identities: .thrum/identities/<name>.json in each work tree (never
 * shared through the redirect; never taken from a file git tracks).  The
 * file holds the agent's fields in the shape of its agent.register event
 * plus the open session and intent.
 * Strings are owned by the struct until identity_release().
 */
struct repo;
struct strvec;

struct identity {
	char *name;
	char *agent_id;
	char *kind;
	char *role;
	char *module;
	char *display;
	char *worktree;
	char *session_id;
	char *intent;
};

#define IDENTITY_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }

void identity_release(struct identity *id);

/* the names with an identity file, sorted */
void identity_list(const struct repo *r, struct strvec *out);

/*
 * Load name's identity.  0, THRUM_ENOTFOUND, or THRUM_EINVALID (reported:
 * the file is corrupt).
 */
int identity_load(const struct repo *r, const char *name,
		  struct identity *out);

enum identity_flags {
	/* no identity here: THRUM_ENOTFOUND, nothing printed */
	IDENTITY_NONE_QUIET = (1 << 0),
};

/*
 * The identity this command acts as: THRUM_NAME when set, else the only
 * identity file.  0, or -1 after error() saying what to do.  Files git
 * tracks are never identities (see identity.c).
 */
int identity_select(const struct repo *r, struct identity *out,
		    unsigned flags);

/* .thrum/identities/<name>.key: the agent's signing key; caller frees */
char *identity_key_path(const struct repo *r, const char *name);

/* remove name's identity file and its key (gone already: 0); 0 or -1 */
int identity_remove(const struct repo *r, const char *name);

/* write id atomically (temp file + rename), mode 0600; 0 or -1 */
int identity_save(const struct repo *r, const struct identity *id);

/*
 * The name the original gives an agent registered without one:
 * "<role>_" + the first ten characters of the lowercase Crockford base32
 * of SHA-256("<repo id>|<role>|<module>"), where the repository id is
 * "r_" + twelve such characters of the SHA-256 of the normalised URL of
 * origin (empty without one).  Caller frees.
 */
char *identity_default_name(const char *origin_url, const char *role,
			    const char *module);

#endif

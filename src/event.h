#ifndef THRUM_EVENT_H
#define THRUM_EVENT_H

/*
 * Events: one immutable JSON object per line of the log (gitthrum-format(5)).
 * This is the project's one JSON codec: lines are parsed strictly (one object,
 * valid UTF-8, no trailing bytes) and written canonically (keys sorted at
 * every level, no spaces, no "\/" escaping, nine fractional digits in
 * timestamps). Every string in a struct event is owned by it and freed by
 * event_release(). A line read from the log is never re-encoded: callers that
 * move events between files copy the original bytes.
 */
#include "sign.h"
struct strbuf;

enum event_type {
	EV_UNKNOWN = 0,		/* kept in the log, ignored by the projection */
	EV_MESSAGE_CREATE,
	EV_MESSAGE_EDIT,
	EV_MESSAGE_DELETE,
	EV_MESSAGE_RECEIPT,
	EV_AGENT_REGISTER,
	EV_AGENT_SESSION_START,
	EV_AGENT_SESSION_END,
	EV_AGENT_UPDATE,
	EV_AGENT_CLEANUP,
	EV_GROUP_CREATE,
	EV_GROUP_MEMBER_ADD,
	EV_GROUP_MEMBER_REMOVE,
	EV_GROUP_UPDATE,
	EV_GROUP_DELETE,
	EV_PURGE_EXECUTED,
	EV_AGENT_VOUCH,		/* ours: a key owns lines made before it */
	EV_TYPE_MAX
};

/* what EVENT_PARSE_VERIFY found (gitthrum-format(5), "Signed events") */
enum event_sig_state {
	EVENT_UNSIGNED = 0,	/* no "sig" (or not checked) */
	EVENT_SIG_GOOD,		/* "sig" verifies for the key it names */
	EVENT_SIG_BAD,		/* "sig" does not verify: the line was changed */
};

struct event_pair {
	char *type;
	char *value;
};

/*
 * One session's work context, an element of agent.update's work_contexts
 * (the original's SessionWorkContext: its other fields are left in the
 * log).  Files are paths relative to the top of the work tree.
 */
struct event_work_context {
	char *session_id;
	char *branch;
	char *worktree_path;
	char *git_updated_at;	/* RFC 3339, as written */
	char *intent;
	char **changed_files;	/* committed on the branch, not upstream */
	size_t nr_changed;
	char **uncommitted_files;
	size_t nr_uncommitted;
};

struct event {
	enum event_type type;
	char *type_name;	/* as written, also for EV_UNKNOWN */
	char *event_id;		/* opaque; we write "evt_" + ULID */
	char *timestamp;	/* as written */
	int64_t ts_ns;		/* parsed instant */
	char *origin_daemon;
	long v;

	char *message_id;
	char *thread_id;
	char *agent_id;
	char *session_id;
	char *body_format;
	char *body_content;
	char *body_structured;	/* canonical JSON text of body.structured */
	struct event_pair *scopes;
	size_t nr_scopes;
	struct event_pair *refs;
	size_t nr_refs;
	char **recipients;
	size_t nr_recipients;
	char *priority;
	char *reason;
	char *receipt_type;

	char *kind;
	char *name;
	char *role;
	char *module;
	char *worktree;
	char *display;
	char *hostname;
	char *intent;		/* agent.update work_contexts[0].intent */
	struct event_work_context *wcs;	/* agent.update: with a session_id */
	size_t nr_wcs;

	char *group_id;
	char *description;
	char *actor;		/* created_by, added_by, removed_by, deleted_by */
	char *member_type;
	char *member_value;

	char *pubkey;		/* agent.register: "ed25519:<base64>" */
	char **vouched;		/* agent.vouch: "<digest>:<event_id>" each */
	size_t nr_vouched;
	char *sig;		/* "sig" as read; never written from here */
	enum event_sig_state sig_state;	/* with EVENT_PARSE_VERIFY */
	char *signer;		/* EVENT_SIG_GOOD: the key that signed */
	/* EVENT_PARSE_VERIFY, no "sig": what a vouch names the line by */
	char digest[SIGN_DIGEST_TEXT_MAX + 1];
	/* agent.cleanup, purge.executed, group.update */
	char *method;		/* how a cleanup was asked: "manual" */
	char *cutoff;		/* purge: everything before it, as written */
	int64_t cutoff_ns;	/* its instant */
	char *new_name;		/* group.update fields.name */
	char *new_description;	/* fields.description; "" clears it */
};

#define EVENT_INIT { 0 }

/* longest line the log accepts, newline excluded */
#define EVENT_MAX_LINE (1024 * 1024)

enum event_parse_flags {
	/* no envelope required (identity files use the agent fields only) */
	EVENT_PARSE_BARE = (1 << 0),
	/* check "sig" and set sig_state, signer (costs a serialisation) */
	EVENT_PARSE_VERIFY = (1 << 1),
};

/*
 * Parse one line (len bytes, no newline) into ev, which must be
 * EVENT_INIT or released.  Returns 0, or THRUM_EINVALID with a short
 * reason in *why (static string) when why is non-NULL; ev is released on
 * failure.
 */
int event_parse(struct event *ev, const char *line, size_t len,
		unsigned flags, const char **why);

/*
 * Append the canonical JSON of ev to out, without a newline.  With
 * EVENT_PARSE_BARE the envelope is optional.  Returns 0, or -1 (out
 * unchanged) when the line would not parse back (event_parse()), for
 * instance a string that is not UTF-8: no writer appends what every
 * reader would skip.
 */
int event_serialize(const struct event *ev, struct strbuf *out,
		    unsigned flags);

/*
 * event_serialize(), signed with key: the canonical line without "sig"
 * is signed, and "sig" is added in its sorted place, so that removing
 * the member "sig":"<value>", gives those bytes back.  key NULL: the
 * same as event_serialize(ev, out, 0).  0 or -1.
 */
struct sign_key;
int event_serialize_signed(const struct event *ev, struct strbuf *out,
			   const struct sign_key *key);

/*
 * Fill a new event's envelope: type, a fresh event_id, the timestamp (now,
 * or THRUM_TEST_NOW), v = 1 and origin_daemon.  Returns 0 or -1.
 */
int event_init_new(struct event *ev, enum event_type type,
		   const char *origin_daemon);

void event_release(struct event *ev);

/* free what wc holds and zero it */
void event_work_context_release(struct event_work_context *wc);
/* append a copy of path to wc's changed (uncommitted: 1) files */
void event_work_context_add_file(struct event_work_context *wc,
				 int uncommitted, const char *path);

const char *event_type_name(enum event_type type);
enum event_type event_type_from_name(const char *name);

/* total order of the log: (instant, event_id) */
int event_cmp(const struct event *a, const struct event *b);
int event_order_cmp(int64_t ts_a, const char *id_a, int64_t ts_b,
		    const char *id_b);

/* append a scope, ref or recipient (values copied) */
void event_add_scope(struct event *ev, const char *type, const char *value);
void event_add_ref(struct event *ev, const char *type, const char *value);
/*
 * 1 when the first len bytes of type name a scope (is_ref 0) or ref (1)
 * that addresses or threads the message: broadcast and group; for a ref
 * also mention and reply_to.  The others only describe it.
 */
int event_tag_addressing(const char *type, size_t len, int is_ref);
void event_add_recipient(struct event *ev, const char *name);
/*
 * agent.vouch: at most EVENT_VOUCH_MAX entries, each the digest of a line
 * (sign_line_digest()), ':' and its event_id; -1 (nothing added) when
 * entry is not of that shape
 */
#define EVENT_VOUCH_MAX 256
int event_add_vouched(struct event *ev, const char *entry);

/*
 * Agent names: ^[a-z0-9][a-z0-9_-]{0,63}$ and not a reserved word.
 * Returns 1 when valid; otherwise 0 and a reason in *why if non-NULL.
 */
int event_valid_name(const char *name, const char **why);

/*
 * FNV-1a 64 of a line's bytes: how the projection and repair recognise a
 * line they have seen (not a cryptographic hash; nothing trusts it).
 */
uint64_t event_line_hash(const char *line, size_t len);

/*
 * Ids are opaque: any non-empty string of at most EVENT_MAX_ID bytes with
 * no control character (C0, DEL, C1) is a valid event_id, message_id,
 * session_id, group_id or thread_id.  Real repositories written by the
 * original hold "evt_00000362" or "grp_0000" next to our "evt_" + ULID.
 * (Strings are valid UTF-8 already: the parser checks.)  1 or 0.
 */
#define EVENT_MAX_ID 128
int event_opaque_id(const char *id);

/* a prefixed id such as "d_01J..." with a valid ULID: 1, else 0 */
int event_valid_id(const char *id, const char *prefix);

#endif

#ifndef THRUM_PROJECTION_H
#define THRUM_PROJECTION_H

/*
 * The SQLite projection of the log (technical/architecture.adoc, "The
 * projection"), at var/messages.db in WAL mode. It is derived data:
 * projection_update() brings it up to date with the log files (only the
 * bytes appended since last time, or a whole file when it was rewritten), and
 * deleting it loses nothing. Applying the same set of events in any order
 * gives the same answers. Everything returned is owned by the caller and freed
 * with the matching *_release().
 */
#include "event.h"
#include "strvec.h"

struct store;
struct event;
struct strbuf;

struct projection;

/*
 * What a query returns: items[0..nr) (alloc of them allocated), owned by
 * the caller and freed with the list type's *_release().
 */
#define PROJECTION_LIST(type) { type *items; size_t nr, alloc; }
#define PROJECTION_LIST_INIT { NULL, 0, 0 }

struct catch_up_stats {
	size_t applied;		/* new events projected */
	size_t skipped;		/* unparseable lines (each distinct one once) */
	size_t unparseable;	/* unparseable lines read, each one */
	size_t conflicts;	/* known event_id with different bytes */
	size_t files_rescanned;	/* files read from the start */
};

/*
 * Open (creating or rebuilding when missing, corrupt or of another schema
 * version) the database in var_dir.  0, or -1 after error().
 */
int projection_open(struct projection **out, const char *var_dir);
void projection_free(struct projection *p);

/* delete the database files; the next open starts empty */
int projection_remove(const char *var_dir);

/*
 * Build a new database from the whole log into a private file (no
 * journal: ~2x faster), fsync it, and rename it over the old one; *out is
 * the new one, open.  The caller holds the log lock.
 */
int projection_rebuild(struct projection **out, const char *var_dir,
		       struct store *s, struct catch_up_stats *stats);

/*
 * The one way the log gets into the projection: bring it up to date with
 * the log files of s, in one transaction, reading only what each file
 * gained since.  changes NULL: every log file (and those gone are
 * forgotten).  Otherwise only the files changes names: for each that a
 * merge wrote (merged), the lines it brought are projected without
 * reading the rest of the file, when the projection held exactly the
 * file the merge read; any other is read on from where the projection
 * left it.  stats may be NULL.  0, or -1 after error().
 */
struct log_changes;
int projection_update(struct projection *p, struct store *s,
		      const struct log_changes *changes,
		      struct catch_up_stats *stats);

/*
 * The lines this clone appends stay in the database, byte for byte,
 * until a sync cycle commits them to a-sync (they are kept when a
 * command first projects them: any command that reads, or the daemon).
 * When the log lacks some of them, because its sync work tree was
 * deleted and made again from a-sync, write them back, in their order,
 * to the file they were in.  *restored (may be NULL) counts the lines
 * written.  Lines the log holds are left alone: calling it again does
 * nothing.  0, or -1 after error().
 */
int projection_recover(struct projection *p, struct store *s,
		       size_t *restored);

/*
 * Which of two message.create events of one message_id counts: the one
 * in its author's shard (found in messages/<agent_id>*.jsonl: own), then
 * the first by (instant, event_id).  Negative when a wins, positive when
 * b does.  The other creates are conflicts.
 */
int projection_create_cmp(int own_a, int64_t ts_a, const char *id_a,
			  int own_b, int64_t ts_b, const char *id_b);

/* a message as the CLI shows it */
struct message {
	char *message_id;
	char *thread_id;
	char *agent_id;
	char *session_id;
	char *reply_to;
	char *created_at;
	int64_t created_ns;
	char *format;
	char *content;		/* latest edit applied */
	char *priority;
	int edited;
	int deleted;
	int is_read;
	int verified;		/* 1, 0 (does not count), -1: no key (null) */
	char *signer;		/* "ed25519:<base64>" that signed, or NULL */
	/*
	 * "<kind>:<value>", kind one of to (a recipient agent), mention (an
	 * agent or role), group, broadcast; sorted
	 */
	struct strvec *audience;
	/* the create's scopes and refs, "type:value", in its order */
	struct strvec *scopes, *refs;
	/*
	 * projection_sent() only: the agents the audience resolves to
	 * (sorted), resolved_read[i] set when resolved->v[i] has read it
	 */
	struct strvec *resolved;
	unsigned char *resolved_read;
};

struct message_list PROJECTION_LIST(struct message);
#define MESSAGE_LIST_INIT PROJECTION_LIST_INIT
void message_list_release(struct message_list *l);

struct inbox_query {
	const char *me;		/* agent name; NULL with all */
	const char *role;	/* my role, or NULL */
	const char *from;	/* only from this agent, or NULL */
	int all;		/* every message, mine included */
	int unread_only;
	int include_deleted;
	long limit;		/* 0: no limit */
	int64_t after_seq;	/* only messages projected after this point
				 * (see projection_seq()); 0: all */
	const char *scope;	/* "type:value": only messages with it */
};

/*
 * Where the projection stands: messages projected later compare greater.
 * For `wait`.  0 or -1.
 */
int projection_seq(struct projection *p, int64_t *out);

int projection_inbox(struct projection *p, const struct inbox_query *q,
		     struct message_list *out);

/*
 * One message by id or unique prefix of one, for reader me (for is_read).
 * 0, THRUM_ENOTFOUND, or THRUM_EINVALID when the prefix is ambiguous.
 */
int projection_message(struct projection *p, const char *id, const char *me,
		       struct message_list *out);

/* --- reading: what I sent, threads (projection-read.c) --- */

struct sent_query {
	const char *me;		/* the author */
	const char *to;		/* only those addressed to this name */
	int unread_only;	/* only those some recipient has not read */
	long limit;		/* 0: no limit */
};

/*
 * The messages me authored and did not delete, newest first, each with
 * its audience resolved to agents (as the inbox resolves it) and their
 * read receipts in resolved / resolved_read.  to names an agent, group
 * or role (or "everyone"): a message is addressed to it when its audience
 * names it or resolves to it.  0 or -1.
 */
int projection_sent(struct projection *p, const struct sent_query *q,
		    struct message_list *out);

/*
 * The whole thread of message id (an id or unique prefix): its root (up
 * the reply_to links), every reply under it and every message of the
 * same thread_id, in thread order: each parent before its replies,
 * siblings by created time; (*depth)[i] is how deep out->items[i] is
 * (0 for a root; caller frees).  A deleted message keeps its place, its
 * content emptied.  For reader me (is_read).  0, THRUM_ENOTFOUND, or
 * THRUM_EINVALID (ambiguous prefix).
 */
int projection_thread(struct projection *p, const char *id, const char *me,
		      struct message_list *out, int **depth);

/*
 * Fold the messages of in (an inbox, newest first) by thread: each
 * thread's root once (looked up when it is not in in), then the replies
 * of in under it, oldest first, at depth 1; threads by their latest
 * message, newest first.  in's items move to out (in is left empty).
 * 0 or -1.
 */
int projection_fold_threads(struct projection *p, const char *me,
			    struct message_list *in,
			    struct message_list *out, int **depth);

struct agent_info {
	char *agent_id;
	char *name;
	char *kind;
	char *role;
	char *module;
	char *worktree;
	char *hostname;
	char *intent;
	char *registered_at;
	char *last_seen_at;
	char *session_id;	/* the open session, or NULL */
	int key_conflict;	/* a registration named another key unsigned */
};

struct agent_list PROJECTION_LIST(struct agent_info);
#define AGENT_LIST_INIT PROJECTION_LIST_INIT
void agent_list_release(struct agent_list *l);

int projection_agents(struct projection *p, struct agent_list *out);

/*
 * Work contexts (agent.update): what an agent's open session works on.
 * wc's strings and files, agent_id and name are owned by the list.
 */
struct work_row {
	char *agent_id;
	char *name;		/* the agent's, or NULL when not registered */
	int64_t ns;		/* the instant of the event it came from */
	int live;		/* computed now from a work tree (not projected) */
	struct event_work_context wc;
};
struct work_list PROJECTION_LIST(struct work_row);
#define WORK_LIST_INIT PROJECTION_LIST_INIT
void work_list_release(struct work_list *l);
/* a new zeroed row at the end of l */
struct work_row *work_list_add(struct work_list *l);

/*
 * The newest work context of each open session (one whose start, by the
 * same agent, is known and whose end is not), by agent name then session,
 * each with its files sorted.  0 or -1.
 */
int projection_work_contexts(struct projection *p, struct work_list *out);

enum recipient_kind {
	RECIPIENT_NONE = 0,
	RECIPIENT_AGENT,
	RECIPIENT_GROUP,
	RECIPIENT_ROLE,
};

/* what "@name" names, in the order agent, group, role */
int projection_resolve(struct projection *p, const char *name,
		       enum recipient_kind *out);

/*
 * Every name projection_resolve() answers for, and what it answers, with
 * the state of the files that can add names (for var/directory, see
 * projection-directory.h).  0, or -1 after error().
 */
struct dircache;
int projection_directory(struct projection *p, struct dircache *c);

/* the live group of that name (the oldest if two clones made one) */
int projection_group_id(struct projection *p, const char *name, char **out);

struct group_info {
	char *group_id;
	char *name;
	char *description;
	char *created_by;
	int64_t created_ns;
	struct strvec members;	/* "@agent", "role:<role>", "*" */
};

struct group_list PROJECTION_LIST(struct group_info);
#define GROUP_LIST_INIT PROJECTION_LIST_INIT
void group_list_release(struct group_list *l);
int projection_groups(struct projection *p, struct group_list *out);

/*
 * Full-text search (projection-search.c) over the current content of the
 * messages that are not deleted: those addressed to me (the inbox's
 * rule, my own left out) or, with all, every one.
 */
struct search_query {
	const char *words;	/* the user's words (raw: an FTS5 query) */
	int raw;		/* words are FTS5 query syntax */
	const char *me;		/* agent name; NULL with all */
	const char *role;	/* my role, or NULL */
	const char *from;	/* only from this agent, or NULL */
	int all;		/* every message, mine included */
	int64_t since_ns;	/* only messages created at or after this */
	long limit;		/* 0: no limit */
	const char *open;	/* put before each hit in a snippet, or NULL */
	const char *close;	/* and after it */
};

/*
 * The FTS5 query for the user's words: each word (split at white space)
 * a quoted string, `"` doubled, so that no input is FTS5 syntax; a word
 * ending in '*' (not '*' alone) matches every word it starts.  Appended
 * to out; 0, or THRUM_EINVALID when there is no word.
 */
int projection_search_terms(struct strbuf *out, const char *words);

/*
 * The messages matching q, best first (bm25; ties newest first), appended
 * to out, with a snippet of each (its hits between q->open and q->close)
 * at the same index in snippets.  0; THRUM_EINVALID after error() when
 * there is no word, or when a raw query is not valid FTS5 syntax (bad
 * input); -1 after error().
 */
int projection_search(struct projection *p, const struct search_query *q,
		      struct message_list *out, struct strvec *snippets);

/* totals for status and tests */
struct projection_counts {
	long events;
	long messages;
	long agents;
	long skipped;
	long conflicts;
	long removed;	/* messages a cleanup or purge set aside */
};

int projection_counts(struct projection *p, struct projection_counts *out);

/*
 * Signed events (projection-sign.c).  projection_set_signers(): the
 * thrum.allowedSigners file at path (NULL or "": none) speaks for the
 * names it lists from now on; what counts is recomputed when the file
 * says something else than last time.  0, or -1 after error() (a bad
 * line in the file).  projection_sign_view(): what the queries of p
 * show: also what does not count (include_bad), or only what is signed
 * by the key of its name (require_signed).
 */
int projection_set_signers(struct projection *p, const char *path);
void projection_sign_view(struct projection *p, int include_bad,
			  int require_signed);

/* an event that does not count; strings valid during the callback */
struct sig_problem {
	const char *event_id;
	const char *agent_id;	/* the name it speaks for */
	const char *type;
	const char *why;
	int key_conflict;	/* a registration naming another key */
};
typedef void (*sig_problem_fn)(const struct sig_problem *pb, void *payload);

/*
 * Each event of who (NULL: of everyone) that does not count, by name and
 * order, to fn (NULL: only counted).  Their number, or -1.
 */
int projection_sig_problems(struct projection *p, const char *who,
			    sig_problem_fn fn, void *payload);

/*
 * What the agent.vouch of who's first key lists (projection-vouch.c):
 * while who has no key, its unsigned events that count, in log order,
 * as "<digest>:<event_id>", appended to out.  0 or -1.
 */
struct strvec;
int projection_vouchable(struct projection *p, const char *who,
			 struct strvec *out);

/*
 * What a purge before cutoff_ns removes from this projection now: the
 * messages created and the sessions started before it (projection-
 * clean.c).  0 or -1.
 */
int projection_purge_counts(struct projection *p, int64_t cutoff_ns,
			    long *messages, long *sessions);

#endif

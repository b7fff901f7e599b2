#ifndef THRUM_MESSAGING_H
#define THRUM_MESSAGING_H

/*
 * Messages, in the core (core.h): addressing ("@x" resolution), composing
 * and appending a message.create, edits and deletes, read receipts.  The
 * commands (send, reply, inbox, message) and the MCP tools call these and
 * do the printing.  c->proj must hold the directory (agents, groups,
 * roles) for addressing, and the messages for lookups.
 */
#include "strvec.h"

struct core;
struct message;
struct message_list;

struct audience {
	struct strvec agents;	/* recipients[] and mention refs */
	struct strvec mentions;	/* roles: mention refs only */
	struct strvec groups;	/* group refs */
	int everyone;
};

#define AUDIENCE_INIT { STRVEC_INIT, STRVEC_INIT, STRVEC_INIT, 0 }
void audience_release(struct audience *a);

/*
 * Resolve a comma-separated list of "@name" (the "@" is optional) into a:
 * "everyone" broadcasts, otherwise an agent, a group or a role, in that
 * order.  Unknown names: error() naming them and -1.
 */
int audience_parse(struct core *c, const char *list,
		   struct audience *a);

/* the audience of an existing message plus its author, minus me */
void audience_for_reply(const struct message *parent, const char *me,
			struct audience *a);

struct compose {
	const char *body;
	/* the sender's scopes and refs, "type:value" (NULL: none) */
	const struct strvec *scopes, *refs;
	const char *priority;	/* NULL: normal */
	const struct message *parent;	/* a reply: thread and reply_to */
	struct audience *to;
};

/*
 * Append a message.create from me.  On success the new ids are returned
 * in *message_id and *thread_id (caller frees; thread may be NULL).
 * 0 or -1.
 */
int message_send(struct core *c, const struct compose *m,
		 char **message_id, char **thread_id);

/*
 * The whole of sending, as `send`, `reply` and the MCP tools ask for it:
 * a reply to reply_to (an id or prefix; NULL: none, and then the
 * projection needs no messages), to "@a,@b" (NULL: the parent's
 * audience, or everyone), priority validated by the caller.  *to (from
 * AUDIENCE_INIT; caller releases) is whom it reached.  The new ids come back
 * as message_send() gives them, with the parent's id in *parent_id
 * (NULL when none).  0 or -1.
 */
struct send_request {
	const char *body;
	const char *to;
	const char *priority;
	const char *reply_to;
	const struct strvec *scopes, *refs;	/* see message_tag_invalid() */
};
int message_send_request(struct core *c, const struct send_request *rq,
			 struct audience *to, char **message_id,
			 char **thread_id, char **parent_id);

/*
 * Edit (body non-NULL) or delete (reason may be NULL) the message id
 * names, which must be mine and not deleted.  *message_id is its full id,
 * *event_id the new event's (caller frees both).  0 or -1.
 */
int message_change(struct core *c, const char *id, const char *body,
		   const char *reason, char **message_id, char **event_id);

/*
 * Append read receipts for the messages in l that are unread and not
 * mine (the human user's go to the clone's local log).  0 or -1.
 */
int message_mark_read(struct core *c, const struct message_list *l);

/*
 * Why s may not be a scope (is_ref 0) or ref (1) of a message I send, or
 * NULL when it may: it is "type:value", type made of letters, digits,
 * '_', '-' and '.', value not empty, and type not one the message's own
 * addressing writes (broadcast and group; for a ref also mention and
 * reply_to), so that nobody addresses or threads a message around the
 * checks of --to and --reply-to.
 */
const char *message_tag_invalid(const char *s, int is_ref);

/* 1 when p is one of critical, high, normal, low */
int message_valid_priority(const char *p);

/*
 * Look up one message by id or unique prefix; reports not-found and
 * ambiguous ids.  0 or -1.
 */
int message_lookup(struct core *c, const char *id,
		   struct message_list *out);

#endif

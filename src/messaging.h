#ifndef THRUM_MESSAGING_H
#define THRUM_MESSAGING_H

/*
 * The message operations several commands share: addressing ("@x"
 * resolution), composing and appending a message.create, and read
 * receipts.  Used by cmd-send.c, cmd-reply.c, cmd-inbox.c and
 * cmd-message.c.
 */
#include "strvec.h"

struct thrum_ctx;
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
int audience_parse(struct thrum_ctx *ctx, const char *list,
		   struct audience *a);

/* the audience of an existing message plus its author, minus me */
void audience_for_reply(const struct message *parent, const char *me,
			struct audience *a);

struct compose {
	const char *body;
	const char *priority;	/* NULL: normal */
	const struct message *parent;	/* a reply: thread and reply_to */
	struct audience *to;
};

/*
 * Append a message.create from me and project it.  On success the new
 * ids are returned in *message_id and *thread_id (caller frees; thread
 * may be NULL).  0 or -1.
 */
int message_send(struct thrum_ctx *ctx, const struct compose *c,
		 char **message_id, char **thread_id);

/* what `send` and `reply` ask for */
struct send_request {
	const char *body_arg;	/* the body, or "-" for stdin */
	const char *to;		/* "@a,@b", or NULL: a reply's audience or everyone */
	const char *priority;	/* validated by the caller, or NULL */
	const char *reply_to;	/* id or prefix of the parent, or NULL */
	int json;
};

/*
 * Read the body, resolve the parent and the audience, append the message
 * and print its id (or a JSON object).  Returns the exit status.
 */
int message_send_request(struct thrum_ctx *ctx, const struct send_request *rq);

/*
 * Append read receipts for the messages in l that are unread and not
 * mine.  0 or -1.
 */
int message_mark_read(struct thrum_ctx *ctx, const struct message_list *l);

/* 1 when p is one of critical, high, normal, low */
int message_valid_priority(const char *p);

/*
 * Look up one message by id or unique prefix; reports not-found and
 * ambiguous ids.  0 or -1.
 */
int message_lookup(struct thrum_ctx *ctx, const char *id,
		   struct message_list *out);

#endif

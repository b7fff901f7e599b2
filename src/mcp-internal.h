#ifndef THRUM_MCP_INTERNAL_H
#define THRUM_MCP_INTERNAL_H

/*
 * Shared by mcp.c (the protocol: framing, initialize, notifications, the
 * loop) and mcp-tools.c (the tools, their schemas, wait_for_message); no
 * other file includes it.
 */
#include <json-c/json.h>
#include "strbuf.h"
#include "watch.h"

struct thrum_ctx;

#define MCP_MAX_WAITERS 64

struct mcp_waiter {
	json_object *id;	/* the request's id (owned) */
	int64_t deadline;	/* ms, monotonic */
	int64_t started;
};

struct mcp_server {
	struct thrum_ctx *ctx;
	int in_fd, out_fd;
	struct watch watch;
	int watching;
	int64_t watermark;	/* messages projected after this are new */
	struct mcp_waiter waiters[MCP_MAX_WAITERS];
	int nr_waiters;
	struct strbuf last_error;	/* what the failing code reported */
};

int64_t mcp_now_ms(void);

/* an answer, or a JSON-RPC error, to the client (result is taken) */
void mcp_send_result(struct mcp_server *s, json_object *id,
		     json_object *result);
void mcp_send_error(struct mcp_server *s, json_object *id, int code,
		    const char *msg);

/* shared by the tools (mcp-tools.c) and wait_for_message (mcp-wait.c) */
struct message;
struct message_list;
json_object *mcp_tool_result(json_object *data, int is_error);
json_object *mcp_tool_error(const char *msg);
/* a tool error with the message the failing code reported, or fallback */
json_object *mcp_tool_failed(struct mcp_server *s, const char *fallback);
json_object *mcp_message_info(const struct message *m);
/* my messages (unread only if asked), newest first; 0 or -1 */
int mcp_unread_for_me(struct thrum_ctx *ctx, long limit, int64_t after,
		      int unread_only, struct message_list *l);
/* the projection caught up: each call sees what arrived since the last */
void mcp_fresh_projection(struct thrum_ctx *ctx);
/* argument checks, against the tool's schema: 0, or -1 with why */
int mcp_only_args(json_object *args, const char *const *known,
		  struct strbuf *why);
int mcp_arg_int(json_object *args, const char *key, int64_t min, int64_t max,
		int64_t *out, struct strbuf *why);
/* 1 when the wait is pending, 0 when answered, -1 for bad arguments */
int mcp_tool_wait_for_message(struct mcp_server *s, json_object *id,
			      json_object *args, struct strbuf *why);

/* {"tools": [...]} with each tool's input schema */
json_object *mcp_tools_list(void);
/* run tools/call: answered now, or later for a wait_for_message */
void mcp_tools_call(struct mcp_server *s, json_object *id,
		    json_object *params);
/* answer the waits that a message (or their time) has come for */
void mcp_check_waiters(struct mcp_server *s);
/* forget waiter i, unanswered */
void mcp_drop_waiter(struct mcp_server *s, int i);

#endif

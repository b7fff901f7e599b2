/*
 * mcp-wait.c: wait_for_message of the MCP server.  A call stays pending
 * (the server reads on) until an unread message for the agent that
 * arrived after the server started is in the log, or its time runs out;
 * the first waiter gets the first message, which is marked read.  The
 * loop in mcp.c calls mcp_check_waiters() after every wake-up: input, the
 * inotify watch of the log, or a deadline.
 */
#include "thrum.h"
#include "mcp.h"
#include "mcp-internal.h"
#include "cmd.h"
#include "messaging.h"
#include "projection.h"
#include "strbuf.h"
#include "usage.h"
#include "watch.h"
#include "wrapper.h"

#define WAIT_DEFAULT_S 300
#define WAIT_MAX_S 600

/* --- wait_for_message: answered later, from the loop --- */

/* the oldest unread message for me that arrived after the watermark */
static int try_wait(struct mcp_server *s, struct mcp_waiter *w, int timed_out)
{
	struct thrum_ctx *ctx = s->ctx;
	struct message_list l = MESSAGE_LIST_INIT, one = MESSAGE_LIST_INIT;
	json_object *o;
	int found;

	if (mcp_unread_for_me(ctx, 0, s->watermark, 1, &l) < 0) {
		message_list_release(&l);
		mcp_send_result(s, w->id,
				mcp_tool_failed(s, "cannot read messages"));
		return 1;
	}
	found = l.nr > 0;
	if (!found && !timed_out) {
		message_list_release(&l);
		return 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(
		found ? "message_received" : "timeout"));
	if (found) {
		/* the list is newest first: its last is the oldest */
		one.items = &l.items[l.nr - 1];
		one.nr = 1;
		json_object_object_add(o, "message",
				       mcp_message_info(&l.items[l.nr - 1]));
		if (message_mark_read(ctx_core(ctx), &one) < 0)
			warning("cannot mark '%s' read",
				l.items[l.nr - 1].message_id);
		ctx->proj_current = 0;
		ctx_need_projection(ctx);
	}
	json_object_object_add(o, "waited_seconds", json_object_new_int64(
		(mcp_now_ms() - w->started + 500) / 1000));
	mcp_send_result(s, w->id, mcp_tool_result(o, 0));
	message_list_release(&l);
	return 1;
}

void mcp_drop_waiter(struct mcp_server *s, int i)
{
	json_object_put(s->waiters[i].id);
	s->waiters[i] = s->waiters[--s->nr_waiters];
}

void mcp_check_waiters(struct mcp_server *s)
{
	int64_t now = mcp_now_ms();
	int i;

	if (!s->nr_waiters)
		return;
	mcp_fresh_projection(s->ctx);
	/* in the order they came: the first waiter gets the first message */
	for (i = 0; i < s->nr_waiters; i++) {
		struct mcp_waiter *w = &s->waiters[i];

		if (try_wait(s, w, now >= w->deadline)) {
			json_object_put(w->id);
			memmove(w, w + 1, (s->nr_waiters - i - 1) * sizeof(*w));
			s->nr_waiters--;
			i--;
		}
	}
}

/* 1 when the call is pending (answered later), 0 when answered now */
int mcp_tool_wait_for_message(struct mcp_server *s, json_object *id,
			      json_object *args, struct strbuf *why)
{
	static const char *const known[] = { "timeout", NULL };
	int64_t timeout = WAIT_DEFAULT_S;
	struct mcp_waiter *w;

	if (mcp_only_args(args, known, why) < 0 ||
	    mcp_arg_int(args, "timeout", 0, WAIT_MAX_S, &timeout, why) < 0)
		return -1;
	mcp_fresh_projection(s->ctx);
	if (ctx_need_reader(s->ctx) < 0) {
		mcp_send_result(s, id, mcp_tool_failed(s, "no reader"));
		return 0;
	}
	if (!s->watching) {
		if (watch_open(&s->watch, &s->ctx->repo) < 0) {
			mcp_send_result(s, id, mcp_tool_failed(s,
					"cannot watch the log"));
			return 0;
		}
		s->watching = 1;
	}
	if (s->nr_waiters == MCP_MAX_WAITERS) {
		mcp_send_result(s, id,
				mcp_tool_error("too many waits at once"));
		return 0;
	}
	w = &s->waiters[s->nr_waiters++];
	w->id = json_object_get(id);
	w->started = mcp_now_ms();
	w->deadline = w->started + timeout * 1000;
	if (try_wait(s, w, timeout == 0)) {
		mcp_drop_waiter(s, s->nr_waiters - 1);
		return 0;
	}
	return 1;
}


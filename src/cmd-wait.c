/*
 * git thrum wait: block until a message for me (or, with --all, any
 * message) is projected, then print it like `inbox` does, without
 * marking it read.  Asks the daemon when one runs; otherwise watches the
 * log itself with inotify.  Exit 0 with messages, 1 on timeout.
 */
#include "thrum.h"
#include <poll.h>
#include "cmd.h"
#include "clock.h"
#include "daemon.h"
#include "format.h"
#include "parse-options.h"
#include "projection.h"
#include "rpc.h"
#include "strbuf.h"
#include "usage.h"
#include "watch.h"
#include "wrapper.h"

static struct {
	long timeout;
	int all, json;
} opt = { -1, 0, 0 };


static const struct thrum_option wait_options[] = {
	OPT_INT("timeout", &opt.timeout, "<seconds>",
		"give up after this long (exit 1)", 0, 86400 * 365),
	OPT_BOOL("all", &opt.all, "any message, not only mine"),
	OPT_JSON(&opt.json),
	OPT_END()
};

const struct cmd_args wait_args = {
	{ "git thrum wait [--timeout <seconds>] [--all] [--json]" },
	wait_options
};

/* what arrived since the start; 1 when there is something */
static int arrived(struct thrum_ctx *ctx, struct inbox_query *q,
		   struct message_list *l)
{
	if (projection_update(ctx->proj, &ctx->store, NULL, NULL) < 0 ||
	    projection_inbox(ctx->proj, q, l) < 0)
		return -1;
	return l->nr > 0;
}

/* 1 when the daemon said something arrived, 0 on timeout, -1 no daemon */
static int wait_daemon(struct thrum_ctx *ctx, const struct inbox_query *q,
		       int64_t timeout_ms)
{
	char *sock = daemon_socket_path(&ctx->repo);
	json_object *params = json_object_new_object(), *res = NULL, *v;
	struct strbuf err = STRBUF_INIT;
	int ret;

	if (q->me)
		json_object_object_add(params, "agent",
				       json_object_new_string(q->me));
	if (q->role)
		json_object_object_add(params, "role",
				       json_object_new_string(q->role));
	json_object_object_add(params, "all", json_object_new_boolean(q->all));
	json_object_object_add(params, "after_seq",
			       json_object_new_int64(q->after_seq));
	json_object_object_add(params, "timeout_ms",
			       json_object_new_int64(timeout_ms));
	ret = rpc_call(sock, "wait", params,
		       timeout_ms < 0 ? -1 : (int)timeout_ms + 5000, &res,
		       &err);
	if (ret == THRUM_ENOTFOUND) {
		ret = -1;
	} else if (ret < 0) {
		warning("the daemon did not answer (%s); watching the log",
			err.buf);
		ret = -1;
	} else {
		ret = !(json_object_object_get_ex(res, "timeout", &v) &&
			json_object_get_boolean(v));
	}
	json_object_put(res);
	strbuf_release(&err);
	free(sock);
	return ret;
}

/* the same without a daemon: inotify on the log */
static int wait_watch(struct thrum_ctx *ctx, struct inbox_query *q,
		      int64_t deadline, struct message_list *l)
{
	struct watch w = WATCH_INIT;
	int ret = 0;

	if (watch_open(&w, &ctx->repo) < 0)
		return -1;
	/* anything between taking the seq and watching? */
	ret = arrived(ctx, q, l);
	while (!ret) {
		struct pollfd pfd = { w.fd, POLLIN, 0 };
		int timeout = deadline < 0 ? -1 : (int)(deadline - now_ms());

		if (deadline >= 0 && timeout <= 0)
			break;
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
			ret = error_errno("poll");
			break;
		}
		if (!pfd.revents)
			continue;
		if (watch_drain(&w) & WATCH_GONE) {
			ret = error("the log went away");
			break;
		}
		ret = arrived(ctx, q, l);
	}
	watch_close(&w);
	return ret;
}

int cmd_wait(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct inbox_query q;
	struct message_list l = MESSAGE_LIST_INIT;
	int64_t deadline = -1, timeout_ms = -1;
	int got, ret = 1;

	memset(&q, 0, sizeof(q));
	if (opt.timeout >= 0) {
		timeout_ms = opt.timeout * 1000;
		deadline = now_ms() + timeout_ms;
	}
	if (ctx_need_reader(ctx) < 0 && !opt.all)
		return 1;
	q.me = ctx->have_me ? ctx->me.agent_id : NULL;
	q.role = ctx->have_me ? ctx->me.role : NULL;
	q.all = opt.all;
	if (projection_seq(ctx->proj, &q.after_seq) < 0)
		return 1;

	got = wait_daemon(ctx, &q, timeout_ms);
	if (got > 0)
		got = arrived(ctx, &q, &l);
	else if (got < 0)
		got = wait_watch(ctx, &q, deadline, &l);
	if (got < 0)
		goto out;
	if (!got) {
		if (opt.json)
			format_messages_json(&l, stdout);
		else
			fprintf(stderr, "no message within %ld seconds\n",
				opt.timeout);
		goto out;
	}
	if (opt.json)
		format_messages_json(&l, stdout);
	else
		format_messages_text(&l, stdout);
	ret = 0;
out:
	message_list_release(&l);
	return ret;
}

/*
 * git thrum send: append one message from me.  Nothing is written unless
 * every recipient resolves, the body is non-empty and the priority known.
 */
#include "thrum.h"
#include "cmd.h"
#include "format.h"
#include "messaging.h"
#include "projection.h"
#include "usage.h"

static const char *const send_usage[] = {
	"git thrum send (<body> | -) [--to <@name>[,<@name>...]] "
	"[--priority <priority>] [--reply-to <id>] [--json]",
	NULL
};

struct send_opts {
	const char *to, *priority, *reply_to;
	int json;
};

static void send_opt(int opt, const char *arg, void *payload)
{
	struct send_opts *o = payload;

	switch (opt) {
	case 't': o->to = arg; break;
	case 'p': o->priority = arg; break;
	case 'r': o->reply_to = arg; break;
	case 'j': o->json = 1; break;
	}
}

int cmd_send(int argc, const char **argv, struct thrum_ctx *ctx)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "priority", required_argument, NULL, 'p' },
		{ "reply-to", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct send_opts o = { 0 };
	struct audience to = AUDIENCE_INIT;
	struct message_list parent = MESSAGE_LIST_INIT;
	struct compose c = { 0 };
	char *body = NULL, *msg_id = NULL, *thread_id = NULL;
	int i, ret = 1;

	i = parse_options(argc, argv, opts, send_usage, send_opt, &o);
	if (i != argc - 1)
		usage_msg(send_usage, i == argc ? "no message body given"
						: "too many arguments");
	if (o.priority && !message_valid_priority(o.priority))
		usage_msg(send_usage, "invalid priority '%s': want critical, "
			  "high, normal or low", o.priority);
	ctx_need_projection(ctx);
	if (ctx_need_me(ctx) < 0)
		goto out;
	if (!(body = read_body(argv[i])))
		goto out;
	if (o.reply_to && message_lookup(ctx, o.reply_to, &parent) < 0)
		goto out;
	if (o.to) {
		if (audience_parse(ctx, o.to, &to) < 0)
			goto out;
	} else if (parent.nr) {
		audience_for_reply(&parent.items[0], ctx->me.agent_id, &to);
	} else {
		to.everyone = 1;
	}
	c.body = body;
	c.priority = o.priority;
	c.parent = parent.nr ? &parent.items[0] : NULL;
	c.to = &to;
	if (message_send(ctx, &c, &msg_id, &thread_id) < 0)
		goto out;
	if (o.json)
		format_kv_json(stdout, "message_id", msg_id,
			       "thread_id", thread_id, NULL);
	else
		printf("%s\n", msg_id);
	ret = 0;
out:
	free(body);
	free(msg_id);
	free(thread_id);
	audience_release(&to);
	message_list_release(&parent);
	return ret;
}

/*
 * git thrum reply: answer a message, to its author and its audience, in
 * its thread.
 */
#include "thrum.h"
#include "cmd.h"
#include "format.h"
#include "messaging.h"
#include "projection.h"
#include "usage.h"

static const char *const reply_usage[] = {
	"git thrum reply <id> (<body> | -) [--priority <priority>] [--json]",
	NULL
};

struct reply_opts {
	const char *priority;
	int json;
};

static void reply_opt(int opt, const char *arg, void *payload)
{
	struct reply_opts *o = payload;

	if (opt == 'p')
		o->priority = arg;
	else if (opt == 'j')
		o->json = 1;
}

int cmd_reply(int argc, const char **argv, struct thrum_ctx *ctx)
{
	static const struct option opts[] = {
		{ "priority", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct reply_opts o = { 0 };
	struct audience to = AUDIENCE_INIT;
	struct message_list parent = MESSAGE_LIST_INIT;
	struct compose c = { 0 };
	char *body = NULL, *msg_id = NULL, *thread_id = NULL;
	int i, ret = 1;

	i = parse_options(argc, argv, opts, reply_usage, reply_opt, &o);
	if (argc - i != 2)
		usage_msg(reply_usage, "want a message id and a body");
	if (o.priority && !message_valid_priority(o.priority))
		usage_msg(reply_usage, "invalid priority '%s': want critical, "
			  "high, normal or low", o.priority);
	ctx_need_projection(ctx);
	if (ctx_need_me(ctx) < 0 || message_lookup(ctx, argv[i], &parent) < 0)
		goto out;
	if (parent.items[0].deleted) {
		error("message '%s' is deleted", parent.items[0].message_id);
		goto out;
	}
	if (!(body = read_body(argv[i + 1])))
		goto out;
	audience_for_reply(&parent.items[0], ctx->me.agent_id, &to);
	c.body = body;
	c.priority = o.priority;
	c.parent = &parent.items[0];
	c.to = &to;
	if (message_send(ctx, &c, &msg_id, &thread_id) < 0)
		goto out;
	if (o.json)
		format_kv_json(stdout, "message_id", msg_id,
			       "thread_id", thread_id, "reply_to",
			       parent.items[0].message_id, NULL);
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

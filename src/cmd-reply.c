/*
 * git thrum reply: answer a message, to its author and its audience, in
 * its thread.
 */
#include "thrum.h"
#include "cmd.h"
#include "messaging.h"
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
	struct send_request rq = { 0 };
	int i;

	i = parse_options(argc, argv, opts, reply_usage, reply_opt, &o);
	if (argc - i != 2)
		usage_msg(reply_usage, "want a message id and a body");
	if (o.priority && !message_valid_priority(o.priority))
		usage_msg(reply_usage, "invalid priority '%s': want critical, "
			  "high, normal or low", o.priority);
	rq.reply_to = argv[i];
	rq.body_arg = argv[i + 1];
	rq.priority = o.priority;
	rq.json = o.json;
	return message_send_request(ctx, &rq);
}

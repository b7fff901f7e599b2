/*
 * git thrum send: append one message from me.  Nothing is written unless
 * every recipient resolves, the body is non-empty and the priority known.
 */
#include "thrum.h"
#include "cmd.h"
#include "messaging.h"
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
	struct send_request rq = { 0 };
	int i;

	i = parse_options(argc, argv, opts, send_usage, send_opt, &o);
	if (i != argc - 1)
		usage_msg(send_usage, i == argc ? "no message body given"
						: "too many arguments");
	if (o.priority && !message_valid_priority(o.priority))
		usage_msg(send_usage, "invalid priority '%s': want critical, "
			  "high, normal or low", o.priority);
	rq.body_arg = argv[i];
	rq.to = o.to;
	rq.priority = o.priority;
	rq.reply_to = o.reply_to;
	rq.json = o.json;
	return message_send_request(ctx, &rq);
}

/*
 * git thrum send and git thrum reply: append one message from me.
 * Nothing is written unless every recipient resolves, the body is
 * non-empty and the priority known.  A reply goes to its parent's author
 * and audience, in its thread.
 */
#include "thrum.h"
#include "cmd.h"
#include "format.h"
#include "messaging.h"
#include "parse-options.h"
#include "strvec.h"
#include "usage.h"

static struct {
	const char *to, *priority, *reply_to;
	struct strvec scopes, refs;
	int json;
} opt = { .scopes = STRVEC_INIT, .refs = STRVEC_INIT };


static const struct thrum_option send_options[] = {
	OPT_STRING("to", &opt.to, "<@name>[,<@name>...]",
		   "agents, groups or roles (default: everyone)"),
	OPT_STRING("priority", &opt.priority, "<priority>",
		   "critical, high, normal (default) or low"),
	OPT_STRING("reply-to", &opt.reply_to, "<id>",
		   "the message this answers (an id or a prefix)"),
	OPT_TEXT_LIST("scope", &opt.scopes, "<type:value>",
		      "what it is about, e.g. module:auth (repeatable)"),
	OPT_TEXT_LIST("ref", &opt.refs, "<type:value>",
		      "what it points at, e.g. issue:42 (repeatable)"),
	OPT_JSON(&opt.json),
	OPT_END()
};

const struct cmd_args send_args = {
	{ "git thrum send (<body> | -) [--to <@name>[,<@name>...]] "
	  "[--priority <priority>] [--reply-to <id>] "
	  "[--scope <type:value>...] [--ref <type:value>...] [--json]" },
	send_options, 1, 1, "no message body given"
};


static const struct thrum_option reply_options[] = {
	OPT_STRING("priority", &opt.priority, "<priority>",
		   "critical, high, normal (default) or low"),
	OPT_JSON(&opt.json),
	OPT_END()
};

const struct cmd_args reply_args = {
	{ "git thrum reply <id> (<body> | -) [--priority <priority>] [--json]" },
	reply_options, 2, 2, "want a message id and a body"
};

static void check_tags(const char *const *usagestr,
		       const struct thrum_option *opts,
		       const struct strvec *tags, int is_ref)
{
	const char *why;
	size_t i;

	for (i = 0; i < tags->nr; i++)
		if ((why = message_tag_invalid(tags->v[i], is_ref)))
			usage_opt_msg(usagestr, opts, "invalid --%s '%s': %s",
				      is_ref ? "ref" : "scope", tags->v[i],
				      why);
}

static int send(struct thrum_ctx *ctx, const char *body_arg,
		const char *const *usagestr, const struct thrum_option *opts)
{
	struct send_request rq = { 0 };
	struct audience to = AUDIENCE_INIT;
	char *body = NULL, *msg_id = NULL, *thread_id = NULL, *parent = NULL;
	int ret = 1;

	if (opt.priority && !message_valid_priority(opt.priority))
		usage_opt_msg(usagestr, opts, "invalid priority '%s': want "
			      "critical, high, normal or low", opt.priority);
	check_tags(usagestr, opts, &opt.scopes, 0);
	check_tags(usagestr, opts, &opt.refs, 1);
	/*
	 * A broadcast opens no database, nor do names the directory cache
	 * holds: the others need the directory, looking the parent up the
	 * messages too
	 */
	if (opt.reply_to)
		ctx_need_projection(ctx);
	else if (opt.to)
		ctx_want_directory(ctx);
	if (!(body = read_body(body_arg)))
		goto out;
	rq.body = body;
	rq.scopes = &opt.scopes;
	rq.refs = &opt.refs;
	rq.to = opt.to;
	rq.priority = opt.priority;
	rq.reply_to = opt.reply_to;
	if (message_send_request(ctx_core(ctx), &rq, &to, &msg_id,
				 &thread_id, &parent) < 0)
		goto out;
	if (opt.json)
		format_kv_json(stdout, "message_id", msg_id,
			       "thread_id", thread_id, "reply_to", parent,
			       NULL);
	else
		printf("%s\n", msg_id);
	ret = 0;
out:
	free(body);
	free(msg_id);
	free(thread_id);
	free(parent);
	audience_release(&to);
	return ret;
}

int cmd_send(int argc, const char **argv, struct thrum_ctx *ctx)
{
	return send(ctx, argv[0], send_args.usage, send_options);
}

int cmd_reply(int argc, const char **argv, struct thrum_ctx *ctx)
{
	opt.reply_to = argv[0];
	return send(ctx, argv[1], reply_args.usage, reply_options);
}

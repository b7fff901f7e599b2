/*
 * git thrum sent: the messages I wrote, newest first, each with the
 * agents its audience reaches (as their inbox sees it) and which of them
 * have read it, from their read receipts (git-thrum(1)).  It reads only.
 */
#include "thrum.h"
#include "cmd.h"
#include "format.h"
#include "pager.h"
#include "parse-options.h"
#include "projection.h"
#include "usage.h"

static struct {
	struct sent_query q;
	const char *to;
	int json;
} opt;

static const struct thrum_option sent_options[] = {
	OPT_STRING("to", &opt.to, "<@name>",
		   "only those addressed to this agent, group or role"),
	OPT_BOOL("unread", &opt.q.unread_only,
		 "only those some recipient has not read"),
	OPT_INT("limit", &opt.q.limit, "<n>", "at most n messages", 1,
		LONG_MAX),
	OPT_JSON(&opt.json),
	OPT_END()
};

const struct cmd_args sent_args = {
	{ "git thrum sent [--to <@name>] [--unread] [--limit <n>] [--json]" },
	sent_options
};

/* *out: what --to names, without its '@'; 0, or -1 after error() */
static int sent_to(struct thrum_ctx *ctx, const char *arg, const char **out)
{
	enum recipient_kind kind;
	const char *name = arg[0] == '@' ? arg + 1 : arg;

	*out = name;
	if (!strcmp(name, "everyone") || !strcmp(name, "all")) {
		*out = "everyone";
		return 0;
	}
	if (projection_resolve(ctx->proj, name, &kind) < 0)
		return -1;
	if (kind == RECIPIENT_NONE)
		return error("unknown recipient @%s: no agent, group or role "
			     "of that name", name);
	return 0;
}

int cmd_sent(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct message_list l = MESSAGE_LIST_INIT;
	int ret = 1;

	opt.q.me = ctx->me.agent_id;
	if (opt.to && sent_to(ctx, opt.to, &opt.q.to) < 0)
		goto out;
	if (projection_sent(ctx->proj, &opt.q, &l) < 0)
		goto out;
	if (show_messages(ctx, &l, NULL, opt.json, "the messages") < 0)
		goto out;
	ret = 0;
out:
	message_list_release(&l);
	return ret;
}

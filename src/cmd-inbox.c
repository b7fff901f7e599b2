/*
 * git thrum inbox: the messages addressed to me, newest first (git-thrum(1)).
 * Showing a message marks it read, by appending a message.receipt event,
 * unless --no-mark-read or --unread is given.  --threads folds replies
 * under the root of their thread.
 */
#include "thrum.h"
#include "cmd.h"
#include "format.h"
#include "pager.h"
#include "messaging.h"
#include "parse-options.h"
#include "projection.h"
#include "usage.h"
#include "wrapper.h"

static struct {
	struct inbox_query q;
	int no_mark, json, threads, include_bad;
	const char *from;
} opt;


static const struct thrum_option inbox_options[] = {
	OPT_BOOL("unread", &opt.q.unread_only,
		 "only what I have not read (marks nothing read)"),
	OPT_BOOL("all", &opt.q.all, "every message, not only mine"),
	OPT_INT("limit", &opt.q.limit, "<n>", "at most n messages", 1,
		LONG_MAX),
	OPT_STRING("from", &opt.from, "<@name>", "only from this agent"),
	OPT_BOOL("include-deleted", &opt.q.include_deleted,
		 "show deleted messages too"),
	OPT_BOOL("no-mark-read", &opt.no_mark, "leave them unread"),
	OPT_STRING("scope", &opt.q.scope, "<type:value>",
		   "only those with this scope, e.g. module:auth"),
	OPT_BOOL("threads", &opt.threads,
		 "replies under their thread's root, by latest activity"),
	OPT_BOOL("include-bad", &opt.include_bad,
		 "also what does not count (bad or foreign signatures)"),
	OPT_JSON(&opt.json),
	OPT_END()
};

const struct cmd_args inbox_args = {
	{ "git thrum inbox [--unread] [--all] [--limit <n>] [--from <@name>] "
	  "[--include-deleted] [--no-mark-read] [--scope <type:value>] "
	  "[--threads] [--include-bad] [--json]" }, inbox_options
};

int cmd_inbox(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct message_list l = MESSAGE_LIST_INIT, in = MESSAGE_LIST_INIT;
	const char *colon = opt.q.scope ? strchr(opt.q.scope, ':') : NULL;
	int *depth = NULL, ret = 1;

	if (opt.q.scope && (!colon || colon == opt.q.scope || !colon[1]))
		usage_opt_msg(inbox_args.usage, inbox_options,
			      "invalid --scope '%s': want type:value",
			      opt.q.scope);
	if (opt.from)
		opt.q.from = opt.from[0] == '@' ? opt.from + 1 : opt.from;
	opt.q.me = ctx->me.agent_id;
	opt.q.role = ctx->me.role;
	ctx_include_bad(ctx, opt.include_bad);
	if (projection_inbox(ctx->proj, &opt.q, opt.threads ? &in : &l) < 0 ||
	    (opt.threads && projection_fold_threads(ctx->proj, opt.q.me, &in,
						    &l, &depth) < 0))
		goto out;
	if (show_messages(ctx, &l, depth, opt.json, "the inbox") < 0)
		goto out;
	/* only what was actually shown counts as read */
	if (!opt.no_mark && !opt.q.unread_only &&
	    message_mark_read(ctx_core(ctx), &l) < 0)
		goto out;
	ret = 0;
out:
	free(depth);
	message_list_release(&in);
	message_list_release(&l);
	return ret;
}

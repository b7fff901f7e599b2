/*
 * git thrum inbox: the messages addressed to me, newest first (git-thrum(1)).
 * Showing a message marks it read, by appending a message.receipt event,
 * unless --no-mark-read or --unread is given.
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
	int no_mark, json, include_bad;
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
	OPT_BOOL("include-bad", &opt.include_bad,
		 "also what does not count (bad or foreign signatures)"),
	OPT_JSON(&opt.json),
	OPT_END()
};

const struct cmd_args inbox_args = {
	{ "git thrum inbox [--unread] [--all] [--limit <n>] [--from <@name>] "
	  "[--include-deleted] [--no-mark-read] [--include-bad] [--json]" },
	inbox_options
};

int cmd_inbox(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct message_list l = MESSAGE_LIST_INIT;
	int ret = 1;

	if (opt.from)
		opt.q.from = opt.from[0] == '@' ? opt.from + 1 : opt.from;
	opt.q.me = ctx->me.agent_id;
	opt.q.role = ctx->me.role;
	ctx_include_bad(ctx, opt.include_bad);
	if (projection_inbox(ctx->proj, &opt.q, &l) < 0)
		goto out;
	if (opt.json) {
		format_messages_json(&l, stdout);
	} else if (!l.nr) {
		printf("no messages\n");
	} else {
		/* like git log: colour and a pager, on a terminal only */
		format_set_color(want_color(ctx->repo.worktree));
		setup_pager(ctx->repo.worktree);
		format_messages_text(&l, stdout);
	}
	if (fflush(stdout) || ferror(stdout)) {
		error_errno("cannot write the inbox");
		goto out;
	}
	/* only what was actually shown counts as read */
	if (!opt.no_mark && !opt.q.unread_only &&
	    message_mark_read(ctx_core(ctx), &l) < 0)
		goto out;
	ret = 0;
out:
	message_list_release(&l);
	return ret;
}

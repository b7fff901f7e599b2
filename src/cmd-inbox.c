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
#include "projection.h"
#include "usage.h"
#include "wrapper.h"

static const char *const inbox_usage[] = {
	"git thrum inbox [--unread] [--all] [--limit <n>] [--from <@name>] "
	"[--include-deleted] [--no-mark-read] [--json]",
	NULL
};

struct inbox_opts {
	struct inbox_query q;
	int no_mark, json;
	const char *limit;
};

static void inbox_opt(int opt, const char *arg, void *payload)
{
	struct inbox_opts *o = payload;

	switch (opt) {
	case 'u': o->q.unread_only = 1; break;
	case 'a': o->q.all = 1; break;
	case 'l': o->limit = arg; break;
	case 'f': o->q.from = arg[0] == '@' ? arg + 1 : arg; break;
	case 'd': o->q.include_deleted = 1; break;
	case 'n': o->no_mark = 1; break;
	case 'j': o->json = 1; break;
	}
}

int cmd_inbox(int argc, const char **argv, struct thrum_ctx *ctx)
{
	static const struct option opts[] = {
		{ "unread", no_argument, NULL, 'u' },
		{ "all", no_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'l' },
		{ "from", required_argument, NULL, 'f' },
		{ "include-deleted", no_argument, NULL, 'd' },
		{ "no-mark-read", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct inbox_opts o;
	struct message_list l = MESSAGE_LIST_INIT;
	int ret = 1;

	memset(&o, 0, sizeof(o));
	if (parse_options(argc, argv, opts, inbox_usage, inbox_opt, &o) < argc)
		usage_msg(inbox_usage, "too many arguments");
	if (o.limit && thrum_parse_long(o.limit, 1, LONG_MAX, &o.q.limit) < 0)
		usage_msg(inbox_usage, "invalid --limit '%s': want a positive "
			  "number", o.limit);
	ctx_need_projection(ctx);
	if (ctx_need_reader(ctx) < 0)
		goto out;
	o.q.me = ctx->me.agent_id;
	o.q.role = ctx->me.role;
	if (projection_inbox(ctx->proj, &o.q, &l) < 0)
		goto out;
	if (o.json) {
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
	if (!o.no_mark && !o.q.unread_only &&
	    message_mark_read(ctx, &l) < 0)
		goto out;
	ret = 0;
out:
	message_list_release(&l);
	return ret;
}

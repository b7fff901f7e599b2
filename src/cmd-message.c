/*
 * git thrum message show|read|edit|delete: one message.  Edits and
 * deletes are new events (the log is append-only) and only the author
 * may make them; read marks messages read (a message.receipt each) without
 * showing them.
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
	const char *reason;
	int no_mark, json, thread, all, include_bad;
} opt;

static int show(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct message_list l = MESSAGE_LIST_INIT;
	struct core *c = ctx_core(ctx);
	int ret = 1;

	if (opt.thread)
		return show_thread(ctx, argv[0], opt.no_mark, opt.json);
	/* without an identity the clone's human user reads it */
	ctx_include_bad(ctx, opt.include_bad);
	if (message_lookup(c, argv[0], &l) < 0)
		goto out;
	if (opt.json) {
		format_message_json(&l, 0, stdout);
	} else {
		format_set_color(want_color(ctx->repo.worktree));
		format_messages_text(&l, stdout);
		format_signer_text(&l.items[0], stdout);
	}
	if (!opt.no_mark && message_mark_read(c, &l) < 0)
		goto out;
	ret = 0;
out:
	message_list_release(&l);
	return ret;
}

/*
 * The messages argv names (each once), or with --all everything in my
 * inbox I have not read, into l; 0 or -1
 */
static int to_mark(struct thrum_ctx *ctx, int argc, const char **argv,
		   struct message_list *l)
{
	struct inbox_query q = { 0 };
	int i;

	if (opt.all) {
		q.me = ctx->me.agent_id;
		q.role = ctx->me.role;
		q.unread_only = 1;
		return projection_inbox(ctx->proj, &q, l);
	}
	for (i = 0; i < argc; i++) {
		struct message_list one = MESSAGE_LIST_INIT;
		size_t j;
		int dup = 0;

		if (message_lookup(ctx_core(ctx), argv[i], &one) < 0)
			return -1;
		for (j = 0; j < l->nr && !dup; j++)
			dup = !strcmp(l->items[j].message_id,
				      one.items[0].message_id);
		if (!dup) {
			/* named twice: one receipt */
			ALLOC_GROW(l->items, l->nr + 1, l->alloc);
			l->items[l->nr++] = one.items[0];
			one.nr = 0;
		}
		message_list_release(&one);
	}
	return 0;
}

static const struct cmd_args read_args;

static int read_cmd(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct message_list l = MESSAGE_LIST_INIT;
	struct core *c = ctx_core(ctx);
	size_t i, marked = 0;
	int ret = 1;

	if (!opt.all == !argc)
		usage_opt_msg(read_args.usage, read_args.options,
			      argc ? "give message ids or --all, not both"
				   : "want message ids or --all");
	if (to_mark(ctx, argc, argv, &l) < 0)
		goto out;
	for (i = 0; i < l.nr; i++)
		marked += c->me && !l.items[i].is_read &&
			  strcmp(l.items[i].agent_id, c->me->agent_id);
	if (message_mark_read(c, &l) < 0)
		goto out;
	if (opt.json) {
		format_marked_json(marked, stdout);
	} else {
		printf("marked %zu message%s read\n", marked,
		       marked == 1 ? "" : "s");
	}
	ret = 0;
out:
	message_list_release(&l);
	return ret;
}

/* edit (body_arg non-NULL) or delete */
static int change(struct thrum_ctx *ctx, const char *id, const char *body_arg)
{
	char *body = NULL, *msg_id = NULL, *ev_id = NULL;
	int ret = 1;

	if (body_arg && !(body = read_body(body_arg)))
		goto out;
	if (message_change(ctx_core(ctx), id, body, opt.reason, &msg_id,
			   &ev_id) < 0)
		goto out;
	if (opt.json)
		format_kv_json(stdout, "message_id", msg_id,
			       "event_id", ev_id, NULL);
	else
		printf("%s %s\n", body_arg ? "edited" : "deleted", msg_id);
	ret = 0;
out:
	free(body);
	free(msg_id);
	free(ev_id);
	return ret;
}

static int edit(int argc, const char **argv, struct thrum_ctx *ctx)
{
	return change(ctx, argv[0], argv[1]);
}

static int delete(int argc, const char **argv, struct thrum_ctx *ctx)
{
	return change(ctx, argv[0], NULL);
}

static const struct thrum_option show_options[] = {
	OPT_BOOL("thread", &opt.thread, "the whole thread it is in"),
	OPT_BOOL("no-mark-read", &opt.no_mark, "leave it unread"),
	OPT_BOOL("include-bad", &opt.include_bad,
		 "even if it does not count (bad or foreign signature)"),
	OPT_JSON(&opt.json),
	OPT_END()
};

static const struct thrum_option read_options[] = {
	OPT_BOOL("all", &opt.all, "everything in my inbox I have not read"),
	OPT_JSON(&opt.json),
	OPT_END()
};

static const struct thrum_option edit_options[] = {
	OPT_JSON(&opt.json),
	OPT_END()
};

static const struct thrum_option delete_options[] = {
	OPT_TEXT("reason", &opt.reason, "<text>", "why, for the readers"),
	OPT_JSON(&opt.json),
	OPT_END()
};


static const struct cmd_args show_args = {
	{ "git thrum message show <id> [--thread] [--no-mark-read] "
	  "[--include-bad] [--json]" },
	show_options, 1, 1, "want: message show <id>"
};
static const struct cmd_args read_args = {
	{ "git thrum message read (<id>... | --all) [--json]" },
	read_options, 0, -1
};
static const struct cmd_args edit_args = {
	{ "git thrum message edit <id> (<body> | -) [--json]" },
	edit_options, 2, 2, "want: message edit <id> <body>"
};
static const struct cmd_args delete_args = {
	{ "git thrum message delete <id> [--reason <text>] [--json]" },
	delete_options, 1, 1, "want: message delete <id>"
};

static const struct cmd_spec message_sub[] = {
	{ "show", show, NEED_READER, "one message", &show_args },
	{ "read", read_cmd, NEED_READER, "mark messages read", &read_args },
	{ "edit", edit, NEED_ME, "change my message", &edit_args },
	{ "delete", delete, NEED_ME, "delete my message", &delete_args },
	{ NULL }
};

const struct cmd_args message_args = { .sub = message_sub };

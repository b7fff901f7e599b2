/*
 * git thrum thread (and message show --thread): a whole thread, root
 * first, each reply indented under the message it answers, siblings in
 * the order they were written (git-thrum(1)).  What it shows it marks
 * read, as message show does, unless --no-mark-read.
 */
#include "thrum.h"
#include "cmd.h"
#include "core.h"
#include "format.h"
#include "messaging.h"
#include "pager.h"
#include "parse-options.h"
#include "projection.h"
#include "usage.h"

static struct {
	int no_mark, json;
} opt;

int show_messages(struct thrum_ctx *ctx, const struct message_list *l,
		  const int *depth, int json, const char *what)
{
	if (json && depth) {
		format_thread_json(l, depth, stdout);
	} else if (json) {
		format_messages_json(l, stdout);
	} else if (!l->nr) {
		printf("no messages\n");
	} else {
		/* like git log: colour and a pager, on a terminal only */
		format_set_color(want_color(ctx->repo.worktree));
		setup_pager(ctx->repo.worktree);
		if (depth)
			format_thread_text(l, depth, stdout);
		else
			format_messages_text(l, stdout);
	}
	if (fflush(stdout) || ferror(stdout))
		return error_errno("cannot write %s", what);
	return 0;
}

int show_thread(struct thrum_ctx *ctx, const char *id, int no_mark, int json)
{
	struct message_list l = MESSAGE_LIST_INIT;
	struct core *c = ctx_core(ctx);
	int *depth = NULL, ret = 1, r;

	r = projection_thread(ctx->proj, id, c->me ? c->me->agent_id : NULL,
			      &l, &depth);
	if (r == THRUM_ENOTFOUND)
		error("no message '%s'", id);
	else if (r == THRUM_EINVALID)
		error("message id '%s' is ambiguous", id);
	if (r)
		goto out;
	if (show_messages(ctx, &l, depth, json, "the thread") < 0)
		goto out;
	if (!no_mark && message_mark_read(c, &l) < 0)
		goto out;
	ret = 0;
out:
	free(depth);
	message_list_release(&l);
	return ret;
}

static const struct thrum_option thread_options[] = {
	OPT_BOOL("no-mark-read", &opt.no_mark, "leave them unread"),
	OPT_JSON(&opt.json),
	OPT_END()
};

const struct cmd_args thread_args = {
	{ "git thrum thread <id> [--no-mark-read] [--json]" },
	thread_options, 1, 1, "want: thread <id>"
};

int cmd_thread(int argc, const char **argv, struct thrum_ctx *ctx)
{
	return show_thread(ctx, argv[0], opt.no_mark, opt.json);
}

/*
 * git thrum message show|edit|delete: one message.  Edits and deletes are
 * new events (the log is append-only) and only the author may make them.
 */
#include "thrum.h"
#include "cmd.h"
#include "event.h"
#include "format.h"
#include "strbuf.h"
#include "pager.h"
#include "messaging.h"
#include "projection.h"
#include "usage.h"
#include "utf8.h"
#include "wrapper.h"

static const char *const message_usage[] = {
	"git thrum message show <id> [--no-mark-read] [--json]",
	"git thrum message edit <id> (<body> | -) [--json]",
	"git thrum message delete <id> [--reason <text>] [--json]",
	NULL
};

struct message_opts {
	const char *reason;
	int no_mark, json;
};

static void message_opt(int opt, const char *arg, void *payload)
{
	struct message_opts *o = payload;

	switch (opt) {
	case 'r': o->reason = arg; break;
	case 'n': o->no_mark = 1; break;
	case 'j': o->json = 1; break;
	}
}

static int show(struct thrum_ctx *ctx, const char *id,
		const struct message_opts *o)
{
	struct message_list l = MESSAGE_LIST_INIT;
	int ret = 1;

	/* without an identity the clone's human user reads it */
	ctx_need_projection(ctx);
	if (ctx_need_reader(ctx) < 0)
		goto out;
	if (message_lookup(ctx, id, &l) < 0)
		goto out;
	if (o->json) {
		format_message_json(&l, 0, stdout);
	} else {
		format_set_color(want_color(ctx->repo.worktree));
		format_messages_text(&l, stdout);
	}
	if (!o->no_mark && ctx->have_me && message_mark_read(ctx, &l) < 0)
		goto out;
	ret = 0;
out:
	message_list_release(&l);
	return ret;
}

static int change(struct thrum_ctx *ctx, int is_edit, const char *id,
		  const char *body_arg, const struct message_opts *o)
{
	struct message_list l = MESSAGE_LIST_INIT;
	struct event ev = EVENT_INIT;
	struct event *list[1] = { &ev };
	const struct message *m;
	char *body = NULL;
	const char *origin;
	int ret = 1;

	ctx_need_projection(ctx);
	if (ctx_need_me(ctx) < 0 || message_lookup(ctx, id, &l) < 0)
		goto out;
	m = &l.items[0];
	if (strcmp(m->agent_id, ctx->me.agent_id)) {
		struct strbuf who = STRBUF_INIT, msg = STRBUF_INIT;

		error("only the author ('%s') can %s message '%s'",
		      format_safe(&who, m->agent_id),
		      is_edit ? "edit" : "delete",
		      format_safe(&msg, m->message_id));
		strbuf_release(&who);
		strbuf_release(&msg);
		goto out;
	}
	if (m->deleted) {
		error("message '%s' is already deleted", m->message_id);
		goto out;
	}
	if (is_edit && !(body = read_body(body_arg)))
		goto out;
	origin = ctx_origin(ctx);
	if (!origin || event_init_new(&ev, is_edit ? EV_MESSAGE_EDIT
						    : EV_MESSAGE_DELETE,
				      origin) < 0)
		goto out;
	ev.message_id = xstrdup(m->message_id);
	ev.agent_id = xstrdup(ctx->me.agent_id);
	ev.session_id = xstrdup_or_null(ctx->me.session_id);
	if (is_edit) {
		ev.body_format = xstrdup("markdown");
		ev.body_content = body;
		body = NULL;
	} else if (o->reason) {
		ev.reason = xstrdup(o->reason);
	}
	if (ctx_append(ctx, ctx->me.name, list, 1) < 0)
		goto out;
	if (o->json)
		format_kv_json(stdout, "message_id", m->message_id,
			       "event_id", ev.event_id, NULL);
	else
		printf("%s %s\n", is_edit ? "edited" : "deleted",
		       m->message_id);
	ret = 0;
out:
	free(body);
	event_release(&ev);
	message_list_release(&l);
	return ret;
}

int cmd_message(int argc, const char **argv, struct thrum_ctx *ctx)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "no-mark-read", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct message_opts o = { 0 };
	const char *sub;
	size_t bad;
	int i;

	if (argc < 2)
		usage_msg(message_usage, "want show, edit or delete");
	if (!strcmp(argv[1], "-h"))
		usage_help(message_usage);
	sub = argv[1];
	i = 1 + parse_options(argc - 1, argv + 1, opts, message_usage,
			      message_opt, &o);
	if (!strcmp(sub, "show")) {
		if (argc - i != 1 || o.reason)
			usage_msg(message_usage, "want: message show <id>");
		return show(ctx, argv[i], &o);
	}
	if (!strcmp(sub, "edit")) {
		if (argc - i != 2 || o.reason || o.no_mark)
			usage_msg(message_usage,
				  "want: message edit <id> <body>");
		return change(ctx, 1, argv[i], argv[i + 1], &o);
	}
	if (!strcmp(sub, "delete")) {
		if (argc - i != 1 || o.no_mark)
			usage_msg(message_usage, "want: message delete <id>");
		if ((bad = utf8_invalid_at(o.reason)))
			usage_msg(message_usage, "--reason is not valid UTF-8 "
				  "(byte %zu)", bad);
		return change(ctx, 0, argv[i], NULL, &o);
	}
	usage_msg(message_usage, "unknown subcommand '%s'", sub);
}

/*
 * git thrum session start|end: an agent's working session.  `start`
 * ends a session left open, starts a new one (agent.session.start) and,
 * with --intent, says what it is about (agent.update); `end` closes it
 * (agent.session.end).  The identity file remembers the open session.
 */
#include "thrum.h"
#include "cmd.h"
#include "event.h"
#include "ulid.h"
#include "usage.h"
#include "utf8.h"
#include "wrapper.h"

static const char *const session_usage[] = {
	"git thrum session start [--intent <text>]",
	"git thrum session end [--reason <text>]",
	NULL
};

struct session_opts {
	const char *intent, *reason;
};

static void session_opt(int opt, const char *arg, void *payload)
{
	struct session_opts *o = payload;

	if (opt == 'i')
		o->intent = arg;
	else if (opt == 'r')
		o->reason = arg;
}

static int end_event(struct thrum_ctx *ctx, struct event *ev,
		     const char *reason)
{
	if (event_init_new(ev, EV_AGENT_SESSION_END, ctx_origin(ctx)) < 0)
		return -1;
	ev->agent_id = xstrdup(ctx->me.agent_id);
	ev->session_id = xstrdup(ctx->me.session_id);
	ev->reason = xstrdup(reason);
	return 0;
}

int cmd_session(int argc, const char **argv, struct thrum_ctx *ctx)
{
	static const struct option opts[] = {
		{ "intent", required_argument, NULL, 'i' },
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct session_opts o = { 0 };
	struct event evs[3];
	struct event *list[3];
	size_t nr = 0, i, bad;
	int start, ret = 1;

	memset(evs, 0, sizeof(evs));
	if (argc < 2)
		usage_msg(session_usage, "want start or end");
	if (!strcmp(argv[1], "-h"))
		usage_help(session_usage);
	if (strcmp(argv[1], "start") && strcmp(argv[1], "end"))
		usage_msg(session_usage, "unknown subcommand '%s'", argv[1]);
	start = !strcmp(argv[1], "start");
	if (parse_options(argc - 1, argv + 1, opts, session_usage,
			  session_opt, &o) < argc - 1)
		usage_msg(session_usage, "too many arguments");
	if ((start && o.reason) || (!start && o.intent))
		usage_msg(session_usage, "--intent goes with start, --reason "
			  "with end");
	if ((bad = utf8_invalid_at(start ? o.intent : o.reason)))
		usage_msg(session_usage, "%s is not valid UTF-8 (byte %zu)",
			  start ? "--intent" : "--reason", bad);
	ctx_need_projection(ctx);
	if (ctx_need_me(ctx) < 0 || !ctx_origin(ctx))
		return 1;
	if (!start && !ctx->me.session_id) {
		error("no open session for '%s'", ctx->me.name);
		return 1;
	}
	if (ctx->me.session_id) {
		if (end_event(ctx, &evs[nr], start ? "restart" : o.reason ?
			      o.reason : "normal") < 0)
			goto out;
		list[nr] = &evs[nr];
		nr++;
	}
	free(ctx->me.session_id);
	ctx->me.session_id = NULL;
	if (start) {
		ctx->me.session_id = ulid_new_id("ses_");
		if (event_init_new(&evs[nr], EV_AGENT_SESSION_START,
				   ctx_origin(ctx)) < 0)
			goto out;
		evs[nr].agent_id = xstrdup(ctx->me.agent_id);
		evs[nr].session_id = xstrdup(ctx->me.session_id);
		list[nr] = &evs[nr];
		nr++;
		if (o.intent) {
			if (event_init_new(&evs[nr], EV_AGENT_UPDATE,
					   ctx_origin(ctx)) < 0)
				goto out;
			evs[nr].agent_id = xstrdup(ctx->me.agent_id);
			evs[nr].session_id = xstrdup(ctx->me.session_id);
			evs[nr].intent = xstrdup(o.intent);
			list[nr] = &evs[nr];
			nr++;
			free(ctx->me.intent);
			ctx->me.intent = xstrdup(o.intent);
		}
	}
	if (ctx_append(ctx, NULL, list, nr) < 0 ||
	    identity_save(&ctx->repo, &ctx->me) < 0)
		goto out;
	if (start)
		printf("session %s started\n", ctx->me.session_id);
	else
		printf("session ended\n");
	ret = 0;
out:
	for (i = 0; i < ARRAY_SIZE(evs); i++)
		event_release(&evs[i]);
	return ret;
}

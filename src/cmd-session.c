/*
 * git thrum session start|end|heartbeat: an agent's working session (the
 * core's session.h does the work; this prints).  heartbeat publishes the
 * session's work context when it changed (work-context.h).
 */
#include "thrum.h"
#include "cmd.h"
#include "identity.h"
#include "parse-options.h"
#include "session.h"
#include "usage.h"
#include "work-context.h"

static const char *intent, *reason;

static int start(int argc, const char **argv, struct thrum_ctx *ctx)
{
	if (session_start(ctx_core(ctx), intent) < 0)
		return 1;
	printf("session %s started\n", ctx->me.session_id);
	return 0;
}

static int end(int argc, const char **argv, struct thrum_ctx *ctx)
{
	if (session_end(ctx_core(ctx), reason) < 0)
		return 1;
	printf("session ended\n");
	return 0;
}

static int heartbeat(int argc, const char **argv, struct thrum_ctx *ctx)
{
	int ret;

	if (!ctx->me.session_id) {
		error("no open session for '%s'", ctx->me.name);
		return 1;
	}
	ret = work_context_publish(ctx_core(ctx), ctx->repo.worktree);
	if (ret < 0)
		return 1;
	if (ret)
		printf("work context published\n");
	return 0;
}

static const struct thrum_option start_options[] = {
	OPT_TEXT("intent", &intent, "<text>", "what this session is for"),
	OPT_END()
};

static const struct thrum_option end_options[] = {
	OPT_TEXT("reason", &reason, "<text>", "why it ends"),
	OPT_END()
};


static const struct cmd_args start_args = {
	{ "git thrum session start [--intent <text>]" }, start_options
};
static const struct cmd_args end_args = {
	{ "git thrum session end [--reason <text>]" }, end_options
};

static const struct cmd_args heartbeat_args = {
	{ "git thrum session heartbeat" }
};

static const struct cmd_spec session_sub[] = {
	{ "start", start, 0, "start a new session", &start_args },
	{ "end", end, 0, "end the open session", &end_args },
	{ "heartbeat", heartbeat, 0, "publish my work context if it changed",
	  &heartbeat_args },
	{ NULL }
};

const struct cmd_args session_args = { .sub = session_sub };

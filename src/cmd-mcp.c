/*
 * git thrum mcp: the Model Context Protocol server on standard input and
 * output, for agent runtimes (Claude Code, Codex, Cursor...) that start it
 * as a child.  `git thrum mcp serve` is the original's spelling.  The
 * identity is --agent NAME, else the one the CLI would take.
 */
#include "thrum.h"
#include "cmd.h"
#include "event.h"
#include "mcp.h"
#include "parse-options.h"
#include "usage.h"

static const char *agent;


static const struct thrum_option mcp_options[] = {
	OPT_STRING("agent", &agent, "<name>",
		   "act as this agent (default: as the CLI would)"),
	OPT_ALIAS_STRING("agent-id", &agent, "<name>"),
	OPT_END()
};

const struct cmd_args mcp_args = {
	{ "git thrum mcp [serve] [--agent <name>]" },
	mcp_options, 0, 1, NULL, NULL, "thrum-mcp"
};

int cmd_mcp(int argc, const char **argv, struct thrum_ctx *ctx)
{
	if (argc && strcmp(argv[0], "serve"))
		usage_opt_msg(mcp_args.usage, mcp_options, "unknown argument '%s'",
			      argv[0]);
	if (agent) {
		const char *why;

		if (!event_valid_name(agent, &why))
			usage_opt_msg(mcp_args.usage, mcp_options, "invalid agent name '%s': %s",
				  agent, why);
		/* chosen as THRUM_NAME chooses, for everything it runs */
		setenv("THRUM_NAME", agent, 1);
	}
	if (agent && ctx_need_me(ctx) < 0)
		return 1;
	return mcp_serve(ctx, 0, 1);
}

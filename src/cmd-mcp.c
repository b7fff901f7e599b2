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
#include "usage.h"

static const char *const mcp_usage[] = {
	"git thrum mcp [serve] [--agent <name>]",
	NULL
};

static void mcp_opt(int opt, const char *arg, void *payload)
{
	if (opt == 'a')
		*(const char **)payload = arg;
}

int cmd_mcp(int argc, const char **argv, struct thrum_ctx *ctx)
{
	static const struct option opts[] = {
		{ "agent", required_argument, NULL, 'a' },
		{ "agent-id", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	const char *agent = NULL;
	int i;

	i = parse_options(argc, argv, opts, mcp_usage, mcp_opt, &agent);
	if (i < argc && !strcmp(argv[i], "serve"))
		i++;
	if (i < argc)
		usage_msg(mcp_usage, "unknown argument '%s'", argv[i]);
	if (agent) {
		const char *why;

		if (!event_valid_name(agent, &why))
			usage_msg(mcp_usage, "invalid agent name '%s': %s",
				  agent, why);
		/* chosen as THRUM_NAME chooses, for everything it runs */
		setenv("THRUM_NAME", agent, 1);
	}
	ctx_need_store(ctx);
	if (agent && ctx_need_me(ctx) < 0)
		return 1;
	return mcp_serve(ctx, 0, 1);
}

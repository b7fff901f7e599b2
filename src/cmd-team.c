/*
 * git thrum team / git thrum agent list: who is on this repository.
 * `team` shows the agents with an open session, `agent list` every agent
 * ever registered.
 */
#include "thrum.h"
#include "cmd.h"
#include "format.h"
#include "pager.h"
#include "projection.h"
#include "usage.h"

static const char *const team_usage[] = {
	"git thrum team [--json]",
	NULL
};

static const char *const agent_usage[] = {
	"git thrum agent list [--json]",
	NULL
};

static int list_agents(struct thrum_ctx *ctx, int active_only, int json)
{
	struct agent_list l = AGENT_LIST_INIT;
	size_t i, kept = 0;

	ctx_need_projection(ctx);
	if (projection_agents(ctx->proj, &l) < 0)
		return 1;
	for (i = 0; i < l.nr; i++) {
		if (active_only && !l.items[i].session_id)
			continue;
		if (kept != i) {
			struct agent_info tmp = l.items[kept];

			l.items[kept] = l.items[i];
			l.items[i] = tmp;
		}
		kept++;
	}
	if (json) {
		size_t all = l.nr;

		l.nr = kept;
		format_agents_json(&l, stdout);
		l.nr = all;
	} else if (!kept) {
		printf(active_only ? "no active agents\n" : "no agents\n");
	} else {
		size_t all = l.nr;

		l.nr = kept;
		format_set_color(want_color(ctx->repo.worktree));
		format_agents_text(&l, stdout);
		l.nr = all;
	}
	agent_list_release(&l);
	return 0;
}

static const struct option json_only[] = {
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 }
};

int cmd_team(int argc, const char **argv, struct thrum_ctx *ctx)
{
	int json = 0;

	if (parse_options(argc, argv, json_only, team_usage, opt_json,
			  &json) < argc)
		usage_msg(team_usage, "too many arguments");
	return list_agents(ctx, 1, json);
}

int cmd_agent(int argc, const char **argv, struct thrum_ctx *ctx)
{
	int json = 0;

	if (argc < 2)
		usage_msg(agent_usage, "want a subcommand");
	if (!strcmp(argv[1], "-h"))
		usage_help(agent_usage);
	if (strcmp(argv[1], "list"))
		usage_msg(agent_usage, "unknown subcommand '%s'", argv[1]);
	if (parse_options(argc - 1, argv + 1, json_only, agent_usage,
			  opt_json, &json) < argc - 1)
		usage_msg(agent_usage, "too many arguments");
	return list_agents(ctx, 0, json);
}

/*
 * git thrum team / git thrum agent list: who is on this repository
 * (agent delete is in cmd-purge.c, agent rotate-key in
 * cmd-rotate-key.c).
 * `team` shows the agents with an open session, `agent list` every agent
 * ever registered.  `team` shows under each agent the branch and the
 * number of files changed of each of its sessions' work contexts.
 */
#include "thrum.h"
#include "cmd.h"
#include "format.h"
#include "pager.h"
#include "parse-options.h"
#include "projection.h"
#include "usage.h"



const struct cmd_args team_args = {
	{ "git thrum team [--json]" }, cmd_json_options
};

static int agent_list(int argc, const char **argv, struct thrum_ctx *ctx);


static const struct cmd_args agent_list_args = {
	{ "git thrum agent list [--json]" }, cmd_json_options
};

static const struct cmd_spec agent_sub[] = {
	{ "list", agent_list, 0, "every agent registered", &agent_list_args },
	{ "delete", cmd_agent_delete, 0, "delete one of my agents",
	  &agent_delete_args },
	{ "rotate-key", cmd_agent_rotate_key, 0,
	  "a new key for one of my agents, signed by the old",
	  &agent_rotate_key_args },
	{ NULL }
};

const struct cmd_args agent_args = { .sub = agent_sub };

static int list_agents(struct thrum_ctx *ctx, int active_only)
{
	struct agent_list l = AGENT_LIST_INIT;
	struct work_list w = WORK_LIST_INIT;
	size_t i, kept = 0;

	if (projection_agents(ctx->proj, &l) < 0 ||
	    (active_only && projection_work_contexts(ctx->proj, &w) < 0)) {
		agent_list_release(&l);
		return 1;
	}
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
	if (cmd_json) {
		size_t all = l.nr;

		l.nr = kept;
		if (active_only)
			format_team_json(&l, &w, stdout);
		else
			format_agents_json(&l, stdout);
		l.nr = all;
	} else if (!kept) {
		printf(active_only ? "no active agents\n" : "no agents\n");
	} else {
		size_t all = l.nr;

		l.nr = kept;
		format_set_color(want_color(ctx->repo.worktree));
		if (active_only)
			format_team_text(&l, &w, stdout);
		else
			format_agents_text(&l, stdout);
		l.nr = all;
	}
	work_list_release(&w);
	agent_list_release(&l);
	return 0;
}

int cmd_team(int argc, const char **argv, struct thrum_ctx *ctx)
{
	return list_agents(ctx, 1);
}

static int agent_list(int argc, const char **argv, struct thrum_ctx *ctx)
{
	return list_agents(ctx, 0);
}

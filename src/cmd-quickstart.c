/*
 * git thrum quickstart: create (or update) this work tree's identity and
 * open a session (the core's agents.h does it; this chooses the name and
 * prints).
 */
#include "thrum.h"
#include "cmd.h"
#include "parse-options.h"
#include "agents.h"
#include "event.h"
#include "format.h"
#include "run-command.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

struct qs_opts {
	const char *name, *role, *module, *intent;
	int json;
};

static struct qs_opts opt;

static const struct thrum_option quickstart_options[] = {
	OPT_STRING("role", &opt.role, "<role>", "what I do (coder, reviewer...)"),
	OPT_TEXT("module", &opt.module, "<module>", "the part I work on"),
	OPT_STRING("name", &opt.name, "<name>",
		   "my agent name (default: made from role and module)"),
	OPT_TEXT("intent", &opt.intent, "<text>", "what this session is for"),
	OPT_JSON(&opt.json),
	OPT_END()
};

const struct cmd_args quickstart_args = {
	{ "git thrum quickstart --role <role> --module <module> [--name <name>] "
	  "[--intent <text>] [--json]" }, quickstart_options
};

/*
 * No --name: THRUM_NAME, else the one identity this work tree has (a
 * name is stable for a work tree), else the name the original makes
 * from the role, the module and origin's URL.
 */
static char *default_name(struct thrum_ctx *ctx, const char *role,
			  const char *module)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf url = STRBUF_INIT;
	const char *env = getenv("THRUM_NAME");
	char *name;

	if (env && *env)
		return xstrdup(env);
	identity_list(&ctx->repo, &names);
	if (names.nr == 1) {
		name = xstrdup(names.v[0]);
		strvec_clear(&names);
		return name;
	}
	strvec_clear(&names);
	if (run_git(ctx->repo.worktree, RUN_GIT_QUIET, &url, "remote",
		    "get-url", "origin", NULL))
		strbuf_reset(&url);
	strbuf_trim(&url);
	name = identity_default_name(url.len ? url.buf : NULL, role, module);
	strbuf_release(&url);
	return name;
}

int cmd_quickstart(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct identity id = IDENTITY_INIT;
	struct agent_start rq = { 0 };
	const char *why;
	char host[256] = "";
	char *made_name = NULL;
	int updated = 0, ret = 1;

	if (!opt.role || !opt.module)
		usage_opt_msg(quickstart_args.usage, quickstart_options,
			      "--role and --module are required");
	if (opt.name && !event_valid_name(opt.name, &why))
		usage_opt_msg(quickstart_args.usage, quickstart_options,
			      "invalid agent name '%s': %s", opt.name, why);
	if (!event_valid_name(opt.role, &why))
		usage_opt_msg(quickstart_args.usage, quickstart_options,
			      "invalid role '%s': %s", opt.role, why);
	if (!*opt.module)
		usage_opt_msg(quickstart_args.usage, quickstart_options,
			      "empty module");
	if (!opt.name)
		opt.name = made_name = default_name(ctx, opt.role, opt.module);
	if (!event_valid_name(opt.name, &why)) {
		error("cannot make an agent name from role '%s': %s; give one "
		      "with --name", opt.role, why);
		goto out;
	}
	gethostname(host, sizeof(host) - 1);
	rq.name = opt.name;
	rq.role = opt.role;
	rq.module = opt.module;
	rq.intent = opt.intent;
	rq.worktree = ctx->repo.worktree;
	rq.hostname = host;
	if (agent_quickstart(ctx_core(ctx), &rq, &id, &updated) < 0)
		goto out;
	if (opt.json)
		format_identity_json(&id, stdout);
	else
		printf("%s agent '%s' (role %s, module %s), session %s\n",
		       updated ? "Updated" : "Registered", id.name, id.role,
		       id.module, id.session_id);
	ret = 0;
out:
	identity_release(&id);
	free(made_name);
	return ret;
}

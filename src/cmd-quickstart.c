/*
 * git thrum quickstart: create (or update) this work tree's identity and
 * open a session: agent.register (when new or changed),
 * agent.session.end for a session left open, agent.session.start, and
 * agent.update carrying the intent when one is given.
 */
#include "thrum.h"
#include "cmd.h"
#include "parse-options.h"
#include "event.h"
#include "format.h"
#include "run-command.h"
#include "strbuf.h"
#include "strvec.h"
#include "ulid.h"
#include "usage.h"
#include "utf8.h"
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

static int differs(const char *a, const char *b)
{
	return !a != !b || (a && strcmp(a, b));
}

int cmd_quickstart(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct identity old = IDENTITY_INIT, id = IDENTITY_INIT;
	struct event evs[4];
	struct event *list[4];
	const char *why, *origin;
	char host[256] = "";
	char *made_name = NULL;
	size_t nr = 0, i;
	int have_old, ret = 1;

	memset(evs, 0, sizeof(evs));
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
	origin = ctx_origin(ctx);
	if (!origin)
		goto out;

	have_old = identity_load(&ctx->repo, opt.name, &old);
	if (have_old == THRUM_EINVALID)
		warning("replacing the corrupt identity of '%s'", opt.name);
	have_old = have_old == 0;
	id.name = xstrdup(opt.name);
	id.agent_id = xstrdup(have_old ? old.agent_id : opt.name);
	id.kind = xstrdup("agent");
	id.role = xstrdup(opt.role);
	id.module = xstrdup(opt.module);
	id.worktree = xstrdup(ctx->repo.worktree);
	id.session_id = ulid_new_id("ses_");
	id.intent = xstrdup_or_null(opt.intent ? opt.intent
				    : have_old ? old.intent : NULL);
	gethostname(host, sizeof(host) - 1);

	if (!have_old || differs(old.role, id.role) ||
	    differs(old.module, id.module) ||
	    differs(old.worktree, id.worktree)) {
		struct event *ev = &evs[nr];

		if (event_init_new(ev, EV_AGENT_REGISTER, origin) < 0)
			goto out;
		ev->agent_id = xstrdup(id.agent_id);
		ev->kind = xstrdup(id.kind);
		ev->name = xstrdup(id.name);
		ev->role = xstrdup(id.role);
		ev->module = xstrdup(id.module);
		ev->worktree = xstrdup(id.worktree);
		if (*host)
			ev->hostname = xstrdup(host);
		list[nr] = &evs[nr];
		nr++;
	}
	if (have_old && old.session_id) {
		struct event *ev = &evs[nr];

		if (event_init_new(ev, EV_AGENT_SESSION_END, origin) < 0)
			goto out;
		ev->agent_id = xstrdup(id.agent_id);
		ev->session_id = xstrdup(old.session_id);
		ev->reason = xstrdup("restart");
		list[nr] = &evs[nr];
		nr++;
	}
	if (event_init_new(&evs[nr], EV_AGENT_SESSION_START, origin) < 0)
		goto out;
	evs[nr].agent_id = xstrdup(id.agent_id);
	evs[nr].session_id = xstrdup(id.session_id);
	list[nr] = &evs[nr];
	nr++;
	if (opt.intent) {
		if (event_init_new(&evs[nr], EV_AGENT_UPDATE, origin) < 0)
			goto out;
		evs[nr].agent_id = xstrdup(id.agent_id);
		evs[nr].session_id = xstrdup(id.session_id);
		evs[nr].intent = xstrdup(opt.intent);
		list[nr] = &evs[nr];
		nr++;
	}
	/* log first: an identity without its events would be a lie */
	if (core_append(ctx_core(ctx), NULL, list, nr) < 0 ||
	    identity_save(&ctx->repo, &id) < 0)
		goto out;

	if (opt.json)
		format_identity_json(&id, stdout);
	else
		printf("%s agent '%s' (role %s, module %s), session %s\n",
		       have_old ? "Updated" : "Registered", id.name, id.role,
		       id.module, id.session_id);
	ret = 0;
out:
	for (i = 0; i < ARRAY_SIZE(evs); i++)
		event_release(&evs[i]);
	identity_release(&old);
	identity_release(&id);
	free(made_name);
	return ret;
}

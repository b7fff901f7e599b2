/*
 * git thrum quickstart: create (or update) this work tree's identity and
 * open a session: agent.register (when new or changed),
 * agent.session.end for a session left open, agent.session.start, and
 * agent.update carrying the intent when one is given.
 */
#include "thrum.h"
#include "cmd.h"
#include "event.h"
#include "format.h"
#include "run-command.h"
#include "strbuf.h"
#include "strvec.h"
#include "ulid.h"
#include "usage.h"
#include "utf8.h"
#include "wrapper.h"

static const char *const quickstart_usage[] = {
	"git thrum quickstart --role <role> --module <module> [--name <name>] "
	"[--intent <text>] [--json]",
	NULL
};

struct qs_opts {
	const char *name, *role, *module, *intent;
	int json;
};

static void qs_opt(int opt, const char *arg, void *payload)
{
	struct qs_opts *o = payload;

	switch (opt) {
	case 'n': o->name = arg; break;
	case 'r': o->role = arg; break;
	case 'm': o->module = arg; break;
	case 'i': o->intent = arg; break;
	case 'j': o->json = 1; break;
	}
}

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
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "role", required_argument, NULL, 'r' },
		{ "module", required_argument, NULL, 'm' },
		{ "intent", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct qs_opts o = { 0 };
	struct identity old = IDENTITY_INIT, id = IDENTITY_INIT;
	struct event evs[4];
	struct event *list[4];
	const char *why, *origin;
	char host[256] = "";
	char *made_name = NULL;
	size_t nr = 0, i, bad;
	int have_old, ret = 1;

	memset(evs, 0, sizeof(evs));
	if (parse_options(argc, argv, opts, quickstart_usage, qs_opt, &o) <
	    argc)
		usage_msg(quickstart_usage, "too many arguments");
	if (!o.role || !o.module)
		usage_msg(quickstart_usage, "--role and --module are required");
	if (o.name && !event_valid_name(o.name, &why))
		usage_msg(quickstart_usage, "invalid agent name '%s': %s",
			  o.name, why);
	if (!event_valid_name(o.role, &why))
		usage_msg(quickstart_usage, "invalid role '%s': %s", o.role,
			  why);
	if (!*o.module)
		usage_msg(quickstart_usage, "empty module");
	if ((bad = utf8_invalid_at(o.module)) ||
	    (bad = utf8_invalid_at(o.intent)))
		usage_msg(quickstart_usage, "%s is not valid UTF-8 (byte %zu)",
			  utf8_invalid_at(o.module) ? "--module" : "--intent",
			  bad);
	ctx_need_projection(ctx);
	if (!o.name)
		o.name = made_name = default_name(ctx, o.role, o.module);
	if (!event_valid_name(o.name, &why)) {
		error("cannot make an agent name from role '%s': %s; give one "
		      "with --name", o.role, why);
		goto out;
	}
	origin = ctx_origin(ctx);
	if (!origin)
		goto out;

	have_old = identity_load(&ctx->repo, o.name, &old);
	if (have_old == THRUM_EINVALID)
		warning("replacing the corrupt identity of '%s'", o.name);
	have_old = have_old == 0;
	id.name = xstrdup(o.name);
	id.agent_id = xstrdup(have_old ? old.agent_id : o.name);
	id.kind = xstrdup("agent");
	id.role = xstrdup(o.role);
	id.module = xstrdup(o.module);
	id.worktree = xstrdup(ctx->repo.worktree);
	id.session_id = ulid_new_id("ses_");
	id.intent = xstrdup_or_null(o.intent ? o.intent
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
	if (o.intent) {
		if (event_init_new(&evs[nr], EV_AGENT_UPDATE, origin) < 0)
			goto out;
		evs[nr].agent_id = xstrdup(id.agent_id);
		evs[nr].session_id = xstrdup(id.session_id);
		evs[nr].intent = xstrdup(o.intent);
		list[nr] = &evs[nr];
		nr++;
	}
	/* log first: an identity without its events would be a lie */
	if (ctx_append(ctx, NULL, list, nr) < 0 ||
	    identity_save(&ctx->repo, &id) < 0)
		goto out;

	if (o.json)
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

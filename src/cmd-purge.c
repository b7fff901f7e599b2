/*
 * git thrum purge and git thrum agent delete: the two commands that take
 * things out of every clone's projection (purge.h, agents.h).  Both ask
 * first, as the original does: --yes, or "y" at a prompt on a terminal;
 * without a terminal and without --yes nothing is written.
 */
#include "thrum.h"
#include <json-c/json.h>
#include "cmd.h"
#include "agents.h"
#include "date.h"
#include "event.h"
#include "format.h"
#include "parse-options.h"
#include "projection.h"
#include "purge.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

static struct {
	const char *before;
	int yes;
	int json;
} opt;

/*
 * 1 when the user said yes to question (on stderr, the answer a line of
 * stdin), 0 when not; without --yes and no terminal, a usage error
 */
static int confirm(const char *const *usagestr,
		   const struct thrum_option *opts, const char *question)
{
	struct strbuf answer = STRBUF_INIT;
	int yes;

	if (opt.yes)
		return 1;
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
		usage_opt_msg(usagestr, opts, "not a terminal: say --yes to %s",
			      question);
	fprintf(stderr, "%s? [y/N] ", question);
	fflush(stderr);
	yes = strbuf_getline(&answer, stdin) >= 0 &&
	      (!strcmp(answer.buf, "y") || !strcmp(answer.buf, "Y") ||
	       !strcmp(answer.buf, "yes"));
	strbuf_release(&answer);
	if (!yes)
		fprintf(stderr, "canceled; nothing written\n");
	return yes;
}

static const struct thrum_option purge_options[] = {
	OPT_STRING("before", &opt.before, "<when>",
		   "what was made before: 7d, 24h, 2026-03-15, RFC 3339"),
	OPT_BOOL("yes", &opt.yes, "do not ask"),
	OPT_JSON(&opt.json),
	OPT_END()
};

const struct cmd_args purge_args = {
	{ "git thrum purge --before <when> [--yes] [--json]" },
	purge_options, 0, 0
};

int cmd_purge(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct strbuf q = STRBUF_INIT, sb = STRBUF_INIT;
	char shown[DATE_RFC3339_LEN + 1];
	long msgs = 0, sessions = 0;
	char *cutoff = NULL;
	int64_t ns;
	int ret = 1;

	if (!opt.before)
		usage_opt_msg(purge_args.usage, purge_options,
			      "--before is required");
	if (purge_parse_before(opt.before, date_now_ns(), &ns))
		usage_opt_msg(purge_args.usage, purge_options,
			      "invalid --before '%s': want 7d, 24h, "
			      "2026-03-15 or an RFC 3339 date-time",
			      format_safe(&sb, opt.before));
	date_format_rfc3339_sec(ns, shown);
	/* a purge counts only when signed by its agent's key: mine */
	if (ctx_need_me(ctx) < 0)
		goto out;
	if (projection_purge_counts(ctx->proj, ns, &msgs, &sessions) < 0)
		goto out;
	strbuf_addf(&q, "purge %ld message%s and %ld session%s from before %s"
		    " on every clone", msgs, msgs == 1 ? "" : "s", sessions,
		    sessions == 1 ? "" : "s", shown);
	if (!confirm(purge_args.usage, purge_options, q.buf))
		goto out;
	if (purge_execute(ctx_core(ctx), ns, &cutoff) < 0)
		goto out;
	if (opt.json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "before",
				       json_object_new_string(cutoff));
		json_object_object_add(o, "messages_deleted",
				       json_object_new_int64(msgs));
		json_object_object_add(o, "sessions_deleted",
				       json_object_new_int64(sessions));
		format_json(o, stdout);
	} else {
		printf("purged %ld message%s and %ld session%s from before %s"
		       " (the log keeps every line)\n", msgs,
		       msgs == 1 ? "" : "s", sessions, sessions == 1 ? "" : "s",
		       cutoff);
	}
	ret = 0;
out:
	free(cutoff);
	strbuf_release(&q);
	strbuf_release(&sb);
	return ret;
}

static const struct thrum_option delete_options[] = {
	OPT_BOOL("yes", &opt.yes, "do not ask"),
	OPT_JSON(&opt.json),
	OPT_END()
};

const struct cmd_args agent_delete_args = {
	{ "git thrum agent delete <name> [--yes] [--json]" },
	delete_options, 1, 1, "want: agent delete <name>"
};

int cmd_agent_delete(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct strbuf q = STRBUF_INIT, sb = STRBUF_INIT;
	const char *why = NULL;
	char *agent_id = NULL;
	int ret = 1;

	if (!event_valid_name(argv[0], &why))
		usage_opt_msg(agent_delete_args.usage, delete_options,
			      "invalid agent name '%s': %s",
			      format_safe(&sb, argv[0]), why);
	strbuf_addf(&q, "delete agent '%s' and its messages and sessions "
		    "on every clone", argv[0]);
	if (!confirm(agent_delete_args.usage, delete_options, q.buf))
		goto out;
	if (agent_delete(ctx_core(ctx), argv[0], &agent_id) < 0)
		goto out;
	if (opt.json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "agent_id",
				       json_object_new_string(agent_id));
		json_object_object_add(o, "deleted",
				       json_object_new_boolean(1));
		format_json(o, stdout);
	} else {
		printf("deleted agent '%s' (the log keeps every line)\n",
		       argv[0]);
	}
	ret = 0;
out:
	free(agent_id);
	strbuf_release(&q);
	strbuf_release(&sb);
	return ret;
}

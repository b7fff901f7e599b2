/*
 * git thrum whoami: the identity this work tree acts as (THRUM_NAME, or
 * the only identity file).
 */
#include "thrum.h"
#include "cmd.h"
#include "format.h"
#include "strbuf.h"
#include "usage.h"

static const char *const whoami_usage[] = {
	"git thrum whoami [--json]",
	NULL
};

int cmd_whoami(int argc, const char **argv, struct thrum_ctx *ctx)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct strbuf sb = STRBUF_INIT;
	int json = 0;

	if (parse_options(argc, argv, opts, whoami_usage, opt_json,
			  &json) < argc)
		usage_msg(whoami_usage, "too many arguments");
	ctx_need_store(ctx);
	if (ctx_need_me(ctx) < 0)
		return 1;
	if (json) {
		format_identity_json(&ctx->me, stdout);
		return 0;
	}
	printf("%s", format_safe(&sb, ctx->me.name));
	printf(" (role %s,", format_safe(&sb, ctx->me.role ? ctx->me.role
							  : "-"));
	printf(" module %s)\n", format_safe(&sb, ctx->me.module
					    ? ctx->me.module : "-"));
	printf("  agent id: %s\n", format_safe(&sb, ctx->me.agent_id));
	if (ctx->me.session_id)
		printf("  session:  %s\n",
		       format_safe(&sb, ctx->me.session_id));
	if (ctx->me.intent)
		printf("  intent:   %s\n", format_safe(&sb, ctx->me.intent));
	strbuf_release(&sb);
	return 0;
}

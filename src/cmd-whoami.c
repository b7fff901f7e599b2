/*
 * git thrum whoami: the identity this work tree acts as (THRUM_NAME, or
 * the only identity file).
 */
#include "thrum.h"
#include "cmd.h"
#include "format.h"
#include "parse-options.h"
#include "strbuf.h"
#include "usage.h"



const struct cmd_args whoami_args = {
	{ "git thrum whoami [--json]" }, cmd_json_options
};

int cmd_whoami(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct strbuf sb = STRBUF_INIT;
	if (cmd_json) {
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

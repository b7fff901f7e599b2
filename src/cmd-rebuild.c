/*
 * git thrum rebuild: throw the projection away and rebuild it from the
 * log.  Gives the same answers as the incrementally maintained database.
 */
#include "thrum.h"
#include "cmd.h"
#include "parse-options.h"
#include "format.h"
#include "projection.h"
#include "usage.h"



const struct cmd_args rebuild_args = {
	{ "git thrum rebuild [--json]" }, cmd_json_options
};

int cmd_rebuild(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct catch_up_stats stats;
	struct projection_counts c;

	/* hold the log still while the old database goes */
	if (store_lock(&ctx->store, LOCK_EX) < 0 ||
	    projection_rebuild(&ctx->proj, ctx->repo.var_dir, &ctx->store,
			       &stats) < 0 ||
	    projection_counts(ctx->proj, &c) < 0)
		return 1;
	store_unlock(&ctx->store);
	if (cmd_json) {
		char ev[32], msg[32], sk[32], cf[32];

		snprintf(ev, sizeof(ev), "%ld", c.events);
		snprintf(msg, sizeof(msg), "%ld", c.messages);
		snprintf(sk, sizeof(sk), "%ld", c.skipped);
		snprintf(cf, sizeof(cf), "%ld", c.conflicts);
		format_kv_json(stdout, "events", ev, "messages", msg,
			       "skipped", sk, "conflicts", cf, NULL);
	} else {
		printf("rebuilt: %ld events, %ld messages, %ld agents",
		       c.events, c.messages, c.agents);
		if (c.skipped || c.conflicts)
			printf(" (%ld lines skipped, %ld conflicts)",
			       c.skipped, c.conflicts);
		putchar('\n');
	}
	return 0;
}

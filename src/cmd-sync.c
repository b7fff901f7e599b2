/*
 * git thrum sync force|status: run one sync cycle now, or show how the
 * last one went.
 */
#include "thrum.h"
#include "cmd.h"
#include "daemon.h"
#include "format.h"
#include "strbuf.h"
#include "sync.h"
#include "usage.h"

static const char *const sync_usage[] = {
	"git thrum sync force [--json]",
	"git thrum sync status [--json]",
	NULL
};

static void print_summary(const struct sync_status *st)
{
	printf("%s", sync_state_name(st->state));
	if (st->state == SYNC_BUSY) {
		printf(": another sync cycle is running\n");
		return;
	}
	printf(": %ld new event%s", st->new_events,
	       st->new_events == 1 ? "" : "s");
	if (st->skipped)
		printf(", %ld skipped", st->skipped);
	if (st->conflicts)
		printf(", %ld conflicting", st->conflicts);
	if (st->committed)
		printf(", committed");
	if (st->pushed)
		printf(", pushed");
	if (st->state == SYNC_LOCAL_ONLY)
		printf(" (thrum.localOnly is true: nothing fetched or pushed)");
	if (st->last_error) {
		struct strbuf sb = STRBUF_INIT;

		printf(" (%s)", format_safe(&sb, st->last_error));
		strbuf_release(&sb);
	}
	putchar('\n');
}

static void print_status(const struct sync_status *st,
			 const struct thrum_config *cfg)
{
	printf("state:      %s\n", sync_state_name(st->state));
	printf("local-only: %s\n", cfg->local_only ? "yes" : "no");
	if (st->daemon_pid)
		printf("daemon:     running (pid %ld), a cycle every %ld s\n",
		       st->daemon_pid, (long)cfg->sync_interval);
	else
		printf("daemon:     stopped ('git thrum daemon start' runs "
		       "it)\n");
	printf("last sync:  %s\n", st->last_sync_at ? st->last_sync_at
						     : "never");
	if (st->last_error) {
		struct strbuf sb = STRBUF_INIT;

		printf("last error: %s\n", format_safe(&sb, st->last_error));
		strbuf_release(&sb);
	}
	printf("last cycle: %ld new, %ld skipped, %ld conflicting\n",
	       st->new_events, st->skipped, st->conflicts);
	printf("a-sync:     %ld ahead, %ld behind the remote\n", st->ahead,
	       st->behind);
}

/* the daemon's pid for the status: 0 when none runs, -1 while one starts */
static long daemon_pid(struct thrum_ctx *ctx)
{
	long pid = 0;

	if (!daemon_running(&ctx->repo, &pid))
		return 0;
	return pid > 0 ? pid : -1;
}

int cmd_sync(int argc, const char **argv, struct thrum_ctx *ctx)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct sync_status st = SYNC_STATUS_INIT;
	int json = 0, ret = 0;

	if (argc < 2)
		usage_msg(sync_usage, "want force or status");
	if (!strcmp(argv[1], "-h"))
		usage_help(sync_usage);
	if (parse_options(argc - 1, argv + 1, opts, sync_usage, opt_json,
			  &json) < argc - 1)
		usage_msg(sync_usage, "too many arguments");
	if (strcmp(argv[1], "force") && strcmp(argv[1], "status"))
		usage_msg(sync_usage, "unknown subcommand '%s'", argv[1]);
	ctx_need_store(ctx);
	ctx_need_config(ctx);
	if (!strcmp(argv[1], "force")) {
		/* the cycle opens the database only when something arrived */
		if (sync_cycle(&ctx->repo, &ctx->cfg, &ctx->store, NULL, 0,
			       &st) < 0)
			ret = 1;
		st.daemon_pid = daemon_pid(ctx);
		if (json)
			format_sync_status_json(&st, ctx->cfg.local_only, stdout);
		else
			print_summary(&st);
	} else {
		if (sync_status_read(&ctx->repo, &st) < 0) {
			ret = 1;
		} else {
			st.daemon_pid = daemon_pid(ctx);
			if (json)
				format_sync_status_json(&st,
							ctx->cfg.local_only,
							stdout);
			else
				print_status(&st, &ctx->cfg);
		}
	}
	sync_status_release(&st);
	return ret;
}

/*
 * git thrum sync force|status: run one sync cycle now, or show how the
 * last one went.
 */
#include "thrum.h"
#include "cmd.h"
#include "daemon.h"
#include "daemon-peers.h"
#include "format.h"
#include "parse-options.h"
#include "strbuf.h"
#include "sync.h"
#include "usage.h"
#include "wrapper.h"

static void print_summary(const struct sync_status *st)
{
	printf("%s", sync_state_name(st->state));
	if (st->state == SYNC_BUSY && !st->last_error) {
		printf(": another sync cycle is running\n");
		return;
	}
	printf(": %ld new event%s", st->new_events,
	       st->new_events == 1 ? "" : "s");
	if (st->skipped)
		printf(", %ld line%s skipped", st->skipped,
		       st->skipped == 1 ? "" : "s");
	if (st->skipped_entries)
		printf(", %ld tree entr%s skipped", st->skipped_entries,
		       st->skipped_entries == 1 ? "y" : "ies");
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
			 const struct thrum_config *cfg, int daemon_local,
			 const struct peer_report *peers)
{
	printf("state:      %s%s\n", sync_state_name(st->state),
	       st->running ? " (a cycle is running now)" : "");
	printf("remote:     %s\n", cfg->remote);
	printf("local-only: %s\n", daemon_local ? "yes (daemon start --local)"
				    : cfg->local_only ? "yes" : "no");
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
	if (st->state == SYNC_AUTH && st->retry_at)
		printf("back-off:   the daemon asks the remote again at %s "
		       "('git thrum sync force' now)\n", st->retry_at);
	printf("last cycle: %ld new, %ld lines and %ld tree entries "
	       "skipped, %ld conflicting\n", st->new_events, st->skipped,
	       st->skipped_entries, st->conflicts);
	printf("a-sync:     %ld ahead, %ld behind the remote\n", st->ahead,
	       st->behind);
	if (peers && peers->nr) {
		printf("peers:      %s\n", peers->listen ? peers->listen
				: "not listening ('git thrum peer status')");
		format_peers_text(peers, "  ", stdout);
	}
}

/* the daemon's pid for the status: 0 when none runs, -1 while one starts */
static long daemon_pid(struct thrum_ctx *ctx)
{
	long pid = 0;

	if (!daemon_running(&ctx->repo, &pid))
		return 0;
	return pid > 0 ? pid : -1;
}

/* a daemon started with --local keeps this clone off the network */
static int daemon_local(struct thrum_ctx *ctx)
{
	int local = daemon_local_only(&ctx->repo);

	if (local)
		ctx->cfg.local_only = 1;
	return local;
}

static int force(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct sync_status st = SYNC_STATUS_INIT;
	int ret = 0;

	daemon_local(ctx);
	/*
	 * The cycle opens the database only when something arrived, waits
	 * for one that runs already rather than saying busy.  The user is
	 * there: git may prompt.  Every outcome but these three is a
	 * failure (the events wait, committed).
	 */
	if (sync_cycle(&ctx->repo, &ctx->cfg, &ctx->store, NULL,
		       SYNC_WAIT | SYNC_INTERACTIVE, &st) < 0 ||
	    (st.state != SYNC_SYNCED && st.state != SYNC_LOCAL_ONLY &&
	     st.state != SYNC_BUSY))
		ret = 1;
	st.daemon_pid = daemon_pid(ctx);
	if (cmd_json)
		format_sync_status_json(&st, ctx->cfg.local_only, stdout);
	else
		print_summary(&st);
	sync_status_release(&st);
	return ret;
}

static int status(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct sync_status st = SYNC_STATUS_INIT;
	struct peer_report peers = PEER_REPORT_INIT;
	int local = daemon_local(ctx), ret = 1;
	int have_peers = 0;

	if (sync_status_read(&ctx->repo, &st) < 0)
		goto out;
	st.daemon_pid = daemon_pid(ctx);
	st.running = sync_running(&ctx->repo);
	/* with pairs: the nudges as the daemon counted them, or none */
	if (peer_list_present(&ctx->repo))
		have_peers = !peer_report_fetch(&ctx->repo, &peers, NULL) ||
			     !peer_report_from_file(&ctx->repo, &peers);
	/* the remote it uses, even before the first cycle */
	free(st.remote);
	st.remote = xstrdup(ctx->cfg.remote);
	if (cmd_json)
		format_sync_status_peers_json(&st, ctx->cfg.local_only,
					      have_peers ? &peers : NULL,
					      stdout);
	else
		print_status(&st, &ctx->cfg, local,
			     have_peers ? &peers : NULL);
	ret = 0;
out:
	peer_report_release(&peers);
	sync_status_release(&st);
	return ret;
}



static const struct cmd_args force_args = {
	{ "git thrum sync force [--json]" }, cmd_json_options
};
static const struct cmd_args status_args = {
	{ "git thrum sync status [--json]" }, cmd_json_options
};

static const struct cmd_spec sync_sub[] = {
	{ "force", force, 0, "one sync cycle now", &force_args },
	{ "status", status, 0, "how the last cycle went", &status_args },
	{ NULL }
};

const struct cmd_args sync_args = { .sub = sync_sub };

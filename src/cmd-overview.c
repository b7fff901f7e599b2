/*
 * git thrum overview: one screen of where I stand: who I am here, my
 * session and intent, how many messages wait unread, how sync goes (the
 * last cycle, ahead and behind, the daemon, peers: what `sync status`
 * reads) and the team with what each agent works on.
 */
#include "thrum.h"
#include "cmd.h"
#include "daemon.h"
#include "format.h"
#include "parse-options.h"
#include "peer.h"
#include "projection.h"
#include "sync.h"
#include "usage.h"

const struct cmd_args overview_args = {
	{ "git thrum overview [--json]" }, cmd_json_options
};

static long count_unread(struct thrum_ctx *ctx)
{
	struct message_list l = MESSAGE_LIST_INIT;
	struct inbox_query q = { 0 };
	long n;

	q.me = ctx->me.agent_id;
	q.role = ctx->me.role;
	q.unread_only = 1;
	if (projection_inbox(ctx->proj, &q, &l) < 0)
		return -1;
	n = (long)l.nr;
	message_list_release(&l);
	return n;
}

int cmd_overview(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct sync_status st = SYNC_STATUS_INIT;
	struct peer_report peers = PEER_REPORT_INIT;
	struct agent_list agents = AGENT_LIST_INIT;
	struct work_list work = WORK_LIST_INIT;
	struct overview o = { 0 };
	long pid = 0;
	int ret = 1;

	if ((o.unread = count_unread(ctx)) < 0 ||
	    sync_status_read(&ctx->repo, &st) < 0 ||
	    projection_agents(ctx->proj, &agents) < 0 ||
	    projection_work_contexts(ctx->proj, &work) < 0)
		goto out;
	if (daemon_running(&ctx->repo, &pid))
		st.daemon_pid = pid > 0 ? pid : -1;
	if (peer_list_present(&ctx->repo) &&
	    !peer_report_from_file(&ctx->repo, &peers))
		o.peers = peers.nr;
	o.me = &ctx->me;
	o.sync = &st;
	o.local_only = ctx->cfg.local_only || daemon_local_only(&ctx->repo);
	o.agents = &agents;
	o.work = &work;
	if (cmd_json)
		format_overview_json(&o, stdout);
	else
		format_overview_text(&o, stdout);
	ret = 0;
out:
	work_list_release(&work);
	agent_list_release(&agents);
	peer_report_release(&peers);
	sync_status_release(&st);
	return ret;
}

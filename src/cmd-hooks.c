/*
 * git thrum hooks install|uninstall|status, and `git thrum hook`, the
 * command the installed hooks run.  A hook never fails the user's git
 * command because of thrum: `git thrum hook` prints at most one line and
 * exits 0.
 */
#include "thrum.h"
#include "cmd.h"
#include "format.h"
#include "hooks.h"
#include "parse-options.h"
#include "projection.h"
#include "run-command.h"
#include "strbuf.h"
#include "sync.h"
#include "synctree.h"
#include "usage.h"
#include "wrapper.h"




static int status(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct hooks_report rep;
	struct strbuf out = STRBUF_INIT;
	int bad;

	if (!cmd_json) {
		bad = hooks_status(&ctx->repo, &ctx->cfg, &out);
		fputs(out.buf, stdout);
		strbuf_release(&out);
		return bad ? 1 : 0;
	}
	bad = hooks_inspect(&ctx->repo, &ctx->cfg, &rep);
	format_hooks_json(&rep, stdout);
	hooks_report_release(&rep);
	return bad ? 1 : 0;
}

static int change_hooks(struct thrum_ctx *ctx, int remove)
{
	if (remove ? hooks_uninstall(&ctx->repo) < 0
		   : hooks_install(&ctx->repo, &ctx->cfg) < 0)
		return 1;
	if (cmd_json)
		format_kv_json(stdout, "hooks", remove ? "removed"
						       : "installed", NULL);
	else
		printf("hooks %s\n", remove ? "removed" : "installed");
	return 0;
}

static int install(int argc, const char **argv, struct thrum_ctx *ctx)
{
	return change_hooks(ctx, 0);
}

static int uninstall(int argc, const char **argv, struct thrum_ctx *ctx)
{
	return change_hooks(ctx, 1);
}

/* the subcommands share the one usage line of the manual */
static const struct cmd_args hooks_sub_args = { .options = cmd_json_options };

static const struct cmd_spec hooks_sub[] = {
	{ "install", install, 0, "install them", &hooks_sub_args },
	{ "uninstall", uninstall, 0, "remove them", &hooks_sub_args },
	{ "status", status, 0, "say what is installed", &hooks_sub_args },
	{ NULL }
};

const struct cmd_args hooks_args = {
	{ "git thrum hooks (install | uninstall | status) [--json]" },
	NULL, 0, 0, NULL, hooks_sub
};

/* the checks a hook makes before doing anything; 1 to go on */
static int hook_applies(struct thrum_ctx *ctx)
{
	ctx_need_repo(ctx);
	if (!repo_is_initialised(&ctx->repo) ||
	    synctree_health(&ctx->repo, NULL))
		return 0;
	ctx_need_config(ctx);
	return !ctx->cfg.local_only;
}

/*
 * The credential helper of an unattended cycle (see guard_credentials()
 * in sync.c): "get" and "store" go to the user's own helpers through
 * `git credential fill|approve`, without any prompt; "erase" goes
 * nowhere.  A helper that has nothing to say says nothing: exit 0.
 */
static int credential_guard(const char *action)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	const char *count = getenv("THRUM_CONFIG_COUNT");
	long have = 0;
	int get = !strcmp(action, "get");

	in.max = 65536;
	if (strbuf_read_fd(&in, 0, 0) < 0 ||
	    (!get && strcmp(action, "store")) ||
	    !count || thrum_parse_long(count, 0, INT_MAX - 2, &have) < 0)
		goto out;
	/* the user's configuration: without our two entries */
	if (have)
		strvec_pushf(&cp.env, "GIT_CONFIG_COUNT=%ld", have);
	else
		strvec_push(&cp.env, "GIT_CONFIG_COUNT");
	strvec_pushf(&cp.env, "GIT_CONFIG_KEY_%ld", have);
	strvec_pushf(&cp.env, "GIT_CONFIG_VALUE_%ld", have);
	strvec_pushf(&cp.env, "GIT_CONFIG_KEY_%ld", have + 1);
	strvec_pushf(&cp.env, "GIT_CONFIG_VALUE_%ld", have + 1);
	strvec_push(&cp.env, "THRUM_CONFIG_COUNT");
	strvec_push(&cp.env, "GIT_TERMINAL_PROMPT=0");
	strvec_push(&cp.env, "GIT_ASKPASS=");
	cp.git_cmd = 1;
	cp.no_stderr = 1;	/* "terminal prompts disabled" is no news */
	strvec_pushl(&cp.args, "credential", get ? "fill" : "approve", NULL);
	if (!capture_command(&cp, &out, &in) && get)
		fwrite(out.buf, 1, out.len, stdout);
out:
	child_process_clear(&cp);
	strbuf_release(&in);
	strbuf_release(&out);
	return 0;
}

/* a sync cycle, as a hook runs it: never failing the user's git command */
static int hook_cycle(struct thrum_ctx *ctx, unsigned flags)
{
	struct sync_status st = SYNC_STATUS_INIT;

	ctx_need_store(ctx);
	if (sync_cycle(&ctx->repo, &ctx->cfg, &ctx->store, NULL, flags,
		       &st) < 0)
		fprintf(stderr, "thrum: sync failed (see 'git thrum sync "
			"status')\n");
	else if (st.state != SYNC_SYNCED && st.state != SYNC_LOCAL_ONLY &&
		 st.last_error)
		fprintf(stderr, "thrum: a-sync not pushed (%s): %s\n",
			sync_state_name(st.state), st.last_error);
	else if (st.new_events)
		fprintf(stderr, "thrum: %ld new event%s\n", st.new_events,
			st.new_events == 1 ? "" : "s");
	sync_status_release(&st);
	return 0;
}

/* reference-transaction <ref> <new-id>: a fetch moved the remote's a-sync */
static int hook_ref(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct sync_status st = SYNC_STATUS_INIT;
	struct strbuf want = STRBUF_INIT;
	int mine, replayed;

	if (!hook_applies(ctx))
		return 0;
	strbuf_addf(&want, "refs/remotes/%s/a-sync", ctx->cfg.remote);
	mine = !strcmp(argv[0], want.buf);	/* not another remote's */
	strbuf_release(&want);
	if (!mine)
		return 0;
	/* gc and pack-refs replay refs: ignore what was merged */
	replayed = !sync_status_read(&ctx->repo, &st) && st.remote_tip &&
		   !strcmp(st.remote_tip, argv[1]);
	sync_status_release(&st);
	return replayed ? 0 : hook_cycle(ctx, SYNC_NO_NETWORK);
}

/* pre-push <remote> <url>: the user pushes; a-sync goes along */
static int hook_push(int argc, const char **argv, struct thrum_ctx *ctx)
{
	if (!hook_applies(ctx) || strcmp(argv[0], ctx->cfg.remote))
		return 0;
	return hook_cycle(ctx, 0);
}

static int hook_credential(int argc, const char **argv,
			   struct thrum_ctx *ctx)
{
	return credential_guard(argv[0]);
}

static const struct cmd_args hook_ref_args = { .min_args = 2, .max_args = 2 };
static const struct cmd_args hook_cred_args = { .min_args = 1, .max_args = 1 };

/* a hook runs inside the user's git command: nothing more */
static const struct cmd_spec hook_sub[] = {
	{ "reference-transaction", hook_ref, 0, "after a ref moved",
	  &hook_ref_args },
	{ "pre-push", hook_push, 0, "before a push", &hook_ref_args },
	{ "credential", hook_credential, 0, "the unattended credential "
	  "helper", &hook_cred_args },
	{ NULL }
};

const struct cmd_args hook_args = {
	{ "git thrum hook reference-transaction <ref> <new-id>",
	  "git thrum hook pre-push <remote> <url>",
	  "git thrum hook credential (get | store | erase)" },
	NULL, 0, 0, NULL, hook_sub
};

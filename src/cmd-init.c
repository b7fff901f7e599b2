/*
 * git thrum init: make this repository thrum-ready (git-thrum(1), init).  Every
 * step is idempotent, so running init again is harmless; --force also
 * rebuilds a broken sync work tree, keeping every line it held.
 */
#include "thrum.h"
#include "cmd.h"
#include "parse-options.h"
#include "format.h"
#include "daemon.h"
#include "gitx.h"
#include "hooks.h"
#include "projection.h"
#include "run-command.h"
#include "strbuf.h"
#include "sync.h"
#include "synctree.h"
#include "usage.h"
#include "wrapper.h"


struct init_opts {
	int force, gitignore, stealth, no_hooks, no_daemon, json;
};

static struct init_opts opt;

static const struct thrum_option init_options[] = {
	OPT_BOOL("force", &opt.force,
		 "rebuild a broken sync work tree, keeping its lines"),
	OPT_BOOL("gitignore", &opt.gitignore,
		 "ignore .thrum/ in .gitignore, not .git/info/exclude"),
	OPT_BOOL("stealth", &opt.stealth, "(the default now; accepted)"),
	OPT_BOOL("no-hooks", &opt.no_hooks, "install no git hooks"),
	OPT_BOOL("no-daemon", &opt.no_daemon,
		 "start no daemon, and set thrum.daemon to false"),
	OPT_JSON(&opt.json),
	OPT_END()
};

const struct cmd_args init_args = {
	{ "git thrum init [--force] [--gitignore] [--stealth] [--no-hooks] "
	  "[--no-daemon] [--json]" }, init_options
};

int ignore_thrum(const char *path)
{
	struct strbuf sb = STRBUF_INIT, add = STRBUF_INIT;
	const char *p;
	char *dir;
	int fd, ret = 0;

	if (strbuf_read_file(&sb, path, 0) < 0 && errno != ENOENT)
		return error_errno("cannot read '%s'", path);
	for (p = sb.buf; p && *p; ) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if ((n == 7 && !strncmp(p, ".thrum/", 7)) ||
		    (n == 6 && !strncmp(p, ".thrum", 6)) ||
		    (n == 8 && !strncmp(p, "/.thrum/", 8)))
			goto out;
		p = nl ? nl + 1 : NULL;
	}
	if (sb.len && sb.buf[sb.len - 1] != '\n')
		strbuf_addch(&add, '\n');
	strbuf_addstr(&add, ".thrum/\n");
	dir = xstrdup(path);
	if (strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		mkdir_p(dir, 0755);
	}
	free(dir);
	fd = xopen(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0 || write_in_full(fd, add.buf, add.len) < 0)
		ret = error_errno("cannot update '%s'", path);
	if (fd >= 0)
		close(fd);
out:
	strbuf_release(&sb);
	strbuf_release(&add);
	return ret;
}

/*
 * Make refs/heads/a-sync exist; *how says where it came from, *diverged
 * whether the remote's a-sync exists too and points elsewhere.
 */
static int ensure_branch(struct thrum_ctx *ctx, const char **how,
			 int *diverged)
{
	struct strbuf remote_ref = STRBUF_INIT;
	struct gitx_repo *repo = NULL;
	int ret = -1, r;

	if (gitx_open(&repo, ctx->repo.git_dir) < 0)
		goto out;
	r = gitx_ref_exists(repo, GITX_SYNC_REF);
	if (r < 0)
		goto out;
	strbuf_addf(&remote_ref, "refs/remotes/%s/a-sync", ctx->cfg.remote);
	if (r) {
		struct gitx_oid local, remote;

		*how = "existing";
		*diverged = !gitx_resolve(repo, GITX_SYNC_REF, &local) &&
			    !gitx_resolve(repo, remote_ref.buf, &remote) &&
			    !gitx_oid_equal(&local, &remote);
		ret = 0;
		goto out;
	}
	r = gitx_ref_exists(repo, remote_ref.buf);
	if (r < 0)
		goto out;
	if (r) {
		*how = "remote";
		ret = gitx_branch_from(repo, remote_ref.buf);
	} else {
		*how = "new";
		ret = gitx_create_orphan_branch(repo, ctx->cfg.commit_author);
	}
out:
	gitx_close(repo);
	strbuf_release(&remote_ref);
	return ret;
}

int init_repository(struct thrum_ctx *ctx, int force, int gitignore,
		    const char **how)
{
	struct strbuf why = STRBUF_INIT;
	char *ignore, *dir;
	int health, diverged = 0, ret = -1;

	ctx_need_repo(ctx);
	ctx_need_config(ctx);
	dir = path_join(ctx->repo.thrum_dir, "identities");
	if (mkdir_p(ctx->repo.var_dir, 0755) < 0 || mkdir_p(dir, 0700) < 0) {
		error_errno("cannot create '%s'", ctx->repo.thrum_dir);
		free(dir);
		goto out;
	}
	free(dir);
	/*
	 * .git/info/exclude unless asked: an untracked .gitignore of ours
	 * would stop a later `git pull` that brings the project's own
	 */
	ignore = gitignore ? path_join(ctx->repo.worktree, ".gitignore")
			   : path_join(ctx->repo.common_dir, "info/exclude");
	health = ignore_thrum(ignore);
	free(ignore);
	if (health < 0 || ensure_branch(ctx, how, &diverged) < 0)
		goto out;

	health = synctree_health(&ctx->repo, &why);
	if (health && !access(ctx->repo.sync_dir, F_OK) && !force) {
		error("the sync work tree is broken (%s); run 'git thrum init "
		      "--force'", why.buf);
		goto out;
	}
	if (health) {
		if ((access(ctx->repo.sync_dir, F_OK)
		     ? synctree_create(&ctx->repo)
		     : synctree_repair(&ctx->repo)) < 0)
			goto out;
		strbuf_reset(&why);
		if (synctree_health(&ctx->repo, &why)) {
			error("the sync work tree is still broken after repair "
			      "(%s)", why.buf);
			goto out;
		}
	}
	ctx_need_store(ctx);
	if (!ctx_origin(ctx))
		goto out;
	if (!ctx->proj && projection_open(&ctx->proj, ctx->repo.var_dir) < 0)
		goto out;
	/* and what the log lost with its work tree goes back into it */
	if (projection_update(ctx->proj, &ctx->store, NULL, NULL) < 0 ||
	    projection_recover(ctx->proj, &ctx->store, NULL) < 0)
		goto out;
	if (diverged) {
		/* both sides hold history: take the union, never drop */
		struct sync_status st = SYNC_STATUS_INIT;
		int r = sync_cycle(&ctx->repo, &ctx->cfg, &ctx->store,
				   ctx->proj,
				   ctx->cfg.local_only ? SYNC_NO_NETWORK
						       : SYNC_INTERACTIVE,
				   &st);

		sync_status_release(&st);
		if (r < 0)
			goto out;
		*how = "existing branch merged with the remote's";
	}
	ret = 0;
out:
	strbuf_release(&why);
	return ret;
}

void init_start_daemon(struct thrum_ctx *ctx, long *pid)
{
	int r;

	*pid = 0;
	/* the test suite starts daemons only where it means to */
	if (getenv("THRUM_TEST_NO_DAEMON") || !ctx->cfg.daemon)
		return;
	daemon_clear_stopped(&ctx->repo);
	r = daemon_start(&ctx->repo, pid);
	if (r < 0 && r != THRUM_EBUSY)
		warning("the daemon did not start; run 'git thrum daemon "
			"start'");
}

/*
 * --no-daemon lasts: no later command starts one either, until the user
 * says `git config thrum.daemon true` (or `daemon start`, once)
 */
static int set_daemon_off(struct thrum_ctx *ctx)
{
	if (run_git(ctx->repo.worktree, 0, NULL, "config", "--local",
		    "thrum.daemon", "false", NULL))
		return error("cannot set thrum.daemon in the repository's "
			     "configuration");
	return config_set_flag(&ctx->cfg, CFG_DAEMON, "false");
}

int cmd_init(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct projection_counts counts = { 0 };
	const char *how = NULL;
	long pid = 0;

	if (ctx_is_linked_worktree(ctx)) {
		/* one thrum per repository: share the main work tree's */
		if (setup_linked_worktree(ctx, opt.json) < 0)
			return 1;
		if (opt.json)
			format_kv_json(stdout, "worktree", ctx->repo.worktree,
				       "shares", ctx->repo.thrum_dir,
				       "sync_worktree", ctx->repo.sync_dir,
				       NULL);
		return 0;
	}
	if (init_repository(ctx, opt.force, opt.gitignore, &how) < 0)
		return 1;
	if (projection_counts(ctx->proj, &counts) < 0)
		return 1;

	if (!opt.no_hooks && hooks_install(&ctx->repo, &ctx->cfg) < 0)
		return 1;
	if (opt.no_daemon && !getenv("THRUM_TEST_NO_DAEMON") &&
	    set_daemon_off(ctx) < 0)
		return 1;
	if (!opt.no_daemon)
		init_start_daemon(ctx, &pid);

	if (opt.json) {
		char events[32], messages[32];

		snprintf(events, sizeof(events), "%ld", counts.events);
		snprintf(messages, sizeof(messages), "%ld", counts.messages);
		format_kv_json(stdout, "worktree", ctx->repo.worktree,
			       "sync_worktree", ctx->repo.sync_dir,
			       "branch", how, "events", events,
			       "messages", messages, NULL);
	} else {
		printf("Initialized thrum in %s\n", ctx->repo.worktree);
		printf("  a-sync: %s branch, %ld events, %ld messages\n",
		       how, counts.events, counts.messages);
		printf("  sync work tree: %s\n", ctx->repo.sync_dir);
		printf("  hooks: %s\n", opt.no_hooks ? "not installed (--no-hooks)"
					       : "reference-transaction, "
						 "pre-push");
		if (pid)
			printf("  daemon: running (pid %ld)\n", pid);
		else if (opt.no_daemon || !ctx->cfg.daemon)
			printf("  daemon: off (thrum.daemon is false)\n");
		else
			printf("  daemon: not started\n");
	}
	return 0;
}

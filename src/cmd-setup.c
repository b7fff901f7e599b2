/*
 * git thrum setup: make a linked work tree (`git worktree add`) use the
 * main work tree's thrum: <git-dir>/thrum-redirect names the main .thrum
 * (`git thrum init` in a linked work tree does the same), so every
 * work tree shares one database, one daemon and one sync work tree, while
 * identities stay per work tree.
 */
#include "thrum.h"
#include "cmd.h"
#include "lockfile.h"
#include "run-command.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"


static const struct cmd_spec setup_sub[] = {
	{ "agents", cmd_setup_agents, 0,
	  "write the MCP configuration of agent runtimes",
	  &setup_agents_args },
	{ NULL }
};

const struct cmd_args setup_args = {
	{ "git thrum setup" }, NULL, 0, 0, NULL, setup_sub
};

/* the main work tree: the first entry of `git worktree list` */
static char *main_worktree(const struct repo *r)
{
	struct strbuf out = STRBUF_INIT;
	char *path = NULL;

	if (!run_git(r->worktree, 0, &out, "worktree", "list", "--porcelain",
		     NULL) && !strncmp(out.buf, "worktree ", 9))
		path = xstrndup(out.buf + 9, strcspn(out.buf + 9, "\n"));
	strbuf_release(&out);
	return path;
}

int setup_linked_worktree(struct thrum_ctx *ctx, int quiet)
{
	struct strbuf line = STRBUF_INIT;
	char *main_wt = NULL, *target = NULL, *chained = NULL, *var = NULL;
	char *redirect = NULL, *ids = NULL, *exclude = NULL;
	int ret = -1;

	ctx_need_repo(ctx);
	if (!strcmp(ctx->repo.git_dir, ctx->repo.common_dir)) {
		error("this is the main work tree: run 'git thrum init' here");
		goto out;
	}
	main_wt = main_worktree(&ctx->repo);
	if (!main_wt) {
		error("cannot find the main work tree");
		goto out;
	}
	target = path_join(main_wt, ".thrum");
	var = path_join(target, "var");
	chained = path_join(target, "redirect");
	if (access(var, F_OK)) {
		error("thrum is not initialised in '%s': run 'git thrum init' "
		      "there first", main_wt);
		goto out;
	}
	if (!access(chained, F_OK)) {
		error("'%s' is itself a redirect: chains are not allowed",
		      target);
		goto out;
	}
	ids = path_join(ctx->repo.local_thrum_dir, "identities");
	if (mkdir_p(ids, 0700) < 0) {
		error_errno("cannot create '%s'", ids);
		goto out;
	}
	/* in this work tree's git directory: nothing tracked can move it */
	redirect = path_join(ctx->repo.git_dir, REPO_REDIRECT_FILE);
	strbuf_addf(&line, "%s\n", target);
	if (write_file_atomic(redirect, line.buf, line.len, 0644) < 0)
		goto out;
	exclude = path_join(ctx->repo.common_dir, "info/exclude");
	if (ignore_thrum(exclude) < 0)
		goto out;
	/* prove it: discovery must now follow the redirect */
	repo_release(&ctx->repo);
	ctx->have_repo = 0;
	ctx_need_store(ctx);
	if (!quiet) {
		printf("This work tree now shares thrum with %s\n", main_wt);
		printf("  create an identity here: git thrum quickstart "
		       "--role R --module M [--name N]\n");
	}
	ret = 0;
out:
	strbuf_release(&line);
	free(main_wt);
	free(target);
	free(chained);
	free(var);
	free(redirect);
	free(ids);
	free(exclude);
	return ret;
}

int cmd_setup(int argc, const char **argv, struct thrum_ctx *ctx)
{
	return setup_linked_worktree(ctx, 0) < 0 ? 1 : 0;
}

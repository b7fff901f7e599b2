/*
 * git thrum migrate: move a log kept on the main branch (the old layout:
 * .thrum/events.jsonl, .thrum/messages/<name>.jsonl and
 * .thrum/messages.jsonl, tracked) to branch a-sync.  Each line arrives
 * byte for byte, appended to the log unless it holds that line already;
 * the tracked files leave the main branch in one commit, and .thrum/ is
 * ignored from then on.  Refuses a dirty work tree; running it again
 * finds nothing to do.
 */
#include "thrum.h"
#include "cmd.h"
#include "event.h"
#include "merge.h"
#include "projection.h"
#include "run-command.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

static const char *const migrate_usage[] = {
	"git thrum migrate",
	NULL
};

/* the old layout's tracked log files, as paths in the work tree */
static int old_files(const struct repo *r, struct strvec *out)
{
	struct strbuf list = STRBUF_INIT;
	const char *p;

	if (run_git(r->worktree, 0, &list, "ls-files", "-z", "--", ".thrum/events.jsonl",
		".thrum/messages.jsonl", ".thrum/messages/*.jsonl", NULL)) {
		strbuf_release(&list);
		return error("cannot list the tracked files");
	}
	for (p = list.buf; p < list.buf + list.len; p += strlen(p) + 1)
		strvec_push(out, p);
	strbuf_release(&list);
	return 0;
}

/* ".thrum/messages/alice.jsonl" -> "messages/alice.jsonl" */
static const char *log_path(const char *tracked)
{
	return tracked + strlen(".thrum/");
}

static int move_file(struct thrum_ctx *ctx, const char *tracked)
{
	struct strbuf old = STRBUF_INIT, cur = STRBUF_INIT, merged = STRBUF_INIT;
	struct strbuf spec = STRBUF_INIT, fresh = STRBUF_INIT;
	const char *rel = log_path(tracked);
	char *path = store_abs_path(&ctx->store, rel);
	int ret = -1;

	if (!strncmp(rel, "messages/", 9)) {
		char *shard = store_shard_of(rel);
		int ok = shard && event_valid_name(shard, NULL);

		free(shard);
		if (!ok) {
			warning("skipping '%s': not an agent's log", tracked);
			ret = 0;
			goto out;
		}
	}
	/* the committed content, byte for byte */
	strbuf_addf(&spec, "HEAD:%s", tracked);
	if (run_git(ctx->repo.worktree, 0, &old, "cat-file", "blob", spec.buf, NULL)) {
		error("cannot read '%s' from HEAD", tracked);
		goto out;
	}
	if (strbuf_read_file(&cur, path, 0) < 0 && errno != ENOENT) {
		error_errno("cannot read '%s'", path);
		goto out;
	}
	/* the lines the old log has and ours lacks, appended in order */
	merge_file(cur.buf, cur.len, old.buf, old.len, EVENT_MAX_LINE,
		   &merged, &fresh, NULL);
	ret = fresh.len ? store_append_raw(&ctx->store, rel, &fresh) : 0;
out:
	strbuf_release(&old);
	strbuf_release(&cur);
	strbuf_release(&merged);
	strbuf_release(&spec);
	strbuf_release(&fresh);
	free(path);
	return ret;
}

int cmd_migrate(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct strvec files = STRVEC_INIT, rm = STRVEC_INIT;
	struct strbuf status = STRBUF_INIT;
	const char *how;
	size_t i;
	int ret = 1;

	if (argc > 1 && !strcmp(argv[1], "-h"))
		usage_help(migrate_usage);
	if (argc != 1)
		usage_msg(migrate_usage, "too many arguments");
	ctx_need_repo(ctx);
	if (old_files(&ctx->repo, &files) < 0)
		goto out;
	if (!files.nr) {
		printf("nothing to migrate: no log is tracked on the current "
		       "branch\n");
		ret = 0;
		goto out;
	}
	if (run_git(ctx->repo.worktree, 0, &status, "status", "--porcelain",
		"--untracked-files=no", NULL) || status.len) {
		error("the work tree has uncommitted changes; commit or stash "
		      "them first");
		goto out;
	}
	if (init_repository(ctx, 0, 0, &how) < 0)
		goto out;
	for (i = 0; i < files.nr; i++)
		if (move_file(ctx, files.v[i]) < 0)
			goto out;
	if (projection_catch_up(ctx->proj, &ctx->store, NULL) < 0)
		goto out;
	/* the main branch lets go of them, in one commit */
	strvec_pushl(&rm, "rm", "-q", "--cached", "--", NULL);
	strvec_pushv(&rm, files.v);
	if (run_git_v(ctx->repo.worktree, 0, NULL, rm.v) ||
	    run_git(ctx->repo.worktree, 0, NULL, "add", "--", ".gitignore",
		    NULL) ||
	    run_git(ctx->repo.worktree, 0, NULL, "commit", "-q", "--no-verify",
		    "-m", "thrum: move the event log to branch a-sync", "-m",
		    "The events are on a-sync now (git thrum migrate); "
		    ".thrum/ holds local state only.", NULL)) {
		error("cannot commit the removal of the old log");
		goto out;
	}
	for (i = 0; i < files.nr; i++) {
		char *p = path_join(ctx->repo.worktree, files.v[i]);

		unlink(p);
		free(p);
	}
	printf("migrated %zu file%s to a-sync; the main branch no longer "
	       "tracks them\n", files.nr, files.nr == 1 ? "" : "s");
	ret = 0;
out:
	strvec_clear(&files);
	strvec_clear(&rm);
	strbuf_release(&status);
	return ret;
}

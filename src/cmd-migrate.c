/*
 * git thrum migrate: move a log kept on the main branch (the old layout:
 * .thrum/events.jsonl, .thrum/messages/<name>.jsonl and
 * .thrum/messages.jsonl, tracked) to branch a-sync, and do everything
 * else `init` does, so that it is the whole step.  Each line arrives byte
 * for byte, appended to the log unless it holds that line already; the
 * moved log is committed on a-sync (and pushed when sync is on); the
 * tracked files leave the main branch in one commit, and .thrum/ is
 * ignored from then on.  Every line is read first: an old log that is
 * mostly unreadable is refused before anything is written.  Refuses a
 * dirty work tree; running it again finds nothing to do.
 */
#include "thrum.h"
#include "cmd.h"
#include "parse-options.h"
#include "event.h"
#include "merge.h"
#include "daemon.h"
#include "hooks.h"
#include "projection.h"
#include "run-command.h"
#include "sync.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"


#define MAX_REASONS 3	/* unreadable lines quoted when refusing */

struct migrate_opts {
	int no_hooks, no_daemon;
};

static struct migrate_opts opt;

static const struct thrum_option migrate_options[] = {
	OPT_BOOL("no-hooks", &opt.no_hooks, "install no git hooks"),
	OPT_BOOL("no-daemon", &opt.no_daemon, "start no daemon"),
	OPT_END()
};

const struct cmd_args migrate_args = {
	{ "git thrum migrate [--no-hooks] [--no-daemon]" }, migrate_options
};

/* what the old log holds, counted before anything moves */
struct old_log {
	struct strbuf *content;	/* one per tracked file, as committed */
	size_t events, unreadable;
	struct strvec reasons;	/* "<file>:<line>: <why>", the first */
};

/* the old layout's tracked log files, as paths in the work tree */
static int old_files(const struct repo *r, struct strvec *out)
{
	struct strbuf list = STRBUF_INIT;
	const char *p;

	if (run_git(r->worktree, 0, &list, "ls-files", "-z", "--",
		    ".thrum/events.jsonl", ".thrum/messages.jsonl",
		    ".thrum/messages/*.jsonl", NULL)) {
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

static int is_agent_log(const char *tracked)
{
	const char *rel = log_path(tracked);
	char *shard;
	int ok;

	if (strncmp(rel, "messages/", 9))
		return 1;
	shard = store_shard_of(rel);
	ok = shard && event_valid_name(shard, NULL);
	free(shard);
	return ok;
}

/* read every tracked file from HEAD and parse every line */
static int read_old_log(struct thrum_ctx *ctx, const struct strvec *files,
			struct old_log *log)
{
	size_t i;

	log->content = xcalloc(files->nr ? files->nr : 1,
			       sizeof(*log->content));
	for (i = 0; i < files->nr; i++) {
		struct strbuf spec = STRBUF_INIT;
		struct strbuf *b = &log->content[i];
		const char *p, *end;
		size_t lineno = 0;

		strbuf_init(b, 0);
		if (!is_agent_log(files->v[i]))
			continue;
		strbuf_addf(&spec, "HEAD:%s", files->v[i]);
		if (run_git(ctx->repo.worktree, 0, b, "cat-file", "blob",
			    spec.buf, NULL)) {
			strbuf_release(&spec);
			return error("cannot read '%s' from HEAD", files->v[i]);
		}
		strbuf_release(&spec);
		for (p = b->buf, end = b->buf + b->len; p < end; ) {
			const char *nl = memchr(p, '\n', end - p);
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			struct event ev = EVENT_INIT;
			const char *why = NULL;

			lineno++;
			if (n && event_parse(&ev, p, n, 0, &why) == 0) {
				log->events++;
				event_release(&ev);
			} else if (n) {
				log->unreadable++;
				if (log->reasons.nr < MAX_REASONS)
					strvec_pushf(&log->reasons,
						     "%s:%zu: %s", files->v[i],
						     lineno, why);
			}
			p += n + 1;
		}
	}
	return 0;
}

static void old_log_release(struct old_log *log, size_t nr)
{
	size_t i;

	for (i = 0; log->content && i < nr; i++)
		strbuf_release(&log->content[i]);
	free(log->content);
	strvec_clear(&log->reasons);
}

/* append the lines of the old file that the log lacks, in order */
static int move_file(struct thrum_ctx *ctx, const char *tracked,
		     const struct strbuf *old)
{
	struct strbuf cur = STRBUF_INIT, merged = STRBUF_INIT;
	struct strbuf fresh = STRBUF_INIT;
	const char *rel = log_path(tracked);
	char *path = store_abs_path(&ctx->store, rel);
	int ret = -1;

	if (!is_agent_log(tracked)) {
		warning("skipping '%s': not an agent's log", tracked);
		ret = 0;
		goto out;
	}
	if (strbuf_read_file(&cur, path, 0) < 0 && errno != ENOENT) {
		error_errno("cannot read '%s'", path);
		goto out;
	}
	merge_file(cur.buf, cur.len, old->buf, old->len, EVENT_MAX_LINE,
		   &merged, &fresh, NULL);
	ret = fresh.len ? store_append_raw(&ctx->store, rel, &fresh) : 0;
out:
	strbuf_release(&cur);
	strbuf_release(&merged);
	strbuf_release(&fresh);
	free(path);
	return ret;
}

/* the old files leave the work tree, and so do the directories they left */
static void remove_old_files(const struct repo *r, const struct strvec *files)
{
	char *dir;
	size_t i;

	for (i = 0; i < files->nr; i++) {
		char *p = path_join(r->worktree, files->v[i]);

		unlink(p);
		free(p);
	}
	dir = path_join(r->worktree, ".thrum/messages");
	rmdir(dir);	/* only when empty */
	free(dir);
}

/* commit the moved log on a-sync, and push it when sync is on */
static void commit_moved_log(struct thrum_ctx *ctx)
{
	struct sync_status st = SYNC_STATUS_INIT;

	/* the user typed it: git may prompt, as for sync force */
	if (sync_cycle(&ctx->repo, &ctx->cfg, &ctx->store, ctx->proj,
		       SYNC_WAIT | SYNC_INTERACTIVE, &st) < 0)
		warning("the moved log is safe in the sync work tree, but "
			"could not be committed; see 'git thrum sync status'");
	else if (st.state != SYNC_SYNCED && st.state != SYNC_LOCAL_ONLY)
		warning("a-sync is committed but not pushed (%s); the next "
			"sync cycle pushes it", sync_state_name(st.state));
	sync_status_release(&st);
}

int cmd_migrate(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct strvec files = STRVEC_INIT, rm = STRVEC_INIT;
	struct strbuf status = STRBUF_INIT;
	struct old_log log = { NULL, 0, 0, STRVEC_INIT };
	const char *how;
	long pid = 0;
	size_t i;
	int ret = 1;

	if (ctx_is_linked_worktree(ctx)) {
		error("run 'git thrum migrate' in the main work tree; linked "
		      "work trees share its thrum");
		goto out;
	}
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
	if (read_old_log(ctx, &files, &log) < 0)
		goto out;
	if (log.unreadable > log.events) {
		error("%zu of the %zu lines of the old log cannot be read; "
		      "nothing was migrated. The first:", log.unreadable,
		      log.unreadable + log.events);
		for (i = 0; i < log.reasons.nr; i++)
			fprintf(stderr, "  %s\n", log.reasons.v[i]);
		goto out;
	}

	/* everything init does */
	if (init_repository(ctx, 0, 0, &how) < 0)
		goto out;
	if (!opt.no_hooks && hooks_install(&ctx->repo, &ctx->cfg) < 0)
		goto out;
	for (i = 0; i < files.nr; i++)
		if (move_file(ctx, files.v[i], &log.content[i]) < 0)
			goto out;
	if (projection_update(ctx->proj, &ctx->store, NULL, NULL) < 0)
		goto out;
	commit_moved_log(ctx);

	/* the main branch lets go of them, in one commit */
	strvec_pushl(&rm, "rm", "-q", "--cached", "--", NULL);
	strvec_pushv(&rm, files.v);
	if (run_git_v(ctx->repo.worktree, 0, NULL, rm.v) ||
	    run_git(ctx->repo.worktree, 0, NULL, "commit", "-q", "--no-verify",
		    "-m", "thrum: move the event log to branch a-sync", "-m",
		    "The events are on a-sync now (git thrum migrate); "
		    ".thrum/ holds local state only.", NULL)) {
		error("cannot commit the removal of the old log");
		goto out;
	}
	remove_old_files(&ctx->repo, &files);
	if (!opt.no_daemon && !ctx->cfg.local_only)
		init_start_daemon(ctx, &pid);

	printf("migrated %zu event%s from %zu file%s to a-sync",
	       log.events, log.events == 1 ? "" : "s", files.nr,
	       files.nr == 1 ? "" : "s");
	if (log.unreadable)
		printf(" (%zu line%s could not be read, kept as they were; "
		       "see 'git thrum fsck')", log.unreadable,
		       log.unreadable == 1 ? "" : "s");
	printf("; the main branch no longer tracks them\n");
	ret = 0;
out:
	old_log_release(&log, files.nr);
	strvec_clear(&files);
	strvec_clear(&rm);
	strbuf_release(&status);
	return ret;
}

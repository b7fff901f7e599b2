/*
 * context.c: what every command needs before it can do its work, each
 * piece found once and on demand: the repository (no libgit2, no child
 * process), the log, an up-to-date projection, the current identity and
 * the configuration.  Anything missing is one clear line and a non-zero
 * exit, naming the command that fixes it.
 */
#include "thrum.h"
#include "cmd.h"
#include "event.h"
#include "daemon.h"
#include "merge.h"
#include "projection-directory.h"
#include "projection.h"
#include "run-command.h"
#include "strbuf.h"
#include "strvec.h"
#include "sync.h"
#include "synctree.h"
#include "usage.h"
#include "utf8.h"
#include "wrapper.h"

#define MAX_BODY (512 * 1024)

void ctx_need_repo(struct thrum_ctx *ctx)
{
	int ret;

	if (ctx->have_repo)
		return;
	ret = repo_discover(&ctx->repo);
	if (ret == THRUM_ENOTFOUND)
		die("not a git repository (or any of the parent directories): "
		    ".git");
	if (ret < 0)
		exit(128);
	ctx->have_repo = 1;
}

int ctx_setup(struct thrum_ctx *ctx, unsigned need)
{
	if (need & NO_DAEMON_CHECK)
		ctx->no_daemon_check = 1;
	if (need & (NEED_REPO | NEED_CONFIG))
		ctx_need_repo(ctx);
	if (need & (NEED_STORE | NEED_DIRECTORY | NEED_PROJECTION))
		ctx_need_store(ctx);
	if (need & NEED_CONFIG)
		ctx_need_config(ctx);
	if (need & NEED_PROJECTION)
		ctx_need_projection(ctx);
	else if (need & NEED_DIRECTORY)
		ctx_need_directory(ctx);
	if ((need & NEED_ME) && ctx_need_me(ctx) < 0)
		return -1;
	if ((need & NEED_READER) && ctx_need_reader(ctx) < 0)
		return -1;
	return 0;
}

int ctx_is_linked_worktree(struct thrum_ctx *ctx)
{
	ctx_need_repo(ctx);
	return strcmp(ctx->repo.git_dir, ctx->repo.common_dir) != 0;
}

/*
 * The daemon is there when sync is on: a command that finds it gone
 * (a reboot, a kill) starts it again, quietly.  What this costs a command
 * when a daemon runs, or when the last cycle was local-only: two file
 * checks and one flock probe; the configuration (a git child) is read
 * only when a daemon should run and does not.
 */
static void keep_daemon(struct thrum_ctx *ctx)
{
	struct sync_status st = SYNC_STATUS_INIT;
	long pid = 0;
	int skip;

	/* nor from the git children of a sync cycle (THRUM_IN_HOOK) */
	if (ctx->no_daemon_check || getenv("THRUM_TEST_NO_DAEMON") ||
	    getenv("THRUM_IN_HOOK"))
		return;
	if (daemon_marked_stopped(&ctx->repo) ||
	    daemon_running(&ctx->repo, &pid))
		return;
	/* the last cycle says whether sync was on; never: nothing to keep */
	skip = sync_status_read(&ctx->repo, &st) < 0 ||
	       st.state == SYNC_NEVER || st.state == SYNC_LOCAL_ONLY;
	sync_status_release(&st);
	if (skip)
		return;
	ctx_need_config(ctx);
	if (daemon_keep_alive(&ctx->repo, &ctx->cfg) < 0)
		warning("the daemon is not running; start it with 'git thrum "
			"daemon start'");
}

void ctx_need_store(struct thrum_ctx *ctx)
{
	struct strbuf why = STRBUF_INIT;

	if (ctx->have_store)
		return;
	ctx_need_repo(ctx);
	if (!repo_is_initialised(&ctx->repo)) {
		if (ctx_is_linked_worktree(ctx))
			die("thrum is not set up in this linked work tree "
			    "'%s'; run 'git thrum init' here (it shares the "
			    "main work tree's thrum)", ctx->repo.worktree);
		die("thrum is not initialised in '%s'; run 'git thrum init'",
		    ctx->repo.worktree);
	}
	if (synctree_health(&ctx->repo, &why))
		die("the sync work tree is broken (%s); run 'git thrum init "
		    "--force'", why.buf);
	strbuf_release(&why);
	store_init(&ctx->store, &ctx->repo);
	ctx->have_store = 1;
	keep_daemon(ctx);
}

/*
 * thrum.allowedSigners, relative to the top of the work tree, and
 * thrum.requireSigned: what the projection counts and shows
 */
static void sign_settings(struct thrum_ctx *ctx)
{
	const char *f;
	char *path = NULL;

	ctx_need_config(ctx);
	f = ctx->cfg.allowed_signers;
	if (f && *f != '/')
		path = path_join(ctx->repo.worktree, f);
	if (projection_set_signers(ctx->proj, path ? path : f) < 0)
		exit(1);
	projection_sign_view(ctx->proj, ctx->include_bad,
			     ctx->cfg.require_signed);
	free(path);
}

void ctx_include_bad(struct thrum_ctx *ctx, int on)
{
	ctx->include_bad = !!on;
	if (ctx->proj)
		projection_sign_view(ctx->proj, ctx->include_bad,
				     ctx->cfg.require_signed);
}

static void open_projection(struct thrum_ctx *ctx)
{
	ctx_need_store(ctx);
	if (ctx->proj)
		return;
	if (projection_open(&ctx->proj, ctx->repo.var_dir) < 0)
		exit(1);
	/*
	 * what counts depends on the configuration; a command that reads
	 * only the directory (send --to) does not run git config for it,
	 * and keeps what the last reader stored
	 */
	if (ctx->have_cfg)
		sign_settings(ctx);
}

/*
 * A git fetch that ran no hook of ours (init --no-hooks, or a tool that
 * reset core.hooksPath) moved the remote's a-sync: merge it now, as the
 * hook would have, so that delivery never depends on hooks.
 */
static void merge_fetched(struct thrum_ctx *ctx)
{
	struct sync_status st = SYNC_STATUS_INIT;
	char *remote = NULL;

	if (!sync_remote_moved(&ctx->repo, &remote))
		return;
	ctx_need_config(ctx);
	if (!ctx->cfg.local_only && !strcmp(remote, ctx->cfg.remote) &&
	    sync_cycle(&ctx->repo, &ctx->cfg, &ctx->store, NULL,
		       SYNC_NO_NETWORK, &st) < 0)
		warning("could not merge the fetched '%s/a-sync' (see 'git "
			"thrum sync status')", remote);
	sync_status_release(&st);
	free(remote);
}

void ctx_need_projection(struct thrum_ctx *ctx)
{
	/* what this process reads after it wrote, it reads caught up */
	if (ctx->proj_current && !ctx->core.appended)
		return;
	ctx->core.appended = 0;
	ctx_need_store(ctx);
	merge_fetched(ctx);
	open_projection(ctx);
	sign_settings(ctx);
	if (projection_update(ctx->proj, &ctx->store, NULL, NULL) < 0)
		exit(1);
	ctx->proj_current = 1;
}

void ctx_need_directory(struct thrum_ctx *ctx)
{
	struct log_changes files = LOG_CHANGES_INIT;

	if (ctx->proj_current && !ctx->core.appended)
		return;
	open_projection(ctx);
	/* the legacy monolithic log may register agents too */
	log_changes_add(&files, STORE_EVENTS_FILE);
	log_changes_add(&files, STORE_LEGACY_FILE);
	if (projection_update(ctx->proj, &ctx->store, &files, NULL) < 0)
		exit(1);
	log_changes_release(&files);
}

void ctx_want_directory(struct thrum_ctx *ctx)
{
	ctx->lazy_directory = 1;
}

static int resolve_name(struct core *c, const char *name,
			enum recipient_kind *kind)
{
	struct thrum_ctx *ctx = c->caller;

	if (!ctx->proj && !ctx->dircache_tried) {
		ctx->dircache_tried = 1;
		ctx->dircache = xmalloc(sizeof(*ctx->dircache));
		ctx_need_store(ctx);
		ctx->dircache_ok = !dircache_load(ctx->dircache,
						  ctx->repo.var_dir,
						  &ctx->store);
	}
	if (!ctx->proj && ctx->dircache_ok &&
	    dircache_lookup(ctx->dircache, name, kind))
		return 0;
	if (!ctx->proj) {
		ctx_need_directory(ctx);
		c->proj = ctx->proj;
		/* for the next command; failing to costs it time, no more */
		if (!ctx->dircache_ok)
			dircache_write(ctx->proj, ctx->repo.var_dir);
	}
	return projection_resolve(ctx->proj, name, kind);
}

int ctx_need_me(struct thrum_ctx *ctx)
{
	if (ctx->have_me && !ctx->me_is_user)
		return 0;
	if (ctx->have_me)
		return error("no identity in this work tree; create one with "
			     "'git thrum quickstart --role R --module M' "
			     "(--name N to choose the name)");
	ctx_need_repo(ctx);
	if (identity_select(&ctx->repo, &ctx->me, 0) < 0)
		return -1;
	ctx->have_me = 1;
	return 0;
}

/* "A U Thor" -> "a-u-thor": the user's name as an agent name */
static char *user_slug(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;

	for (p = name; *p && sb.len < 64; p++) {
		unsigned char c = (unsigned char)*p;

		if (isalnum(c))
			strbuf_addch(&sb, (char)tolower(c));
		else if ((c == '-' || c == '_' || c == ' ' || c == '.') &&
			 sb.len && sb.buf[sb.len - 1] != '-')
			strbuf_addch(&sb, '-');
	}
	while (sb.len && sb.buf[sb.len - 1] == '-')
		strbuf_setlen(&sb, sb.len - 1);
	if (!sb.len)
		strbuf_addstr(&sb, "user");
	return strbuf_detach(&sb, NULL);
}

/* git config user.name, else the login name */
static char *user_name(const struct repo *r)
{
	struct strbuf out = STRBUF_INIT;
	const char *login;

	if (!run_git(r->worktree, RUN_GIT_QUIET, &out, "config", "user.name",
		     NULL)) {
		strbuf_trim(&out);
		if (out.len)
			return strbuf_detach(&out, NULL);
	}
	strbuf_release(&out);
	login = getenv("USER");
	if (!login || !*login) {
		struct passwd *pw = getpwuid(geteuid());

		login = pw ? pw->pw_name : "user";
	}
	return xstrdup(login);
}

int ctx_need_reader(struct thrum_ctx *ctx)
{
	char *slug, *name;
	int ret;

	if (ctx->have_me)
		return 0;
	ctx_need_repo(ctx);
	ret = identity_select(&ctx->repo, &ctx->me, IDENTITY_NONE_QUIET);
	if (ret == 0) {
		ctx->have_me = 1;
		return 0;
	}
	if (ret != THRUM_ENOTFOUND)
		return -1;
	/*
	 * nobody registered here: the clone's human user reads, as
	 * "user:<name>" (the original's user ids); bare mentions of the
	 * name reach them too, through the role slot of the inbox query
	 */
	name = user_name(&ctx->repo);
	slug = user_slug(name);
	memset(&ctx->me, 0, sizeof(ctx->me));
	ctx->me.name = xstrdup(slug);
	ctx->me.agent_id = xstrfmt("user:%s", slug);
	ctx->me.kind = xstrdup("user");
	ctx->me.role = slug;
	ctx->me.display = name;
	ctx->have_me = 1;
	ctx->me_is_user = 1;
	return 0;
}

void ctx_need_config(struct thrum_ctx *ctx)
{
	if (ctx->have_cfg)
		return;
	if (config_load(&ctx->cfg, ctx->have_repo ? &ctx->repo : NULL) < 0)
		exit(1);
	ctx->have_cfg = 1;
}

const char *ctx_origin(struct thrum_ctx *ctx)
{
	ctx_need_store(ctx);
	if (!ctx->origin)
		ctx->origin = store_origin_id(&ctx->store);
	return ctx->origin;
}

struct core *ctx_core(struct thrum_ctx *ctx)
{
	struct core *c = &ctx->core;

	c->origin = ctx_origin(ctx);
	c->store = &ctx->store;
	c->proj = ctx->proj;
	c->resolve = ctx->lazy_directory ? resolve_name : NULL;
	c->caller = ctx;
	c->repo = &ctx->repo;
	c->me = ctx->have_me ? &ctx->me : NULL;
	c->me_is_user = ctx->me_is_user;
	return c;
}

void ctx_release(struct thrum_ctx *ctx)
{
	if (ctx->dircache) {
		dircache_release(ctx->dircache);
		free(ctx->dircache);
		ctx->dircache = NULL;
	}
	projection_free(ctx->proj);
	ctx->proj = NULL;
	ctx->proj_current = 0;
	if (ctx->have_store)
		store_release(&ctx->store);
	if (ctx->have_repo)
		repo_release(&ctx->repo);
	if (ctx->have_me)
		identity_release(&ctx->me);
	if (ctx->have_cfg)
		config_release(&ctx->cfg);
	free(ctx->origin);
	ctx->origin = NULL;
	ctx->have_repo = ctx->have_store = ctx->have_me = ctx->have_cfg = 0;
}

char *read_body(const char *arg)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	sb.max = MAX_BODY;
	if (strcmp(arg, "-")) {
		if (strbuf_addstr(&sb, arg) < 0) {
			error("message body is longer than %d bytes", MAX_BODY);
			return NULL;
		}
	} else if (strbuf_read_fd(&sb, 0, 0) < 0) {
		if (errno == EFBIG)
			error("message body is longer than %d bytes", MAX_BODY);
		else
			error_errno("cannot read the message body from stdin");
		strbuf_release(&sb);
		return NULL;
	} else {
		strbuf_rtrim(&sb);	/* the newline a here-doc adds */
	}
	for (i = 0; i < sb.len && isspace((unsigned char)sb.buf[i]); i++)
		;
	if (i == sb.len) {
		error("empty message body");
		strbuf_release(&sb);
		return NULL;
	}
	if (memchr(sb.buf, '\0', sb.len)) {
		error("message body contains a NUL byte");
		strbuf_release(&sb);
		return NULL;
	}
	/* every reader would skip the line: refuse it before it is written */
	if (!utf8_valid(sb.buf, sb.len, &i)) {
		error("message body is not valid UTF-8 (byte %zu)", i + 1);
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

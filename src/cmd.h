#ifndef THRUM_CMD_H
#define THRUM_CMD_H

/*
 * Subcommands.  To add one:
 *  1. write src/cmd-<name>.c with int cmd_<name>(argc, argv, ctx);
 *  2. declare it below;
 *  3. add a row to the table in git-thrum.c;
 *  4. add src/cmd-<name>.o to OBJS in the Makefile;
 *  5. document it in Documentation/git-thrum.adoc (its synopsis line must
 *     be the usage string);
 *  6. add a tests/tNNNN-*.sh that can fail.
 * A command returns its exit status: 0 ok, 1 failure (after error()),
 * 129 usage (via usage_msg()); die() gives 128.
 */
#include "config.h"
#include "identity.h"
#include "repo.h"
#include "store.h"

struct projection;
struct event;

struct thrum_ctx {
	struct repo repo;
	struct store store;
	struct projection *proj;
	struct identity me;
	struct thrum_config cfg;
	char *origin;
	unsigned have_repo:1, have_store:1, have_me:1, have_cfg:1;
	unsigned proj_current:1;	/* caught up with the whole log */
	unsigned me_is_user:1;	/* me: the human user, no identity */
	unsigned no_daemon_check:1;	/* daemon and hook commands */
};

/* designated, so that new members start zeroed */
#define THRUM_CTX_INIT { .proj = NULL, .origin = NULL }

typedef int (*cmd_fn)(int argc, const char **argv, struct thrum_ctx *ctx);

struct cmd_spec {
	const char *name;
	cmd_fn fn;
	const char *help;
};

int cmd_agent(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_config(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_daemon(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_fsck(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_group(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_hook(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_hooks(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_inbox(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_init(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_mcp(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_message(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_migrate(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_quickstart(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_rebuild(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_reply(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_send(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_session(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_setup(int argc, const char **argv, struct thrum_ctx *ctx);
/* `git thrum setup agents` (cmd-setup-agents.c) */
int cmd_setup_agents(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_sync(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_team(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_wait(int argc, const char **argv, struct thrum_ctx *ctx);
int cmd_whoami(int argc, const char **argv, struct thrum_ctx *ctx);

/*
 * The idempotent part of `init`: .thrum, the ignore entry, branch a-sync
 * (joined with the remote's when both hold history), the sync work tree
 * (rebuilt with force), the projection.  *how says where a-sync came
 * from.  0, or -1 after error().  (cmd-init.c; migrate uses it too.)
 */
int init_repository(struct thrum_ctx *ctx, int force, int gitignore,
		    const char **how);

/*
 * Start the daemon unless thrum.daemon is false (or the test suite says
 * THRUM_TEST_NO_DAEMON); *pid is its pid, 0 when none was started.  A
 * failure is a warning (cmd-init.c).
 */
void init_start_daemon(struct thrum_ctx *ctx, long *pid);

/*
 * Add ".thrum/" to the ignore file at path unless a line already says so
 * (cmd-init.c).  0, or -1 after error().
 */
int ignore_thrum(const char *path);

/*
 * Make this linked work tree share the main work tree's thrum (what
 * `setup` does, and `init` in a linked work tree): the redirect in this
 * work tree's git directory, .thrum/ ignored.  0, or -1 after error()
 * (cmd-setup.c).
 */
int setup_linked_worktree(struct thrum_ctx *ctx, int quiet);

/* 1 when the current work tree is a linked one (git worktree add) */
int ctx_is_linked_worktree(struct thrum_ctx *ctx);

/* --- helpers shared by the commands (context.c) --- */

/* find the repository; dies outside one */
void ctx_need_repo(struct thrum_ctx *ctx);
/* the repository, initialised and healthy, with its store; dies if not */
void ctx_need_store(struct thrum_ctx *ctx);
/* the store plus an up-to-date projection; dies on failure */
void ctx_need_projection(struct thrum_ctx *ctx);
/*
 * The projection caught up with events.jsonl (and the legacy
 * messages.jsonl) only: agents, roles, groups and sessions, all that
 * addressing a message needs; dies on failure
 */
void ctx_need_directory(struct thrum_ctx *ctx);
/*
 * Who I am, to write: an identity of this work tree; 0, or -1 after
 * error() saying how to make one
 */
int ctx_need_me(struct thrum_ctx *ctx);
/*
 * Who I am, to read: my identity, or, when nobody registered in this
 * work tree, the clone's human user ("user:<user.name>", me_is_user set):
 * they see broadcasts and what is addressed to them, and their read
 * marks stay in this clone.  0, or -1 after error().
 */
int ctx_need_reader(struct thrum_ctx *ctx);
/* effective configuration; dies on a bad value */
void ctx_need_config(struct thrum_ctx *ctx);
/* this clone's origin id, or NULL after error() */
const char *ctx_origin(struct thrum_ctx *ctx);

/*
 * Append evs under my shard (message events) or events.jsonl (the rest).
 * The projection is not touched: it follows the log, caught up by the
 * next command that reads it (or at once by the daemon, which watches
 * the log), so that a write costs one append and one fsync.  0 or -1.
 */
int ctx_append(struct thrum_ctx *ctx, const char *shard, struct event **evs,
	       size_t nr);

/*
 * Append evs to this clone's local log (var/local.jsonl: read marks of the
 * human user), which the projection reads and sync never carries.
 */
int ctx_append_local(struct thrum_ctx *ctx, struct event **evs, size_t nr);

void ctx_release(struct thrum_ctx *ctx);

/*
 * Read a message body: arg itself, or all of stdin when arg is "-".
 * Returns a new string, or NULL after error() (empty body, too long,
 * unreadable).
 */
char *read_body(const char *arg);

/* an opt_fn for commands whose only option is --json ('j') */
void opt_json(int opt, const char *arg, void *payload);

/* print usage to stdout and exit 129 (for -h) */
NORETURN void usage_help(const char *const *usagestr);

/*
 * Parse options with getopt_long (argv[0] is the command name).  Handles
 * -h and reports unknown options and missing arguments via usage_msg().
 * Calls fn(opt, optarg, payload) for each option; returns the index of
 * the first operand.
 */
struct option;
typedef void (*opt_fn)(int opt, const char *arg, void *payload);
int parse_options(int argc, const char **argv, const struct option *longopts,
		  const char *const *usagestr, opt_fn fn, void *payload);

#endif

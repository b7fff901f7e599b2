#ifndef THRUM_CMD_H
#define THRUM_CMD_H

/*
 * Commands.  To add one:
 *  1. write src/cmd-<name>.c with int cmd_<name>(argc, argv, ctx) and
 *     its `const struct cmd_args <name>_args` (usage lines, option table,
 *     operand count, subcommands), both declared below;
 *  2. add a row to the table in git-thrum.c: the name, the function, what
 *     it needs (NEED_*: main sets that up before the call, as git's
 *     RUN_SETUP does), a one-line description, its args;
 *  3. add src/cmd-<name>.o to CMD_OBJS in the Makefile;
 *  4. document it in Documentation/git-thrum.adoc (its SYNOPSIS lines are
 *     the usage lines: t9100 compares them);
 *  5. add a tests/tNNNN-*.sh that can fail.
 * The function sees its operands only (argv[0] is the first), options
 * already parsed into the variables its table binds.  It returns its exit
 * status: 0 ok, 1 failure (after error()), 129 usage (usage_opt_msg());
 * die() gives 128.  Documentation/technical/architecture.adoc has the
 * layers: commands print, the core under them never does.
 */
#include "config.h"
#include "core.h"
#include "parse-options.h"
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
	struct core core;	/* what the core operations work on */
	unsigned have_repo:1, have_store:1, have_me:1, have_cfg:1;
	unsigned proj_current:1;	/* caught up with the whole log */
	unsigned me_is_user:1;	/* me: the human user, no identity */
	unsigned no_daemon_check:1;	/* daemon and hook commands */
	unsigned include_bad:1;	/* show what does not count (ctx_include_bad) */
	unsigned lazy_directory:1;	/* names from the cache (ctx_want_directory) */
	unsigned dircache_tried:1, dircache_ok:1;
	struct dircache *dircache;
};

/* designated, so that new members start zeroed */
#define THRUM_CTX_INIT { .proj = NULL, .origin = NULL }

typedef int (*cmd_fn)(int argc, const char **argv, struct thrum_ctx *ctx);

/* what a command needs before it runs (ctx_setup() provides it) */
enum cmd_need {
	NEED_REPO = 1 << 0,	/* the repository; dies outside one */
	NEED_STORE = 1 << 1,	/* initialised and healthy, with its log */
	NEED_CONFIG = 1 << 2,	/* the effective configuration */
	NEED_DIRECTORY = 1 << 3, /* agents, roles, groups (ctx_need_directory) */
	NEED_PROJECTION = 1 << 4, /* the whole projection caught up */
	NEED_ME = 1 << 5,	/* my identity, to write (exit 1 without) */
	NEED_READER = 1 << 6,	/* who reads: my identity or the user */
	NO_DAEMON_CHECK = 1 << 7, /* never starts the daemon (daemon, hook) */
	CMD_HIDDEN = 1 << 8,	/* not listed (an alias, or internal) */
};

struct thrum_option;
struct cmd_args;

struct cmd_spec {
	const char *name;
	cmd_fn fn;		/* NULL: one of sub must be named */
	unsigned need;		/* enum cmd_need; a subcommand adds its own */
	const char *help;	/* one line, for the command list */
	const struct cmd_args *args;
};

/* usage lines of a command at most, and the NULL that ends them */
#define CMD_USAGE_LINES 4

struct cmd_args {
	/* the SYNOPSIS lines; none: the subcommands' (or the command's) */
	const char *usage[CMD_USAGE_LINES];
	const struct thrum_option *options;
	int min_args, max_args;		/* operands; max_args < 0: any */
	const char *missing;		/* the error when too few */
	const struct cmd_spec *sub;	/* subcommands, ending in { NULL } */
	const char *man;		/* manual page; NULL: git-thrum(1) */
};

/*
 * --json and nothing else, for the commands whose only option it is;
 * cmd_json is set when it was given (git-thrum.c)
 */
extern int cmd_json;
extern const struct thrum_option cmd_json_options[];

/* provide what need asks for; 0, or -1 after error() (exit 1) */
int ctx_setup(struct thrum_ctx *ctx, unsigned need);

/*
 * Each command: cmd_<name>() and its args (usage lines, option table,
 * operands, subcommands), both in src/cmd-<name>.c (setup_agents:
 * cmd-setup-agents.c, `setup agents`).  A command made only of
 * subcommands has args alone.
 */
#define CMD_DECLARE(name) \
	int cmd_##name(int argc, const char **argv, struct thrum_ctx *ctx); \
	extern const struct cmd_args name##_args

CMD_DECLARE(config);
CMD_DECLARE(fsck);
CMD_DECLARE(inbox);
CMD_DECLARE(init);
CMD_DECLARE(mcp);
CMD_DECLARE(overview);
CMD_DECLARE(migrate);
CMD_DECLARE(purge);
CMD_DECLARE(quickstart);
CMD_DECLARE(rebuild);
CMD_DECLARE(reply);
CMD_DECLARE(search);
CMD_DECLARE(send);
CMD_DECLARE(sent);
CMD_DECLARE(setup);
CMD_DECLARE(setup_agents);
CMD_DECLARE(team);
CMD_DECLARE(thread);
CMD_DECLARE(wait);
CMD_DECLARE(who_has);
CMD_DECLARE(whoami);
/* agent delete (cmd-purge.c), agent rotate-key (cmd-rotate-key.c) */
CMD_DECLARE(agent_delete);
CMD_DECLARE(agent_rotate_key);

extern const struct cmd_args agent_args;
extern const struct cmd_args daemon_args;
extern const struct cmd_args group_args;
extern const struct cmd_args hook_args;
extern const struct cmd_args hooks_args;
extern const struct cmd_args message_args;
extern const struct cmd_args peer_args;
extern const struct cmd_args session_args;
extern const struct cmd_args sync_args;

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

/*
 * Print the thread of message id (cmd-thread.c; message show --thread
 * too), marking it read unless no_mark; the exit status.
 */
int show_thread(struct thrum_ctx *ctx, const char *id, int no_mark, int json);

/*
 * Print messages as inbox, sent and thread do (cmd-thread.c): --json, or
 * "no messages", or the human form in colour through a pager on a
 * terminal, replies indented by depth (NULL: flat).  0, or -1 after
 * error() when stdout could not be written (what: "the inbox").
 */
struct message_list;
int show_messages(struct thrum_ctx *ctx, const struct message_list *l,
		  const int *depth, int json, const char *what);

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
 * The same for names only, when asked: each "@name" is looked up in the
 * directory cache while it is current (no database opened), and the
 * projection is opened and caught up (ctx_need_directory()) only for a
 * name the cache lacks or a cache that is not current, which is then
 * written again for the next command
 */
void ctx_want_directory(struct thrum_ctx *ctx);
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
 * The core (core.h) over this context: the store, the projection as far
 * as it was set up, me when known, the origin.  Writes through it mark
 * the projection behind, so the next ctx_need_projection() catches up.
 */
struct core *ctx_core(struct thrum_ctx *ctx);
/* --include-bad: the projection shows events that do not count, marked */
void ctx_include_bad(struct thrum_ctx *ctx, int on);

void ctx_release(struct thrum_ctx *ctx);

/*
 * Read a message body: arg itself, or all of stdin when arg is "-".
 * Returns a new string, or NULL after error() (empty body, too long,
 * unreadable).
 */
char *read_body(const char *arg);

#endif

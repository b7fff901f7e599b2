/*
 * git-thrum: persistent messages for agents, inside their Git repository.
 * This file is the entry point only: global options, the command table,
 * dispatch.  Git runs it as `git thrum <command>`.
 */
#include "thrum.h"
#include "cmd.h"
#include "usage.h"

#ifndef THRUM_VERSION
#define THRUM_VERSION "unknown"
#endif

static int cmd_help(int argc, const char **argv, struct thrum_ctx *ctx);
static int cmd_version(int argc, const char **argv, struct thrum_ctx *ctx);

static const struct cmd_spec commands[] = {
	{ "agent", cmd_agent, "list the agents registered here" },
	{ "config", cmd_config, "show every thrum setting and its source" },
	{ "daemon", cmd_daemon, "start, stop or check the sync daemon" },
	{ "fsck", cmd_fsck, "check the sync work tree, hooks, log and database" },
	{ "group", cmd_group, "create and change named audiences" },
	{ "help", cmd_help, "show the commands, or a command's manual" },
	{ "hook", cmd_hook, "(run by the installed hooks)" },
	{ "hooks", cmd_hooks, "install, remove or check the git hooks" },
	{ "inbox", cmd_inbox, "show the messages addressed to me" },
	{ "init", cmd_init, "set up thrum in this repository" },
	{ "message", cmd_message, "show, edit or delete one message" },
	{ "migrate", cmd_migrate, "move a log tracked on the main branch" },
	{ "quickstart", cmd_quickstart, "create my identity, start a session" },
	{ "rebuild", cmd_rebuild, "rebuild the database from the log" },
	{ "reply", cmd_reply, "reply to a message" },
	{ "send", cmd_send, "send a message" },
	{ "session", cmd_session, "start or end my working session" },
	{ "setup", cmd_setup, "share thrum with a linked work tree" },
	{ "sync", cmd_sync, "sync with the remote now, or show status" },
	{ "team", cmd_team, "list the agents with an open session" },
	{ "version", cmd_version, "print the version" },
	{ "wait", cmd_wait, "block until a message for me arrives" },
	{ "whoami", cmd_whoami, "show my identity" },
};

static const char *const main_usage[] = {
	"git thrum [--version] [--help] <command> [<args>]",
	NULL
};

static void list_commands(FILE *out)
{
	size_t i;

	fprintf(out, "usage: %s\n\nCommands:\n", main_usage[0]);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "   %-12s %s\n", commands[i].name,
			commands[i].help);
	fprintf(out, "\nSee 'git thrum <command> -h' for a command's options.\n");
}

static int cmd_help(int argc, const char **argv, struct thrum_ctx *ctx)
{
	(void)ctx;
	if (argc > 1) {
		/* as git does: the manual of git-thrum */
		execlp("git", "git", "help", "thrum", (char *)NULL);
		die_errno("cannot run 'git help thrum'");
	}
	(void)argv;
	list_commands(stdout);
	return 0;
}

static int cmd_version(int argc, const char **argv, struct thrum_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	printf("git-thrum version %s\n", THRUM_VERSION);
	return 0;
}

int main(int argc, const char **argv)
{
	struct thrum_ctx ctx = THRUM_CTX_INIT;
	const char *name;
	size_t i;
	int ret;

	if (argc < 2) {
		list_commands(stderr);
		return 129;
	}
	name = argv[1];
	if (!strcmp(name, "--help")) {
		execlp("git", "git", "help", "thrum", (char *)NULL);
		die_errno("cannot run 'git help thrum'");
	}
	if (!strcmp(name, "-h")) {
		list_commands(stdout);
		return 129;
	}
	if (!strcmp(name, "--version"))
		name = "version";
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, name))
			continue;
		ret = commands[i].fn(argc - 1, argv + 1, &ctx);
		ctx_release(&ctx);
		if (fflush(stdout) || ferror(stdout))
			die_errno("cannot write to standard output");
		return ret;
	}
	fprintf(stderr, "git thrum: '%s' is not a thrum command. "
		"See 'git thrum --help'.\n", name);
	return 129;
}

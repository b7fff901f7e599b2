#ifndef THRUM_RUN_COMMAND_H
#define THRUM_RUN_COMMAND_H

#include "strvec.h"

struct strbuf;

/*
 * Running child processes, always from an argv (never a shell string).
 * A struct child_process is filled in, run once, then released with
 * child_process_clear() (run_command() and capture_command() do that).
 */
struct child_process {
	struct strvec args;
	struct strvec env;	/* "NAME=value" to set, "NAME" to unset */
	const char *dir;	/* chdir here first (borrowed) */
	unsigned git_cmd:1;	/* prepend "git" */
	unsigned no_stdin:1;	/* stdin from /dev/null */
	unsigned no_stdout:1;	/* stdout to /dev/null */
	unsigned no_stderr:1;	/* stderr to /dev/null */
	unsigned stderr_to_stdout:1;	/* 2>&1, e.g. into a capture */
	/*
	 * Clear GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE and friends, for a
	 * child that targets another repository than ours.
	 */
	unsigned clean_git_env:1;
	/*
	 * capture_command() only: kill the child and everything it started
	 * (its own process group) after this many milliseconds; 0: never.
	 * timed_out says whether that happened.
	 */
	int timeout_ms;
	unsigned timed_out:1;
	/*
	 * A session of its own (setsid()): no controlling terminal, so
	 * neither the child nor what it starts (ssh) can prompt on ours.
	 */
	unsigned no_tty:1;
	/*
	 * When we are the terminal's foreground job: the child's process
	 * group becomes it while the child runs, so that what it starts
	 * can prompt there (a background group is stopped by SIGTTIN
	 * when it reads the terminal); ours again afterwards.
	 */
	unsigned foreground:1;
	/*
	 * capture_command() only: print slow_notice (borrowed) and a
	 * newline to stderr once, when the child still runs after slow_ms
	 * milliseconds; 0: never.
	 */
	int slow_ms;
	const char *slow_notice;
};

#define CHILD_PROCESS_INIT { .args = STRVEC_INIT, .env = STRVEC_INIT }

void child_process_clear(struct child_process *cp);

/*
 * Run and wait.  Returns the exit status (0..255), 128+signal when killed,
 * or -1 when it could not be started (reported through error()).
 */
int run_command(struct child_process *cp);

/*
 * Run with stdout captured into out (appended) and, if in is non-NULL, its
 * bytes fed to stdin.  Same return values as run_command().
 */
int capture_command(struct child_process *cp, struct strbuf *out,
		    const struct strbuf *in);

/*
 * End every child running now, and what each started (its process
 * group when it has one of its own), with sig; from then on no child
 * starts: run_command() and capture_command() fail with an error.  Safe
 * in a signal handler: a process that is told to stop calls it there,
 * so that a fetch that hangs ends at once instead of at its timeout.
 */
void run_command_stop(int sig);

enum run_git_flags {
	RUN_GIT_QUIET = (1 << 0),	/* stderr to /dev/null */
	RUN_GIT_NO_HOOKS = (1 << 1),	/* -c core.hooksPath=/dev/null */
};

/*
 * Run `git <args...>` (NULL-terminated) in dir, as a child that targets
 * that repository (GIT_DIR and friends cleared), stdin from /dev/null.
 * Its stdout is appended to out when out is non-NULL, else discarded.
 * Returns git's exit status, or -1 when it could not be started.
 */
int run_git(const char *dir, unsigned flags, struct strbuf *out, ...);

/* the same with the arguments in an array */
int run_git_v(const char *dir, unsigned flags, struct strbuf *out,
	      const char **args);

#endif

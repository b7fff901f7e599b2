/*
 * pager.c: colour and pager decisions, delegated to git itself so that
 * every setting git honours (color.ui, core.pager, GIT_PAGER, PAGER) is
 * honoured here; both only when stdout is a terminal, so scripts and
 * tests never pay for the `git` children.
 */
#include "thrum.h"
#include "pager.h"
#include "run-command.h"
#include "strbuf.h"
#include "usage.h"

static pid_t pager_pid = -1;

int want_color(const char *dir)
{
	struct strbuf out = STRBUF_INIT;
	const char *no = getenv("NO_COLOR");
	int on;

	if (!isatty(STDOUT_FILENO) || (no && *no))
		return 0;
	on = !run_git(dir, RUN_GIT_QUIET, &out, "config", "--get-colorbool",
		      "color.thrum", "true", NULL) &&
	     !strncmp(out.buf, "true", 4);
	strbuf_release(&out);
	return on;
}

static void wait_for_pager(void)
{
	int status;

	if (pager_pid < 0)
		return;
	fflush(stdout);
	close(STDOUT_FILENO);	/* the pager sees the end of its input */
	while (waitpid(pager_pid, &status, 0) < 0 && errno == EINTR)
		;
	pager_pid = -1;
}

void setup_pager(const char *dir)
{
	struct strbuf pager = STRBUF_INIT;
	int fd[2];

	if (!isatty(STDOUT_FILENO) ||
	    run_git(dir, RUN_GIT_QUIET, &pager, "var", "GIT_PAGER", NULL))
		goto out;
	strbuf_trim(&pager);
	if (!pager.len || !strcmp(pager.buf, "cat") || pipe(fd) < 0)
		goto out;
	fflush(stdout);
	pager_pid = fork();
	if (pager_pid < 0) {
		close(fd[0]);
		close(fd[1]);
		goto out;
	}
	if (!pager_pid) {
		dup2(fd[0], STDIN_FILENO);
		close(fd[0]);
		close(fd[1]);
		setenv("LESS", "FRX", 0);
		setenv("LV", "-c", 0);
		execl("/bin/sh", "sh", "-c", pager.buf, (char *)NULL);
		_exit(127);
	}
	dup2(fd[1], STDOUT_FILENO);
	close(fd[0]);
	close(fd[1]);
	atexit(wait_for_pager);
out:
	strbuf_release(&pager);
}

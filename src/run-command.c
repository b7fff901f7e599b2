/*
 * run-command.c owns every fork/exec.  The child gets an argv, never a
 * shell string; its environment is ours plus cp->env; stdio is inherited
 * unless redirected.  A capture feeds stdin and drains stdout with poll()
 * so neither side can deadlock on a full pipe.  Every child that runs is
 * in running[] from its fork to its reaping, so that a signal handler
 * can end them all (run_command_stop()); once that was called no child
 * starts any more.
 */
#include "thrum.h"
#include <poll.h>
#include "clock.h"
#include "run-command.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

static const char *const local_git_env[] = {
	"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR",
	"GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
	"GIT_PREFIX", "GIT_NAMESPACE", "GIT_IMPLICIT_WORK_TREE",
	"GIT_INTERNAL_SUPER_PREFIX", "GIT_SHALLOW_FILE", "GIT_GRAFT_FILE",
	"GIT_REPLACE_REF_BASE", "GIT_NO_REPLACE_OBJECTS",
};

/*
 * The children running now, read by run_command_stop() in a signal
 * handler: fixed slots, 0 when free.  A slot is written only with the
 * stopping signals blocked, so the handler never sees a child half
 * registered, nor a fork whose child is in no slot yet.
 */
#define RUNNING_MAX 16
static volatile sig_atomic_t running[RUNNING_MAX];
static volatile sig_atomic_t stopping;

static void block_stop_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, old);
}

static void running_add(pid_t pid)
{
	size_t i;

	/* more at once than slots: that child is not ended by a stop */
	for (i = 0; i < RUNNING_MAX; i++)
		if (!running[i]) {
			running[i] = pid;
			return;
		}
}

static void running_remove(pid_t pid)
{
	sigset_t old;
	size_t i;

	block_stop_signals(&old);
	for (i = 0; i < RUNNING_MAX; i++)
		if (running[i] == pid)
			running[i] = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void run_command_stop(int sig)
{
	int saved = errno;
	size_t i;

	stopping = 1;
	for (i = 0; i < RUNNING_MAX; i++) {
		pid_t pid = running[i];

		if (!pid)
			continue;
		/* its group (what it started), then itself, in any group */
		kill(-pid, sig);
		kill(pid, sig);
	}
	errno = saved;
}

void child_process_clear(struct child_process *cp)
{
	strvec_clear(&cp->args);
	strvec_clear(&cp->env);
}

static void child_setup_env(struct child_process *cp)
{
	size_t i;

	if (cp->clean_git_env)
		for (i = 0; i < ARRAY_SIZE(local_git_env); i++)
			unsetenv(local_git_env[i]);
	for (i = 0; i < cp->env.nr; i++) {
		const char *e = cp->env.v[i];
		const char *eq = strchr(e, '=');

		if (eq) {
			char *name = xstrndup(e, eq - e);

			setenv(name, eq + 1, 1);
			free(name);
		} else {
			unsetenv(e);
		}
	}
}

static void child_redirect(int fd, int target_fd)
{
	if (fd >= 0 && fd != target_fd) {
		dup2(fd, target_fd);
		close(fd);
	}
}

/* make pgrp the terminal's foreground job (we may be in the background) */
static void set_foreground(int tty, pid_t pgrp)
{
	void (*old)(int) = signal(SIGTTOU, SIG_IGN);

	tcsetpgrp(tty, pgrp);
	signal(SIGTTOU, old);
}

/* our terminal, when cp->foreground asks for it and it is ours; or -1 */
static int grab_tty(const struct child_process *cp)
{
	int fd;

	if (!cp->foreground || cp->no_tty)
		return -1;
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0 && tcgetpgrp(fd) != getpgrp()) {
		close(fd);	/* a background job prompts as git would */
		fd = -1;
	}
	return fd;
}

static void release_tty(int tty)
{
	if (tty < 0)
		return;
	set_foreground(tty, getpgrp());
	close(tty);
}

static pid_t start(struct child_process *cp, int in_fd, int out_fd, int tty)
{
	struct strvec argv = STRVEC_INIT;
	sigset_t old;
	pid_t pid;
	int null_fd = -1;

	if (cp->git_cmd)
		strvec_push(&argv, "git");
	strvec_pushv(&argv, cp->args.v);
	if (!argv.nr) {
		strvec_clear(&argv);
		return error("run_command: no command given");
	}
	if (cp->no_stdin || cp->no_stdout || cp->no_stderr)
		null_fd = xopen("/dev/null", O_RDWR, 0);

	fflush(NULL);
	block_stop_signals(&old);
	pid = stopping ? -1 : fork();
	if (pid < 0) {
		int fork_errno = errno;

		sigprocmask(SIG_SETMASK, &old, NULL);
		if (stopping) {
			error("not running '%s': stopping", argv.v[0]);
		} else {
			errno = fork_errno;
			error_errno("cannot fork '%s'", argv.v[0]);
		}
		if (null_fd >= 0)
			close(null_fd);
		strvec_clear(&argv);
		return -1;
	}
	if (!pid) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (cp->no_stdin)
			dup2(null_fd, 0);
		else
			child_redirect(in_fd, 0);
		if (cp->no_stdout)
			dup2(null_fd, 1);
		else
			child_redirect(out_fd, 1);
		if (cp->no_stderr)
			dup2(null_fd, 2);
		else if (cp->stderr_to_stdout)
			dup2(1, 2);
		/* a group of its own, so a timeout can kill all of it */
		if (cp->no_tty) {
			setsid();
		} else if (cp->timeout_ms > 0 || tty >= 0) {
			setpgid(0, 0);
			/* both sides do it: either may run first */
			if (tty >= 0)
				set_foreground(tty, getpid());
		}
		if (cp->dir && chdir(cp->dir) < 0) {
			fprintf(stderr, "error: cannot chdir to '%s': %s\n",
				cp->dir, strerror(errno));
			_exit(127);
		}
		child_setup_env(cp);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv.v[0], (char *const *)argv.v);
		fprintf(stderr, "error: cannot run '%s': %s\n", argv.v[0],
			strerror(errno));
		_exit(127);
	}
	running_add(pid);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (tty >= 0) {
		setpgid(pid, pid);
		set_foreground(tty, pid);
	}
	if (null_fd >= 0)
		close(null_fd);
	strvec_clear(&argv);
	return pid;
}

static int finish(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			running_remove(pid);
			return error_errno("waitpid failed");
		}
	}
	running_remove(pid);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int run_command(struct child_process *cp)
{
	int tty = grab_tty(cp);
	pid_t pid = start(cp, -1, -1, tty);
	int ret = pid < 0 ? -1 : finish(pid);

	release_tty(tty);
	child_process_clear(cp);
	return ret;
}

int capture_command(struct child_process *cp, struct strbuf *out,
		    const struct strbuf *in)
{
	int outp[2] = { -1, -1 }, inp[2] = { -1, -1 };
	size_t written = 0;
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	int64_t deadline, slow_at;
	pid_t pid;
	int ret = -1, tty = grab_tty(cp);

	if (pipe2(outp, O_CLOEXEC) < 0 ||
	    (in && pipe2(inp, O_CLOEXEC) < 0)) {
		error_errno("cannot create a pipe");
		goto out;
	}
	pid = start(cp, in ? inp[0] : -1, outp[1], tty);
	if (in) {
		close(inp[0]);
		inp[0] = -1;
	}
	close(outp[1]);
	outp[1] = -1;
	if (pid < 0)
		goto out;

	if (in && !in->len) {
		close(inp[1]);
		inp[1] = -1;
	}
	deadline = cp->timeout_ms > 0 ? now_ms() + cp->timeout_ms : -1;
	slow_at = cp->slow_ms > 0 && cp->slow_notice ? now_ms() + cp->slow_ms
						      : -1;
	cp->timed_out = 0;
	for (;;) {
		struct pollfd pfd[2];
		int n = 0, i, wait_ms = -1, ready;

		pfd[n].fd = outp[0];
		pfd[n++].events = POLLIN;
		if (inp[1] >= 0) {
			pfd[n].fd = inp[1];
			pfd[n++].events = POLLOUT;
		}
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			if (left <= 0) {
				/* the child and all it started: no orphan */
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				cp->timed_out = 1;
				break;
			}
			wait_ms = (int)left;
		}
		if (slow_at >= 0) {
			int64_t left = slow_at - now_ms();

			if (left <= 0) {
				/*
				 * the child may hold the terminal: a write
				 * from the background must not stop us
				 * (stty tostop)
				 */
				void (*prev)(int) = signal(SIGTTOU, SIG_IGN);

				fprintf(stderr, "%s\n", cp->slow_notice);
				fflush(stderr);
				signal(SIGTTOU, prev);
				slow_at = -1;
				continue;
			}
			if (wait_ms < 0 || left < wait_ms)
				wait_ms = (int)left;
		}
		ready = poll(pfd, n, wait_ms);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!ready)
			continue;
		for (i = 1; i < n; i++) {
			ssize_t w;

			if (!pfd[i].revents)
				continue;
			w = write(inp[1], in->buf + written,
				  in->len - written);
			if (w > 0)
				written += w;
			if (w < 0 && errno != EINTR && errno != EAGAIN)
				written = in->len;
			if (written >= in->len) {
				close(inp[1]);
				inp[1] = -1;
			}
		}
		if (pfd[0].revents) {
			char buf[8192];
			ssize_t r = read(outp[0], buf, sizeof(buf));

			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (r <= 0)
				break;
			strbuf_add(out, buf, r);
		}
	}
	ret = finish(pid);
out:
	release_tty(tty);
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (inp[0] >= 0)
		close(inp[0]);
	if (inp[1] >= 0)
		close(inp[1]);
	signal(SIGPIPE, old_pipe);
	child_process_clear(cp);
	return ret;
}

int run_git_v(const char *dir, unsigned flags, struct strbuf *out,
	      const char **args)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf ignored = STRBUF_INIT;
	int ret;

	cp.git_cmd = 1;
	cp.dir = dir;
	cp.clean_git_env = 1;
	cp.no_stdin = 1;
	cp.no_stderr = !!(flags & RUN_GIT_QUIET);
	if (flags & RUN_GIT_NO_HOOKS)
		strvec_pushl(&cp.args, "-c", "core.hooksPath=/dev/null", NULL);
	strvec_pushv(&cp.args, args);
	ret = capture_command(&cp, out ? out : &ignored, NULL);
	strbuf_release(&ignored);
	return ret;
}

int run_git(const char *dir, unsigned flags, struct strbuf *out, ...)
{
	struct strvec args = STRVEC_INIT;
	const char *arg;
	va_list ap;
	int ret;

	va_start(ap, out);
	while ((arg = va_arg(ap, const char *)))
		strvec_push(&args, arg);
	va_end(ap);
	ret = run_git_v(dir, flags, out, args.v);
	strvec_clear(&args);
	return ret;
}

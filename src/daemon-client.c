/*
 * daemon-client.c: the daemon seen from a command (daemon.h).  Whether one
 * runs, where it listens (commands call it there with rpc_call()),
 * starting it in the background, stopping it, and the var/daemon.stopped
 * mark; the loop itself is daemon.c.
 *
 * Who is the daemon is decided by a lock, never by a pid: the daemon holds
 * flock(var/thrum.pid) for its lifetime, so a pid file nobody locks is
 * stale (the kernel dropped the lock of a daemon that died) and so is any
 * socket beside it.  Every wait here is bounded (technical/on-disk.adoc
 * lists these files and who writes each).
 */
#include "thrum.h"
#include "daemon.h"
#include "clock.h"
#include "config.h"
#include "lockfile.h"
#include "repo.h"
#include "rpc.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

/* `daemon start` waits this long for the new daemon to listen */
#define DAEMON_START_TIMEOUT_MS 10000
/*
 * `daemon stop`: it ends a running cycle at once (and kills one that
 * lingers for half a second), so this is for a machine under load
 */
#define DAEMON_STOP_TIMEOUT_MS 10000
/* how often those waits look */
#define DAEMON_POLL_MS 10

char *daemon_socket_path(const struct repo *r)
{
	return path_join(r->var_dir, "thrum.sock");
}

char *daemon_pid_path(const struct repo *r)
{
	return path_join(r->var_dir, "thrum.pid");
}

int daemon_running(const struct repo *r, long *pid)
{
	char *path = daemon_pid_path(r), *sock = daemon_socket_path(r);
	struct strbuf sb = STRBUF_INIT;
	int running = lock_held(path);

	if (running) {
		if (strbuf_read_file(&sb, path, 64) >= 0) {
			/* "<pid>\n", then "local-only\n" after start --local */
			strbuf_setlen(&sb, strcspn(sb.buf, "\n"));
			strbuf_trim(&sb);
			if (thrum_parse_long(sb.buf, 1, LONG_MAX, pid) < 0)
				*pid = 0;
		}
	} else {
		/*
		 * Nobody holds it: any socket is stale (a daemon binds only
		 * after taking the lock).  The pid file stays: a daemon that
		 * is starting may have it open already.
		 */
		unlink(sock);
	}
	strbuf_release(&sb);
	free(path);
	free(sock);
	return running;
}

int daemon_local_only(const struct repo *r)
{
	char *path = daemon_pid_path(r);
	struct strbuf sb = STRBUF_INIT;
	long pid = 0;
	int local = 0;

	if (daemon_running(r, &pid) && strbuf_read_file(&sb, path, 64) >= 0) {
		const char *nl = strchr(sb.buf, '\n');

		local = nl && !strcmp(nl + 1, "local-only\n");
	}
	strbuf_release(&sb);
	free(path);
	return local;
}

/*
 * Keep nothing of the caller's but stdin, stdout and stderr (which we
 * set): a pipe the caller writes to, a lock it holds, must not live as
 * long as the daemon (a reader of that pipe would wait for its end).
 */
static void close_other_fds(void)
{
	long max = sysconf(_SC_OPEN_MAX);
	int fd;

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		close(fd);
}

int daemon_start(const struct repo *r, long *pid)
{
	return daemon_start_flags(r, 0, pid);
}

struct start_wait {
	const struct repo *r;
	const char *sock;
	long *pid;
};

/* it binds after taking the lock: both there means it listens */
static int daemon_listening(void *arg)
{
	struct start_wait *w = arg;

	return !access(w->sock, F_OK) && daemon_running(w->r, w->pid);
}

int daemon_start_flags(const struct repo *r, unsigned flags, long *pid)
{
	char *log = path_join(r->var_dir, "daemon.log");
	char *sock = daemon_socket_path(r);
	struct start_wait w = { r, sock, pid };
	char self[PATH_MAX];
	ssize_t n;
	pid_t child;
	int ret = -1;

	if (daemon_running(r, pid)) {
		ret = THRUM_EBUSY;
		goto out;
	}
	if (rpc_check_path(sock) < 0)
		goto out;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		error_errno("cannot find this program");
		goto out;
	}
	self[n] = '\0';
	fflush(NULL);
	child = fork();
	if (child < 0) {
		error_errno("cannot fork");
		goto out;
	}
	if (!child) {
		int null_fd = xopen("/dev/null", O_RDWR, 0);
		int log_fd = xopen(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		setsid();
		if (fork() > 0)
			_exit(0);	/* the daemon is no child of ours */
		if (null_fd >= 0)
			dup2(null_fd, 0);
		if (log_fd >= 0) {
			dup2(log_fd, 1);
			dup2(log_fd, 2);
		}
		close_other_fds();
		if (chdir(r->worktree) < 0)
			_exit(127);
		if (flags & DAEMON_LOCAL_ONLY)
			execl(self, "git-thrum", "daemon", "run", "--local",
			      (char *)NULL);
		else
			execl(self, "git-thrum", "daemon", "run", (char *)NULL);
		_exit(127);
	}
	waitpid(child, NULL, 0);
	if (poll_until(daemon_listening, &w, DAEMON_START_TIMEOUT_MS,
		       DAEMON_POLL_MS))
		ret = 0;
	else
		error("the daemon did not start; see '%s'", log);
out:
	free(log);
	free(sock);
	return ret;
}

static int process_gone(pid_t pid)
{
	struct strbuf path = STRBUF_INIT, stat = STRBUF_INIT;
	const char *p;
	int gone;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 1;
	strbuf_addf(&path, "/proc/%ld/stat", (long)pid);
	gone = strbuf_read_file(&stat, path.buf, 256) < 0;
	/* "pid (comm) S ...": the state follows the last ')' */
	p = gone ? NULL : strrchr(stat.buf, ')');
	if (p && p[1] == ' ' && p[2] == 'Z')
		gone = 1;
	strbuf_release(&path);
	strbuf_release(&stat);
	return gone;
}

struct stop_wait {
	const struct repo *r;
	pid_t pid;
};

/* the lock released and the process gone (or a zombie nobody reaped) */
static int daemon_gone(void *arg)
{
	struct stop_wait *w = arg;
	long again = 0;

	return !daemon_running(w->r, &again) && process_gone(w->pid);
}

int daemon_stop(const struct repo *r)
{
	struct stop_wait w = { r, 0 };
	long pid = 0;

	if (!daemon_running(r, &pid))
		return THRUM_ENOTFOUND;
	if (pid <= 0 || kill((pid_t)pid, SIGTERM) < 0)
		return error_errno("cannot signal the daemon (pid %ld)", pid);
	w.pid = (pid_t)pid;
	if (poll_until(daemon_gone, &w, DAEMON_STOP_TIMEOUT_MS, DAEMON_POLL_MS))
		return 0;
	return error("the daemon (pid %ld) did not stop within %ds", pid,
		     DAEMON_STOP_TIMEOUT_MS / 1000);
}

/*
 * `daemon stop` leaves var/daemon.stopped, so that the next command does
 * not start the daemon the user just stopped; `daemon start` and `init`
 * remove it.
 */
static char *stopped_path(const struct repo *r)
{
	return path_join(r->var_dir, "daemon.stopped");
}

void daemon_mark_stopped(const struct repo *r)
{
	char *path = stopped_path(r);

	if (write_file_derived(path, "", 0, 0644) < 0)
		warning("cannot write '%s'", path);
	free(path);
}

void daemon_clear_stopped(const struct repo *r)
{
	char *path = stopped_path(r);

	unlink(path);
	free(path);
}

int daemon_marked_stopped(const struct repo *r)
{
	char *path = stopped_path(r);
	int stopped = !access(path, F_OK);

	free(path);
	return stopped;
}

int daemon_keep_alive(const struct repo *r, const struct thrum_config *cfg)
{
	long pid = 0;

	if (!cfg->daemon || cfg->local_only || getenv("THRUM_TEST_NO_DAEMON"))
		return 0;
	if (daemon_marked_stopped(r) || daemon_running(r, &pid))
		return 0;
	/* quietly: the command the user typed is what they want to see */
	return daemon_start(r, &pid) < 0 ? -1 : 1;
}

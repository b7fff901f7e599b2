/*
 * daemon.c: the per-repository daemon.
 *
 * One process, one poll() loop, no threads.  It owns:
 *  - var/thrum.pid, flock()ed for the process's lifetime: whoever holds
 *    the lock is the daemon; a pid file nobody locks is stale;
 *  - var/thrum.sock (0600), where clients send one JSON-RPC request per
 *    line and get one response per line;
 *  - the sync loop: a cycle at start, then every thrum.syncInterval
 *    seconds (`sync.force` runs one at once); now and then
 *    `git gc --auto`.  After the remote said no to our credentials it
 *    does not knock again every cycle: it backs off (1 min, doubling, at
 *    most 1 h) until a cycle succeeds, `sync.force` asks, or another
 *    command's cycle (`git thrum sync force`) ended otherwise;
 *  - waiters: `wait` requests held open until a message for the caller
 *    is projected (inotify on the log sees local appends at once; sync
 *    cycles bring the rest) or their timeout passes.
 * It never dies on a bad event, a bad client or a failed fetch: it logs
 * and goes on.  SIGTERM ends it after the cycle in progress, removing
 * the socket and pid file; so does the deletion of its repository.
 */
#include "thrum.h"
#include <malloc.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "daemon.h"
#include "config.h"
#include "date.h"
#include "format.h"
#include "gitx.h"
#include "projection.h"
#include "repo.h"
#include "rpc.h"
#include "run-command.h"
#include "store.h"
#include "strbuf.h"
#include "sync.h"
#include "usage.h"
#include "watch.h"
#include "wrapper.h"

#define MAX_CLIENTS 64
#define GC_EVERY 20		/* cycles between two `git gc --auto` */
#define AUTH_BACKOFF_MIN 60	/* seconds, doubled after each failure */
#define AUTH_BACKOFF_MAX 3600

struct client {
	int fd;
	struct strbuf in;
	int waiting;
	json_object *id;
	char *agent;
	char *role;
	int all;
	int64_t after;
	int64_t deadline;	/* ms, monotonic; -1: none */
};

static struct daemon_state {
	const struct repo *r;
	struct thrum_config cfg;
	struct store store;
	struct projection *proj;
	struct watch watch;
	int listen_fd;
	int pid_fd;
	int sig_pipe[2];
	struct client clients[MAX_CLIENTS];
	int nr_clients;
	unsigned cycles;
	int64_t next_tick;
	int stop;
	unsigned flags;		/* enum daemon_flags */
	long auth_failures;	/* in a row */
	int64_t retry_at;	/* ms, monotonic; 0: no back-off */
	unsigned skipped;	/* ticks skipped while backing off */
	int64_t write_due;	/* ms, monotonic: a cycle for local appends */
} d;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *daemon_socket_path(const struct repo *r)
{
	return path_join(r->var_dir, "thrum.sock");
}

static char *pid_path(const struct repo *r)
{
	return path_join(r->var_dir, "thrum.pid");
}

int daemon_running(const struct repo *r, long *pid)
{
	char *path = pid_path(r), *sock = daemon_socket_path(r);
	struct strbuf sb = STRBUF_INIT;
	int fd, running = 0;

	fd = xopen(path, O_RDWR, 0);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 &&
	    errno == EWOULDBLOCK) {
		running = 1;
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
	if (fd >= 0)
		close(fd);
	strbuf_release(&sb);
	free(path);
	free(sock);
	return running;
}

int daemon_local_only(const struct repo *r)
{
	char *path = pid_path(r);
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

/* --- logging --- */

PRINTF_LIKE(2, 0) static void log_report(const char *prefix,
					 const char *fmt, va_list ap)
{
	char when[DATE_RFC3339_LEN + 1];

	date_format_rfc3339_sec(date_now_ns(), when);
	fprintf(stderr, "%s [%ld] %s", when, (long)getpid(), prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

PRINTF_LIKE(1, 2) static void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_report("", fmt, ap);
	va_end(ap);
}

/* --- clients --- */

static void client_close(struct client *c)
{
	close(c->fd);
	strbuf_release(&c->in);
	json_object_put(c->id);
	free(c->agent);
	free(c->role);
	*c = d.clients[--d.nr_clients];
}

static json_object *messages_object(const struct message_list *l)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_object *o = NULL;

	if (f) {
		format_messages_json(l, f);
		fclose(f);
		o = json_tokener_parse(text);
	}
	free(text);
	return o ? o : json_object_new_object();
}

/* answer a waiter if a message for it was projected; 1 when answered */
static int try_answer(struct client *c, int timed_out)
{
	struct message_list l = MESSAGE_LIST_INIT;
	struct inbox_query q;
	json_object *res;

	memset(&q, 0, sizeof(q));
	q.me = c->agent;
	q.role = c->role;
	q.all = c->all;
	q.after_seq = c->after;
	if (projection_inbox(d.proj, &q, &l) < 0 || (!l.nr && !timed_out)) {
		message_list_release(&l);
		return 0;
	}
	res = messages_object(&l);
	json_object_object_add(res, "timeout",
			       json_object_new_boolean(!l.nr));
	rpc_send_result(c->fd, c->id, res);
	message_list_release(&l);
	return 1;
}

static void check_waiters(void)
{
	int64_t now = now_ms();
	int i;

	for (i = 0; i < d.nr_clients; i++) {
		struct client *c = &d.clients[i];
		int timed_out = c->deadline >= 0 && now >= c->deadline;

		if (c->waiting && try_answer(c, timed_out)) {
			client_close(c);
			i--;
		}
	}
}

/* a json_object of what a format_*_json() function prints */
static json_object *status_object(const struct sync_status *st)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_object *o = NULL;

	if (f) {
		struct sync_status mine = *st;

		mine.daemon_pid = getpid();
		mine.running = sync_running(d.r);
		mine.remote = d.cfg.remote;	/* borrowed: the one it uses */
		format_sync_status_json(&mine, d.cfg.local_only, f);
		fclose(f);
		o = json_tokener_parse(text);
	}
	free(text);
	return o ? o : json_object_new_object();
}

/* what the command line says beats git config: start --local */
static void apply_flags(void)
{
	if (d.flags & DAEMON_LOCAL_ONLY)
		d.cfg.local_only = 1;
}

/*
 * While backing off after an auth failure: 1 to skip this tick.  The
 * back-off ends early when the recorded status is no longer auth: a
 * `git thrum sync force` (which may prompt) ran a cycle of its own.
 */
static int backing_off(void)
{
	struct sync_status st = SYNC_STATUS_INIT;
	int skip;

	if (!d.retry_at || now_ms() >= d.retry_at)
		return 0;
	skip = !sync_status_read(d.r, &st) && st.state == SYNC_AUTH;
	sync_status_release(&st);
	if (!skip) {
		log_info("sync: another cycle ended the auth back-off");
		d.auth_failures = 0;
		d.retry_at = 0;
	}
	return skip;
}

/* the remote refused our credentials: wait longer before asking again */
static void back_off(struct sync_status *st)
{
	char when[DATE_RFC3339_LEN + 1];
	long delay = AUTH_BACKOFF_MIN;
	long i;

	for (i = 1; i < d.auth_failures && delay < AUTH_BACKOFF_MAX; i++)
		delay *= 2;
	if (delay > AUTH_BACKOFF_MAX)
		delay = AUTH_BACKOFF_MAX;
	d.retry_at = now_ms() + delay * 1000;
	date_format_rfc3339_sec(date_now_ns() + (int64_t)delay * 1000000000,
				when);
	free(st->retry_at);
	st->retry_at = xstrdup(when);
	st->auth_failures = d.auth_failures;
	if (sync_status_write(d.r, st) < 0)
		warning("cannot record the auth back-off");
	log_info("sync: auth failed %ld time%s in a row; next try at %s "
		 "(or 'git thrum sync force')", d.auth_failures,
		 d.auth_failures == 1 ? "" : "s", when);
}

/*
 * Sync on write: a local append is pushed thrum.writeDelay ms after it
 * (not at the next tick), and the appends of a burst go in one cycle:
 * the first sets the time, the others find it set.  Only when the log
 * differs from what the last cycle committed, so that the daemon's own
 * merges and commits schedule nothing.
 */
static void schedule_write_cycle(void)
{
	if (d.write_due || d.cfg.local_only || d.cfg.write_delay < 0 ||
	    !sync_worktree_changed(d.r, &d.store))
		return;
	d.write_due = now_ms() + d.cfg.write_delay;
}

static void run_cycle(int forced)
{
	struct sync_status st = SYNC_STATUS_INIT;
	struct thrum_config fresh = THRUM_CONFIG_INIT;
	int w;

	if (forced) {
		d.auth_failures = 0;
		d.retry_at = 0;
	} else if (backing_off()) {
		d.skipped++;
		d.write_due = 0;	/* the back-off covers local appends too */
		d.next_tick = now_ms() + d.cfg.sync_interval * 1000;
		check_waiters();
		return;
	}
	/* pick up `git config thrum.*` changes between cycles */
	if (!config_load(&fresh, d.r)) {
		config_release(&d.cfg);
		d.cfg = fresh;
	} else {
		config_release(&fresh);
	}
	apply_flags();
	if (sync_cycle(d.r, &d.cfg, &d.store, d.proj, 0, &st) < 0)
		log_info("sync cycle failed: %s",
			 st.last_error ? st.last_error : "?");
	else if (st.state != SYNC_BUSY &&
		 (st.new_events || st.pushed || st.state == SYNC_ERROR ||
		  sync_state_network_failed(st.state)))
		log_info("sync: %s, %ld new, %s%s%s", sync_state_name(st.state),
			 st.new_events, st.pushed ? "pushed" : "not pushed",
			 st.last_error ? ": " : "",
			 st.last_error ? st.last_error : "");
	if (st.state == SYNC_AUTH) {
		d.auth_failures++;
		back_off(&st);
	} else if (st.state != SYNC_BUSY) {
		d.auth_failures = 0;
		d.retry_at = 0;
	}
	sync_status_release(&st);
	/* an idle daemon keeps neither libgit2 nor freed memory */
	gitx_unload();
	malloc_trim(0);
	if (++d.cycles % GC_EVERY == 0) {
		struct child_process cp = CHILD_PROCESS_INIT;

		cp.git_cmd = 1;
		cp.dir = d.r->worktree;
		cp.clean_git_env = 1;
		cp.no_stdin = 1;
		cp.no_stdout = 1;
		strvec_pushl(&cp.args, "gc", "--auto", "--quiet", NULL);
		run_command(&cp);
	}
	d.next_tick = now_ms() + d.cfg.sync_interval * 1000;
	d.write_due = 0;
	/*
	 * what the cycle wrote itself woke the watch: drop that, then look
	 * at the log as it is, so that an append made while the cycle ran
	 * still wakes its waiters and gets its own cycle
	 */
	w = watch_drain(&d.watch);
	if (w & (WATCH_GONE | WATCH_DAEMON_FILES)) {
		log_info("the repository went away; stopping");
		d.stop = 1;
		return;
	}
	if (w & WATCH_LOG_CHANGED)
		projection_update(d.proj, &d.store, NULL, NULL);
	schedule_write_cycle();
	check_waiters();
}

static const char *param_str(json_object *params, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(params, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t param_int(json_object *params, const char *key, int64_t def)
{
	json_object *v;

	if (!json_object_object_get_ex(params, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

/* handle one request; 1 when the client stays (a waiter) */
static int handle(struct client *c, const char *line, size_t len)
{
	struct rpc_request req;
	const char *msg = NULL;
	int code = rpc_parse_request(line, len, &req, &msg);

	if (code) {
		rpc_send_error(c->fd, req.id, code, msg);
		rpc_request_release(&req);
		return 0;
	}
	if (!strcmp(req.method, "health")) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "status", json_object_new_string("ok"));
		json_object_object_add(o, "pid", json_object_new_int64(getpid()));
		json_object_object_add(o, "repository",
				       json_object_new_string(d.r->worktree));
		json_object_object_add(o, "cycles",
				       json_object_new_int64(d.cycles));
		json_object_object_add(o, "local_only",
				       json_object_new_boolean(d.cfg.local_only));
		json_object_object_add(o, "sync_interval",
				       json_object_new_int64(d.cfg.sync_interval));
		json_object_object_add(o, "auth_failures",
				       json_object_new_int64(d.auth_failures));
		json_object_object_add(o, "backoff_skips",
				       json_object_new_int64(d.skipped));
		rpc_send_result(c->fd, req.id, o);
	} else if (!strcmp(req.method, "sync.force")) {
		struct sync_status st = SYNC_STATUS_INIT;
		json_object *o;

		run_cycle(1);
		sync_status_read(d.r, &st);
		/* the specification's {triggered, last_sync_at, sync_state} */
		o = status_object(&st);
		json_object_object_add(o, "triggered",
				       json_object_new_boolean(1));
		rpc_send_result(c->fd, req.id, o);
		sync_status_release(&st);
	} else if (!strcmp(req.method, "sync.status")) {
		struct sync_status st = SYNC_STATUS_INIT;

		sync_status_read(d.r, &st);
		rpc_send_result(c->fd, req.id, status_object(&st));
		sync_status_release(&st);
	} else if (!strcmp(req.method, "wait")) {
		const char *agent = param_str(req.params, "agent");
		int64_t timeout = param_int(req.params, "timeout_ms", -1);
		json_object *all;

		if (!agent && !(json_object_object_get_ex(req.params, "all",
							 &all) &&
				json_object_get_boolean(all))) {
			rpc_send_error(c->fd, req.id, RPC_INVALID_PARAMS,
				       "wait needs 'agent' or 'all'");
			rpc_request_release(&req);
			return 0;
		}
		c->waiting = 1;
		c->id = json_object_get(req.id);
		c->agent = xstrdup_or_null(agent);
		c->role = xstrdup_or_null(param_str(req.params, "role"));
		c->all = json_object_object_get_ex(req.params, "all", &all) &&
			 json_object_get_boolean(all);
		c->after = param_int(req.params, "after_seq", 0);
		c->deadline = timeout < 0 ? -1 : now_ms() + timeout;
		rpc_request_release(&req);
		projection_update(d.proj, &d.store, NULL, NULL);
		return !try_answer(c, 0);
	} else {
		rpc_send_error(c->fd, req.id, RPC_METHOD_NOT_FOUND,
			       "no such method");
	}
	rpc_request_release(&req);
	return 0;
}

/* read what a client sent; 0 to keep it, -1 to close it */
static int client_input(struct client *c)
{
	char buf[4096];
	ssize_t n = read(c->fd, buf, sizeof(buf));
	char *nl;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0 || c->waiting)
		return -1;	/* a waiter that says more is done */
	if (strbuf_add(&c->in, buf, n) < 0) {
		rpc_send_error(c->fd, NULL, RPC_INVALID_REQUEST,
			       "request too long");
		return -1;
	}
	nl = memchr(c->in.buf, '\n', c->in.len);
	if (!nl)
		return 0;
	return handle(c, c->in.buf, nl - c->in.buf) ? 0 : -1;
}

static void accept_client(void)
{
	int fd = accept4(d.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	struct client *c;

	if (fd < 0)
		return;
	if (d.nr_clients == MAX_CLIENTS) {
		rpc_send_error(fd, NULL, RPC_INTERNAL_ERROR, "too many clients");
		close(fd);
		return;
	}
	c = &d.clients[d.nr_clients++];
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	strbuf_init(&c->in, 0);
	c->in.max = RPC_MAX_REQUEST;
	c->deadline = -1;
}

/* --- start, stop, the loop --- */

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	/* a full pipe means a stop is pending anyway */
	if (write(d.sig_pipe[1], &c, 1) < 0)
		errno = saved;
	errno = saved;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd;

	if (rpc_check_path(path) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return error_errno("cannot create a socket");
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0) {
		umask(old);
		close(fd);
		return error_errno("cannot listen on '%s'", path);
	}
	umask(old);
	chmod(path, 0600);
	return fd;
}

static int take_pid_lock(const struct repo *r, unsigned flags)
{
	char *path = pid_path(r);
	struct strbuf sb = STRBUF_INIT;
	int fd = xopen(path, O_RDWR | O_CREAT, 0644);
	int tries = 0;

	/* a client probing the lock holds it for an instant: retry a bit */
	while (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && ++tries < 50) {
		struct timespec ts = { 0, 2 * 1000000L };

		nanosleep(&ts, NULL);
	}
	if (fd < 0) {
		error_errno("cannot open '%s'", path);
	} else if (tries == 50) {
		close(fd);
		fd = -1;
		error("a daemon is running already for '%s'", r->worktree);
	} else {
		strbuf_addf(&sb, "%ld\n", (long)getpid());
		if (flags & DAEMON_LOCAL_ONLY)
			strbuf_addstr(&sb, "local-only\n");
		if (ftruncate(fd, 0) < 0 ||
		    write_in_full(fd, sb.buf, sb.len) < 0)
			warning("cannot write '%s'", path);
	}
	strbuf_release(&sb);
	free(path);
	return fd;
}

int daemon_run(const struct repo *r, unsigned flags)
{
	char *sock = daemon_socket_path(r);
	struct sigaction sa;
	int i, ret = 1;

	memset(&d, 0, sizeof(d));
	d.r = r;
	d.flags = flags;
	d.listen_fd = d.pid_fd = -1;
	d.sig_pipe[0] = d.sig_pipe[1] = -1;
	set_error_routine(log_report);
	set_warning_routine(log_report);
	if ((d.pid_fd = take_pid_lock(r, flags)) < 0)
		goto out;
	if (config_load(&d.cfg, r) < 0 || pipe2(d.sig_pipe, O_CLOEXEC |
						 O_NONBLOCK) < 0)
		goto out;
	apply_flags();
	store_init(&d.store, r);
	/* listen first: replacing a stale socket must not look like a stop */
	if (projection_open(&d.proj, r->var_dir) < 0 ||
	    (d.listen_fd = listen_on(sock)) < 0 ||
	    watch_open(&d.watch, r) < 0)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	log_info("daemon started for %s (sync every %lds%s)", r->worktree,
		 d.cfg.sync_interval,
		 flags & DAEMON_LOCAL_ONLY ? ", local only" : "");
	projection_update(d.proj, &d.store, NULL, NULL);
	run_cycle(0);

	while (!d.stop) {
		struct pollfd pfd[3 + MAX_CLIENTS];
		int64_t now = now_ms(), wake = d.next_tick;
		int n = 0, nc = d.nr_clients, timeout;

		if (d.write_due && d.write_due < wake)
			wake = d.write_due;
		for (i = 0; i < d.nr_clients; i++)
			if (d.clients[i].waiting && d.clients[i].deadline >= 0 &&
			    d.clients[i].deadline < wake)
				wake = d.clients[i].deadline;
		timeout = wake <= now ? 0 : (int)(wake - now);
		pfd[n].fd = d.sig_pipe[0];
		pfd[n++].events = POLLIN;
		pfd[n].fd = d.watch.fd;
		pfd[n++].events = POLLIN;
		pfd[n].fd = d.listen_fd;
		pfd[n++].events = POLLIN;
		for (i = 0; i < nc; i++) {
			pfd[n].fd = d.clients[i].fd;
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, n, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents) {
			log_info("stopping on a signal");
			d.stop = 1;
			break;
		}
		if (pfd[1].revents) {
			int w = watch_drain(&d.watch);

			if (w & (WATCH_GONE | WATCH_DAEMON_FILES)) {
				log_info("the repository went away; stopping");
				d.stop = 1;
				break;
			}
			if (w & WATCH_LOG_CHANGED) {
				projection_update(d.proj, &d.store, NULL, NULL);
				check_waiters();
				schedule_write_cycle();
			}
		}
		/* clients, last to first, as closing moves the last one */
		for (i = nc - 1; i >= 0; i--)
			if (pfd[3 + i].revents &&
			    client_input(&d.clients[i]) < 0)
				client_close(&d.clients[i]);
		if (pfd[2].revents)
			accept_client();
		if (now_ms() >= d.next_tick ||
		    (d.write_due && now_ms() >= d.write_due))
			run_cycle(0);
		else
			check_waiters();
	}
	ret = 0;
out:
	while (d.nr_clients)
		client_close(&d.clients[0]);
	if (d.listen_fd >= 0) {
		close(d.listen_fd);
		unlink(sock);
	}
	watch_close(&d.watch);
	projection_free(d.proj);
	if (d.store.sync_dir)
		store_release(&d.store);
	config_release(&d.cfg);
	for (i = 0; i < 2; i++)
		if (d.sig_pipe[i] >= 0)
			close(d.sig_pipe[i]);
	log_info("daemon stopped");
	/* last: whoever waits for the lock finds everything done */
	if (d.pid_fd >= 0) {
		char *path = pid_path(r);

		unlink(path);
		free(path);
		close(d.pid_fd);
	}
	free(sock);
	return ret;
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

int daemon_start_flags(const struct repo *r, unsigned flags, long *pid)
{
	char *log = path_join(r->var_dir, "daemon.log");
	char *sock = daemon_socket_path(r);
	char self[PATH_MAX];
	ssize_t n;
	pid_t child;
	int i, ret = -1;

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
	/* a bounded wait until it listens (it binds after taking the lock) */
	for (i = 0; i < 1000; i++) {
		struct timespec ts = { 0, 10 * 1000000L };

		if (!access(sock, F_OK) && daemon_running(r, pid)) {
			ret = 0;
			goto out;
		}
		nanosleep(&ts, NULL);
	}
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

int daemon_stop(const struct repo *r)
{
	long pid = 0;
	int i;

	if (!daemon_running(r, &pid))
		return THRUM_ENOTFOUND;
	if (pid <= 0 || kill((pid_t)pid, SIGTERM) < 0)
		return error_errno("cannot signal the daemon (pid %ld)", pid);
	/*
	 * It finishes the cycle in progress first: allow for a slow one.
	 * Done is: the lock released and the process gone (or a zombie
	 * nobody has reaped yet).
	 */
	for (i = 0; i < 3000; i++) {
		struct timespec ts = { 0, 10 * 1000000L };
		long again = 0;

		if (!daemon_running(r, &again) && process_gone((pid_t)pid))
			return 0;
		nanosleep(&ts, NULL);
	}
	return error("the daemon (pid %ld) did not stop within 30s", pid);
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

int daemon_keep_alive(const struct repo *r, const struct thrum_config *cfg)
{
	char *path;
	long pid = 0;
	int stopped;

	if (!cfg->daemon || cfg->local_only || getenv("THRUM_TEST_NO_DAEMON"))
		return 0;
	path = stopped_path(r);
	stopped = !access(path, F_OK);
	free(path);
	if (stopped || daemon_running(r, &pid))
		return 0;
	/* quietly: the command the user typed is what they want to see */
	return daemon_start(r, &pid) < 0 ? -1 : 1;
}

/*
 * daemon.c: the per-repository daemon, the server side (the client side,
 * finding, starting and stopping it, is daemon-client.c).
 *
 * One process, one poll() loop, no threads.  It owns:
 *  - var/thrum.pid, flock()ed for the process's lifetime: whoever holds
 *    the lock is the daemon; a pid file nobody locks is stale;
 *  - var/thrum.sock (0600), where clients send one JSON-RPC request per
 *    line and get one response per line: the table methods[] maps each
 *    method to its function;
 *  - the sync loop: a cycle at start, then every thrum.syncInterval
 *    seconds (`sync.force` runs one at once); now and then
 *    `git gc --auto`.  After the remote said no to our credentials it
 *    does not knock again every cycle: it backs off (1 min, doubling, at
 *    most 1 h) until a cycle succeeds, `sync.force` asks, or another
 *    command's cycle (`git thrum sync force`) ended otherwise;
 *  - the peers' UDP socket (daemon-peers.c): a good nudge asks for a
 *    cycle now, and a cycle that pushed nudges every pair;
 *  - waiters: `wait` requests held open until a message for the caller
 *    is projected (inotify on the log sees local appends at once; sync
 *    cycles bring the rest) or their timeout passes.
 * It never dies on a bad event, a bad client or a failed fetch: it logs
 * and goes on.  A cycle runs in a child process the loop polls, so that
 * the socket and the waiters are served while a fetch hangs (the cycles
 * are daemon-cycle.c's).  SIGTERM
 * ends it at once, the running cycle and its git too, removing the
 * socket and pid file; so does the deletion of its repository.
 */
#include "thrum.h"
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "daemon.h"
#include "daemon-internal.h"
#include "clock.h"
#include "config.h"
#include "date.h"
#include "format.h"
#include "gitx.h"
#include "lockfile.h"
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

struct daemon_state d;

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

PRINTF_LIKE(1, 2) void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_report("", fmt, ap);
	va_end(ap);
}

/* --- clients --- */

void client_close(struct client *c)
{
	close(c->fd);
	strbuf_release(&c->in);
	json_object_put(c->id);
	free(c->agent);
	free(c->role);
	*c = d.clients[--d.nr_clients];
}

/*
 * Answers are what the commands print with --json (format.c), printed
 * to memory and parsed back: printed_open(), print to p.f unless NULL,
 * printed_object() (an empty object when nothing could be printed).
 */
struct printed {
	char *text;
	size_t len;
	FILE *f;
};

static FILE *printed_open(struct printed *p)
{
	p->text = NULL;
	p->len = 0;
	return p->f = open_memstream(&p->text, &p->len);
}

static json_object *printed_object(struct printed *p)
{
	json_object *o = NULL;

	if (p->f) {
		fclose(p->f);
		o = json_tokener_parse(p->text);
	}
	free(p->text);
	return o ? o : json_object_new_object();
}

static json_object *messages_object(const struct message_list *l)
{
	struct printed p;

	if (printed_open(&p))
		format_messages_json(l, p.f);
	return printed_object(&p);
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

void check_waiters(void)
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

/* the sync status as this daemon sees it */
json_object *status_object(const struct sync_status *st)
{
	struct sync_status mine = *st;
	struct printed p;

	mine.daemon_pid = getpid();
	mine.running = sync_running(d.r);
	mine.remote = d.cfg.remote;	/* borrowed: the one it uses */
	if (printed_open(&p))
		format_sync_status_json(&mine, d.cfg.local_only, p.f);
	return printed_object(&p);
}

/*
 * The methods.  Each answers req on c->fd (its id, params and method are
 * borrowed) and returns 1 when the client stays open (a waiter), else 0.
 */
static int method_health(struct client *c, struct rpc_request *req)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "repository",
			       json_object_new_string(d.r->worktree));
	json_object_object_add(o, "cycles", json_object_new_int64(d.cycles));
	json_object_object_add(o, "local_only",
			       json_object_new_boolean(d.cfg.local_only));
	json_object_object_add(o, "sync_interval",
			       json_object_new_int64(d.cfg.sync_interval));
	json_object_object_add(o, "auth_failures",
			       json_object_new_int64(d.auth_failures));
	json_object_object_add(o, "backoff_skips",
			       json_object_new_int64(d.skipped));
	json_object_object_add(o, "push_attempts",
			       json_object_new_int64((int64_t)d.push_attempts));
	json_object_object_add(o, "push_rejections",
			       json_object_new_int64((int64_t)d.push_rejections));
	json_object_object_add(o, "push_give_ups",
			       json_object_new_int64((int64_t)d.push_give_ups));
	json_object_object_add(o, "async_rejections",
			       json_object_new_int64((int64_t)d.async_rejections));
	rpc_send_result(c->fd, req->id, o);
	return 0;
}

/*
 * Answered when the cycle it asks for ends (answer_forced()): the next
 * one to start, which the loop starts at once unless one runs already.
 */
static int method_sync_force(struct client *c, struct rpc_request *req)
{
	c->id = json_object_get(req->id);
	c->force_after = d.started + 1;
	d.force_pending = 1;
	return 1;
}

static int method_sync_status(struct client *c, struct rpc_request *req)
{
	struct sync_status st = SYNC_STATUS_INIT;

	sync_status_read(d.r, &st);
	rpc_send_result(c->fd, req->id, status_object(&st));
	sync_status_release(&st);
	return 0;
}

/* held open until a message for the caller is projected or it times out */
static int method_wait(struct client *c, struct rpc_request *req)
{
	const char *agent = rpc_param_string(req->params, "agent");
	int64_t timeout = rpc_param_int(req->params, "timeout_ms", -1);
	json_object *all;

	c->all = json_object_object_get_ex(req->params, "all", &all) &&
		 json_object_get_boolean(all);
	if (!agent && !c->all) {
		rpc_send_error(c->fd, req->id, RPC_INVALID_PARAMS,
			       "wait needs 'agent' or 'all'");
		return 0;
	}
	c->waiting = 1;
	c->id = json_object_get(req->id);
	c->agent = xstrdup_or_null(agent);
	c->role = xstrdup_or_null(rpc_param_string(req->params, "role"));
	c->after = rpc_param_int(req->params, "after_seq", 0);
	c->deadline = timeout < 0 ? -1 : now_ms() + timeout;
	projection_update(d.proj, &d.store, NULL, NULL);
	return !try_answer(c, 0);
}

/* what the peers' socket counted; the pairs and thrum.peerListen reread */
static int method_peers_status(struct client *c, struct rpc_request *req)
{
	struct thrum_config fresh = THRUM_CONFIG_INIT;
	struct printed p;

	if (!config_load(&fresh, d.r)) {
		config_release(&d.cfg);
		d.cfg = fresh;
		apply_flags();
	} else {
		config_release(&fresh);
	}
	daemon_peers_refresh(&d.peers, &d.cfg);
	if (printed_open(&p))
		daemon_peers_print(&d.peers, p.f);
	rpc_send_result(c->fd, req->id, printed_object(&p));
	return 0;
}

static const struct method {
	const char *name;
	int (*fn)(struct client *c, struct rpc_request *req);
} methods[] = {
	{ "health", method_health },
	{ "peers.status", method_peers_status },
	{ "sync.force", method_sync_force },
	{ "sync.status", method_sync_status },
	{ "wait", method_wait },
};

/* handle one request; 1 when the client stays (a waiter) */
static int handle(struct client *c, const char *line, size_t len)
{
	struct rpc_request req;
	const char *msg = NULL;
	int code = rpc_parse_request(line, len, &req, &msg), stays = 0;
	size_t i;

	if (code) {
		rpc_send_error(c->fd, req.id, code, msg);
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(methods); i++)
		if (!strcmp(req.method, methods[i].name))
			break;
	if (i < ARRAY_SIZE(methods))
		stays = methods[i].fn(c, &req);
	else
		rpc_send_error(c->fd, req.id, RPC_METHOD_NOT_FOUND,
			       "no such method");
out:
	rpc_request_release(&req);
	return stays;
}

/* read what a client sent; 0 to keep it, -1 to close it */
static int client_input(struct client *c)
{
	char buf[4096];
	ssize_t n = read(c->fd, buf, sizeof(buf));
	char *nl;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0 || c->waiting || c->force_after)
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
	char *path = daemon_pid_path(r);
	struct strbuf sb = STRBUF_INIT;
	int fd = -1, ret = lock_take(path, LOCK_EX, PID_LOCK_WAIT_MS, 0644, &fd);

	if (ret == THRUM_EBUSY) {
		error("a daemon is running already for '%s'", r->worktree);
	} else if (!ret) {
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
	d.listen_fd = d.pid_fd = d.cycle_fd = -1;
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
	daemon_peers_open(&d.peers, r, &d.cfg);
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
	d.next_tick = first_tick_ms();

	while (!d.stop) {
		struct pollfd pfd[5 + MAX_CLIENTS];
		int64_t now = now_ms(), wake = now + 3600 * 1000;
		int n = 0, nc = d.nr_clients, timeout, peers_at;

		/* while a cycle runs, only its end can start the next one */
		if (!d.cycle_pid) {
			wake = d.force_pending ? now : d.next_tick;
			if (d.write_due && d.write_due < wake)
				wake = d.write_due;
		}
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
		pfd[n].fd = d.cycle_pid ? d.cycle_fd : -1;
		pfd[n++].events = POLLIN;
		for (i = 0; i < nc; i++) {
			pfd[n].fd = d.clients[i].fd;
			pfd[n++].events = POLLIN;
		}
		peers_at = n;
		pfd[n].fd = daemon_peers_fd(&d.peers);	/* -1: ignored */
		pfd[n++].events = POLLIN;
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
			/*
			 * files renamed into place while a cycle runs are
			 * its merge's: the projection follows when it ends
			 * (cycle_finished()), not file by file as they come
			 */
			if ((w & WATCH_LOG_CHANGED) ||
			    ((w & WATCH_LOG_REPLACED) && !d.cycle_pid)) {
				projection_update(d.proj, &d.store, NULL, NULL);
				check_waiters();
				schedule_write_cycle();
			}
		}
		/* clients, last to first, as closing moves the last one */
		for (i = nc - 1; i >= 0; i--)
			if (pfd[4 + i].revents &&
			    client_input(&d.clients[i]) < 0)
				client_close(&d.clients[i]);
		if (pfd[2].revents)
			accept_client();
		/* a nudge: a-sync moved on the remote; fetch now */
		if (pfd[peers_at].revents &&
		    daemon_peers_input(&d.peers, &d.cfg))
			nudged();
		if (pfd[3].revents) {
			struct cycle_result res;

			cycle_reap(&res);
			cycle_finished(&res);
			if (d.stop)
				break;
		}
		if (!d.cycle_pid &&
		    (d.force_pending || now_ms() >= d.next_tick ||
		     (d.write_due && now_ms() >= d.write_due)))
			cycle_start(d.force_pending);
		else
			check_waiters();
	}
	ret = 0;
out:
	cycle_abort();
	while (d.nr_clients)
		client_close(&d.clients[0]);
	if (d.listen_fd >= 0) {
		close(d.listen_fd);
		unlink(sock);
	}
	daemon_peers_release(&d.peers);
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
		char *path = daemon_pid_path(r);

		unlink(path);
		free(path);
		lock_release(d.pid_fd);
	}
	free(sock);
	return ret;
}

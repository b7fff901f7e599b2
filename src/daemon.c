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
 * the socket and the waiters are served while a fetch hangs.  SIGTERM
 * ends it at once, the running cycle and its git too, removing the
 * socket and pid file; so does the deletion of its repository.
 */
#include "thrum.h"
#include <malloc.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "daemon.h"
#include "daemon-peers.h"
#include "blob-cache.h"
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

#define MAX_CLIENTS 64
#define GC_EVERY 20		/* cycles between two `git gc --auto` */
#define AUTH_BACKOFF_MIN 60	/* seconds, doubled after each failure */
#define AUTH_BACKOFF_MAX 3600
/* a client probing the pid lock holds it for an instant: wait that out */
#define PID_LOCK_WAIT_MS 100

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
	unsigned force_after;	/* sync.force: answer when cycle #n ends */
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
	struct daemon_peers peers;	/* nudges (daemon-peers.c) */
	pid_t cycle_pid;	/* the cycle running now (a child); 0: none */
	int cycle_fd;		/* its report, polled */
	unsigned started;	/* cycles started */
	int force_pending;	/* a sync.force waits for the next cycle */
	int nudge_pending;	/* a peer's nudge came during a cycle */
} d;

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

/* the sync status as this daemon sees it */
static json_object *status_object(const struct sync_status *st)
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

/*
 * The cycle runs in a child process, so that the loop goes on serving
 * its socket and its waiters while a fetch hangs: cycle_start() forks
 * it, the child runs sync_cycle() and writes a struct cycle_result to a
 * pipe the loop polls, and cycle_finished() takes it from there.  One
 * cycle at a time: none starts while d.cycle_pid is set.  The child has
 * its own store (a lock fd shared across fork would be one lock for
 * both) and lets the cycle open its own projection (an SQLite handle
 * must not cross a fork); the loop catches its projection up after.
 */
struct cycle_result {
	int ret;		/* sync_cycle()'s */
	int state;		/* enum sync_state */
	int pushed;		/* it pushed: the remote's a-sync moved */
};

/* `daemon stop` waits this long for a cycle it ended, then kills it */
#define CYCLE_STOP_MS 500

static void cycle_child_on_signal(int sig)
{
	/* the git that hangs ends now; the cycle ends without starting more */
	run_command_stop(SIGTERM);
}

static void cycle_child_signals(const sigset_t *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cycle_child_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigprocmask(SIG_SETMASK, old, NULL);
}

/*
 * In the child: the socket, its clients, the signal pipe and the watch
 * are the loop's (a client must see its answer end when the loop closes
 * it, not when a cycle ends), and so is the pid lock: closed, never
 * unlocked (one lock for both), so that it goes with the loop
 */
static void close_loop_fds(void)
{
	int i;

	close(d.pid_fd);
	close(d.listen_fd);
	close(d.sig_pipe[0]);
	close(d.sig_pipe[1]);
	close(d.watch.fd);
	for (i = 0; i < d.nr_clients; i++)
		close(d.clients[i].fd);
}

/* the child: what the loop owns is not ours; run the cycle, report, exit */
NORETURN static void cycle_child(int fd, pid_t loop, const sigset_t *old)
{
	struct sync_status st = SYNC_STATUS_INIT;
	struct cycle_result res = { 0, 0, 0 };
	struct store store = STORE_INIT;

	/* a loop killed outright (-9) stops its cycle as `daemon stop` does */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	cycle_child_signals(old);
	if (getppid() != loop)
		cycle_child_on_signal(SIGTERM);	/* it died before we asked */
	close_loop_fds();
	store_init(&store, d.r);
	res.ret = sync_cycle(d.r, &d.cfg, &store, NULL, 0, &st);
	res.state = st.state;
	res.pushed = st.pushed;
	if (res.ret < 0)
		log_info("sync cycle failed: %s",
			 st.last_error ? st.last_error : "?");
	else if (st.state != SYNC_BUSY &&
		 (st.new_events || st.pushed || st.state == SYNC_ERROR ||
		  sync_state_network_failed(st.state)))
		log_info("sync: %s, %ld new, %s%s%s", sync_state_name(st.state),
			 st.new_events, st.pushed ? "pushed" : "not pushed",
			 st.last_error ? ": " : "",
			 st.last_error ? st.last_error : "");
	sync_status_release(&st);
	store_release(&store);
	gitx_unload();
	if ((d.cycles + 1) % GC_EVERY == 0) {
		struct child_process cp = CHILD_PROCESS_INIT;

		cp.git_cmd = 1;
		cp.dir = d.r->worktree;
		cp.clean_git_env = 1;
		cp.no_stdin = 1;
		cp.no_stdout = 1;
		strvec_pushl(&cp.args, "gc", "--auto", "--quiet", NULL);
		run_command(&cp);
	}
	if (write_in_full(fd, &res, sizeof(res)) < 0)
		error_errno("cannot report the cycle");
	close(fd);
	config_release(&d.cfg);
	exit(0);
}

static void cycle_finished(const struct cycle_result *res);

/* start a cycle in the background, unless backing off (then: nothing) */
static void cycle_start(int forced)
{
	struct thrum_config fresh = THRUM_CONFIG_INIT;
	struct cycle_result failed = { -1, SYNC_ERROR, 0 };
	int fds[2];
	sigset_t block, old;
	pid_t pid, loop = getpid();

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
	d.force_pending = 0;
	/* pick up `git config thrum.*` changes between cycles */
	if (!config_load(&fresh, d.r)) {
		config_release(&d.cfg);
		d.cfg = fresh;
	} else {
		config_release(&fresh);
	}
	apply_flags();
	d.started++;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		error_errno("cannot start a cycle");
		cycle_finished(&failed);
		return;
	}
	/* a stop before the child set its handlers is the child's to see */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	fflush(NULL);
	pid = fork();
	if (!pid) {
		close(fds[0]);
		cycle_child(fds[1], loop, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	if (pid < 0) {
		error_errno("cannot start a cycle");
		close(fds[0]);
		cycle_finished(&failed);
		return;
	}
	d.cycle_pid = pid;
	d.cycle_fd = fds[0];
}

/* the child's report (a failure if it died first), and the child reaped */
static void cycle_reap(struct cycle_result *res)
{
	if (read_in_full(d.cycle_fd, res, sizeof(*res)) != sizeof(*res)) {
		res->ret = -1;
		res->state = SYNC_ERROR;
		res->pushed = 0;
		log_info("the sync cycle (pid %ld) ended without a report",
			 (long)d.cycle_pid);
	}
	close(d.cycle_fd);
	while (waitpid(d.cycle_pid, NULL, 0) < 0 && errno == EINTR)
		;
	d.cycle_pid = 0;
	d.cycle_fd = -1;
}

/* it has something to say or it died: either way, it is done */
static int cycle_done(void *arg)
{
	struct pollfd pfd = { d.cycle_fd, POLLIN, 0 };

	return poll(&pfd, 1, 0) > 0;
}

/*
 * Stopping: end the running cycle at once (its child ends the git it
 * runs and starts no other), and kill it if it takes longer than
 * CYCLE_STOP_MS; nothing of it is left running.
 */
static void cycle_abort(void)
{
	struct cycle_result res;

	if (!d.cycle_pid)
		return;
	kill(d.cycle_pid, SIGTERM);
	if (!poll_until(cycle_done, NULL, CYCLE_STOP_MS, 5)) {
		log_info("the sync cycle (pid %ld) did not stop; killing it",
			 (long)d.cycle_pid);
		kill(d.cycle_pid, SIGKILL);
	}
	cycle_reap(&res);
}

/* answer the sync.force requests that waited for the cycle just ended */
static void answer_forced(void)
{
	struct sync_status st = SYNC_STATUS_INIT;
	int i, have_status = 0;

	for (i = 0; i < d.nr_clients; i++) {
		struct client *c = &d.clients[i];
		json_object *o;

		if (!c->force_after || c->force_after > d.started)
			continue;
		if (!have_status++)
			sync_status_read(d.r, &st);
		/* the specification's {triggered, last_sync_at, sync_state} */
		o = status_object(&st);
		json_object_object_add(o, "triggered",
				       json_object_new_boolean(1));
		rpc_send_result(c->fd, c->id, o);
		client_close(c);
		i--;
	}
	sync_status_release(&st);
}

/*
 * A cycle ended (or could not start): the auth back-off, the next tick,
 * the projection caught up, the appends made meanwhile scheduled, the
 * callers answered.  Everything that must follow a cycle goes here.
 */
/* a good nudge: a cycle now, or right after the one running */
static void nudged(void)
{
	if (d.cycle_pid)
		d.nudge_pending = 1;
	else
		d.write_due = now_ms();
}

/* after a cycle that pushed, the peers hear that a-sync moved */
static void peers_after_cycle(const struct cycle_result *res)
{
	struct sync_status st = SYNC_STATUS_INIT;

	if (sync_status_read(d.r, &st) < 0)
		st.state = res->state;
	st.pushed = res->pushed;
	daemon_peers_cycle_ended(&d.peers, &d.cfg, &st);
	sync_status_release(&st);
}

static void cycle_finished(const struct cycle_result *res)
{
	int w;

	if (res->state == SYNC_AUTH) {
		struct sync_status st = SYNC_STATUS_INIT;

		d.auth_failures++;
		if (sync_status_read(d.r, &st) < 0)
			st.state = SYNC_AUTH;
		back_off(&st);
		sync_status_release(&st);
	} else if (res->state != SYNC_BUSY) {
		d.auth_failures = 0;
		d.retry_at = 0;
	}
	/* an idle daemon keeps neither libgit2 nor freed memory */
	gitx_unload();
	malloc_trim(0);
	d.cycles++;
	d.next_tick = now_ms() + d.cfg.sync_interval * 1000;
	d.write_due = 0;
	/* the remote moved after this cycle fetched: fetch again */
	if (d.nudge_pending)
		d.write_due = now_ms();
	d.nudge_pending = 0;
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
	/* the cycle's child merged without a projection: project it here */
	projection_update(d.proj, &d.store, NULL, NULL);
	peers_after_cycle(res);
	schedule_write_cycle();
	answer_forced();
	check_waiters();
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
	cycle_start(0);

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
			if (w & WATCH_LOG_CHANGED) {
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

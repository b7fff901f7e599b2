/*
 * daemon-cycle.c: the daemon's sync cycles.  A cycle runs in a child
 * process (fork; one at a time) whose report the loop of daemon.c polls,
 * so that the socket and the waiters are served while a fetch hangs; the
 * auth back-off, sync on write (thrum.writeDelay), sync.force answered
 * when its own cycle ends, and what follows a cycle, in cycle_finished().
 */
#include "thrum.h"
#include <malloc.h>
#include <poll.h>
#include <sys/prctl.h>
#include "daemon.h"
#include "daemon-internal.h"
#include "blob-cache.h"
#include "clock.h"
#include "date.h"
#include "gitx.h"
#include "projection.h"
#include "repo.h"
#include "rpc.h"
#include "run-command.h"
#include "sync.h"
#include "usage.h"
#include "work-context.h"
#include "wrapper.h"

/* what the command line says beats git config: start --local */
void apply_flags(void)
{
	if (d.flags & DAEMON_LOCAL_ONLY)
		d.cfg.local_only = 1;
}

/*
 * The ticks are jittered: each interval is thrum.syncInterval drawn at
 * random within +-TICK_JITTER_PCT %, and the first tick comes after a
 * random delay below FIRST_TICK_MAX_MS (and half the interval), so that
 * daemons started together (a script, a reboot) spread out over the
 * interval instead of colliding on the remote at every tick.
 */
#define TICK_JITTER_PCT 20
#define FIRST_TICK_MAX_MS 1000

int64_t next_tick_ms(void)
{
	int64_t ms = (int64_t)d.cfg.sync_interval * 1000;
	long spread = (long)(ms * TICK_JITTER_PCT / 100);

	return now_ms() + ms - spread + sync_random_below(2 * spread + 1);
}

int64_t first_tick_ms(void)
{
	int64_t half = (int64_t)d.cfg.sync_interval * 1000 / 2;

	return now_ms() + sync_random_below(half < FIRST_TICK_MAX_MS ?
					    (long)half : FIRST_TICK_MAX_MS);
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
void schedule_write_cycle(void)
{
	if (d.write_due || d.cfg.local_only || d.cfg.write_delay < 0 ||
	    !sync_worktree_changed(d.r, &d.store))
		return;
	d.write_due = now_ms() + d.cfg.write_delay + d.write_hold;
	d.write_push_only = 1;
	/* the tick comes first anyway: one cycle, not two */
	if (d.write_due > d.next_tick)
		d.write_due = 0;
}

/*
 * Coalescing under contention: while this clone's pushes are rejected
 * (other clones push the same branch), the appends wait longer before
 * their cycle, so that each push carries more of them and the remote
 * sees fewer pushes.  The hold doubles after a cycle with a rejected
 * push, from WRITE_HOLD_MIN_MS to half the interval, and halves after
 * one that pushed at once.
 */
#define WRITE_HOLD_MIN_MS 100

/* two cycles with work this close make the daemon busy (libgit2 stays) */
#define BUSY_MS 10000

static void adapt_write_hold(const struct cycle_result *res)
{
	int64_t most = (int64_t)d.cfg.sync_interval * 1000 / 2;

	if (res->push_rejections) {
		d.write_hold = d.write_hold ? d.write_hold * 2
				: WRITE_HOLD_MIN_MS;
		if (d.write_hold > most)
			d.write_hold = most;
	} else if (res->pushed) {
		d.write_hold /= 2;
		if (d.write_hold < WRITE_HOLD_MIN_MS)
			d.write_hold = 0;
	}
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
	if (daemon_peers_fd(&d.peers) >= 0)
		close(daemon_peers_fd(&d.peers));
	/*
	 * The loop's log lock: one open file description for both, so a
	 * shared lock the loop holds (or held when it was killed) would be
	 * the child's too, and the child's own exclusive lock would wait on
	 * it forever.  Closed, never unlocked: the loop's lock stays.
	 */
	if (d.store.lock_fd >= 0)
		close(d.store.lock_fd);
	d.store.lock_fd = -1;
}

/*
 * The work contexts of the agents with an open session in this
 * repository's work trees, appended before the cycle commits (at most
 * once a minute: work-context.h); a failure is logged, never fatal.
 */
static void publish_work_contexts(struct store *store)
{
	char *origin = store_origin_id(store);

	if (origin && work_context_publish_all(d.r, store, origin) < 0)
		log_info("cannot publish the work contexts");
	free(origin);
}

/* the child: what the loop owns is not ours; run the cycle, report, exit */
NORETURN static void cycle_child(int fd, pid_t loop, const sigset_t *old)
{
	struct sync_status st = SYNC_STATUS_INIT;
	struct cycle_result res = { 0 };
	struct store store = STORE_INIT;

	/* a loop killed outright (-9) stops its cycle as `daemon stop` does */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	cycle_child_signals(old);
	if (getppid() != loop)
		cycle_child_on_signal(SIGTERM);	/* it died before we asked */
	close_loop_fds();
	store_init(&store, d.r);
	publish_work_contexts(&store);
	res.ret = sync_cycle(d.r, &d.cfg, &store, NULL, SYNC_BACKGROUND |
			     (d.cycle_push_only ? SYNC_PUSH_ONLY : 0), &st);
	res.state = st.state;
	res.pushed = st.pushed;
	res.push_attempts = st.push_attempts;
	res.push_rejections = st.push_rejections;
	res.async_rejections = st.async_rejections;
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
	res.active = gitx_loaded();
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

/* start a cycle in the background, unless backing off (then: nothing) */
void cycle_start(int forced)
{
	struct thrum_config fresh = THRUM_CONFIG_INIT;
	struct cycle_result failed = { .ret = -1, .state = SYNC_ERROR };
	int fds[2];
	sigset_t block, old;
	pid_t pid, loop = getpid();

	if (forced) {
		d.auth_failures = 0;
		d.retry_at = 0;
	} else if (backing_off()) {
		d.skipped++;
		d.write_due = 0;	/* the back-off covers local appends too */
		d.next_tick = next_tick_ms();
		check_waiters();
		return;
	}
	/*
	 * a cycle for local appends alone, before the tick: with clone refs
	 * it pushes them without a fetch (SYNC_PUSH_ONLY), and the tick
	 * keeps its time, so that however often this clone writes, it
	 * still fetches every interval
	 */
	d.cycle_push_only = !forced && d.write_push_only && d.write_due &&
			    now_ms() >= d.write_due && now_ms() < d.next_tick;
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
	if (d.busy && !gitx_loaded() && gitx_preload() < 0)
		gitx_unload();	/* the cycle will say why */
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
void cycle_reap(struct cycle_result *res)
{
	if (read_in_full(d.cycle_fd, res, sizeof(*res)) != sizeof(*res)) {
		memset(res, 0, sizeof(*res));
		res->ret = -1;
		res->state = SYNC_ERROR;
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
void cycle_abort(void)
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
void nudged(void)
{
	if (d.cycle_pid) {
		d.nudge_pending = 1;
	} else {
		d.write_due = now_ms();
		d.write_push_only = 0;	/* the remote moved: fetch */
	}
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

void cycle_finished(const struct cycle_result *res)
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
	/*
	 * An idle daemon keeps neither libgit2 nor freed memory.  A busy
	 * one (two cycles with work within BUSY_MS) keeps libgit2 loaded,
	 * so that each cycle it forks does not load it again (with its TLS
	 * library's certificates: a third of a receiving cycle's time).
	 */
	if (res->active) {
		d.busy = now_ms() - d.active_at < BUSY_MS;
		d.active_at = now_ms();
	} else {
		d.busy = 0;
	}
	if (!d.busy) {
		gitx_unload();
		malloc_trim(0);
	}
	d.cycles++;
	d.push_attempts += res->push_attempts;
	d.push_rejections += res->push_rejections;
	d.async_rejections += res->async_rejections;
	if (res->state == SYNC_REJECTED)
		d.push_give_ups++;
	adapt_write_hold(res);
	if (!d.cycle_push_only)
		d.next_tick = next_tick_ms();
	d.cycle_push_only = 0;
	d.write_due = 0;
	d.write_push_only = 0;
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


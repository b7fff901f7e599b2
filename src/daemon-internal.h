#ifndef THRUM_DAEMON_INTERNAL_H
#define THRUM_DAEMON_INTERNAL_H

/*
 * What the files of the daemon's server share (daemon.c: the loop, the
 * clients and the methods; daemon-cycle.c: the sync cycles, run in a
 * child the loop polls).  Not for anyone else: commands use daemon.h.
 */
#include <json-c/json.h>
#include "config.h"
#include "daemon-peers.h"
#include "store.h"
#include "strbuf.h"
#include "watch.h"

struct projection;
struct repo;
struct sync_status;

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

struct daemon_state {
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
	int write_push_only;	/* write_due is for appends only (no nudge) */
	int cycle_push_only;	/* the cycle running was started for them */
	int64_t write_hold;	/* ms added to thrum.writeDelay: contention */
	struct daemon_peers peers;	/* nudges (daemon-peers.c) */
	pid_t cycle_pid;	/* the cycle running now (a child); 0: none */
	int cycle_fd;		/* its report, polled */
	unsigned started;	/* cycles started */
	int force_pending;	/* a sync.force waits for the next cycle */
	int nudge_pending;	/* a peer's nudge came during a cycle */
	/* since the start: pushes tried, rejected, cycles that gave up */
	unsigned long push_attempts;
	unsigned long push_rejections;
	unsigned long push_give_ups;
	unsigned long async_rejections;	/* a-sync beside our clone ref */
	int64_t active_at;	/* ms, monotonic: the last cycle with work */
	int busy;		/* two such within BUSY_MS: keep libgit2 */
};

/* the daemon's state: one per process (daemon.c) */
extern struct daemon_state d;

struct cycle_result {
	int ret;		/* sync_cycle()'s */
	int state;		/* enum sync_state */
	int pushed;		/* it pushed: the remote's a-sync moved */
	int push_attempts;	/* pushes it tried */
	int push_rejections;	/* of those, rejected (the remote moved) */
	int async_rejections;	/* a-sync rejected beside our clone ref */
	int active;		/* it loaded libgit2: it had work to do */
};

/* daemon.c */
PRINTF_LIKE(1, 2) void log_info(const char *fmt, ...);
void client_close(struct client *c);
void check_waiters(void);
json_object *status_object(const struct sync_status *st);

/* daemon-cycle.c */
void apply_flags(void);
void schedule_write_cycle(void);
/* start a cycle in a child, unless backing off; forced: sync.force */
void cycle_start(int forced);
/* the ended child's report, and the child reaped */
void cycle_reap(struct cycle_result *res);
/* everything that follows a cycle */
void cycle_finished(const struct cycle_result *res);
/* end the running cycle now, and its git; nothing is left running */
void cycle_abort(void);
/* a good nudge: a cycle now, or right after the one running */
void nudged(void);
/* when the next tick is due (ms, monotonic): the interval, jittered */
int64_t next_tick_ms(void);
/* when the first tick is due: after a random delay */
int64_t first_tick_ms(void);

#endif

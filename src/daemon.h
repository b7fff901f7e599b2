#ifndef THRUM_DAEMON_H
#define THRUM_DAEMON_H

/*
 * The per-repository daemon (technical/architecture.adoc, "The daemon"): one
 * per repository, found through var/thrum.pid (locked while it runs) and
 * var/thrum.sock. It runs the sync cycle every thrum.syncInterval seconds and
 * once at start, answers JSON-RPC (health, sync.force, sync.status, wait,
 * peers.status), listens for peer nudges (daemon-peers.h),
 * logs to var/daemon.log and exits cleanly on SIGTERM after the cycle in
 * progress.
 *
 * Commands control it with the functions of daemon-client.c, and call it
 * with rpc_call() on daemon_socket_path(); daemon_run() (daemon.c) is the
 * daemon itself.  Returned strings are the caller's to free.
 */
struct repo;

enum daemon_flags {
	/* sync only locally whatever thrum.localOnly says (start --local) */
	DAEMON_LOCAL_ONLY = (1 << 0),
};

/* is a daemon running for r?  1 with *pid set, 0 (stale files cleaned) */
int daemon_running(const struct repo *r, long *pid);

/* 1 when a daemon runs for r and was started with DAEMON_LOCAL_ONLY */
int daemon_local_only(const struct repo *r);

/*
 * Start one in the background (re-executing this program as `git-thrum
 * daemon run`) and wait until it answers.  0; THRUM_EBUSY when one is
 * running already (*pid set); -1 after error().
 */
int daemon_start(const struct repo *r, long *pid);
/* the same with enum daemon_flags */
int daemon_start_flags(const struct repo *r, unsigned flags, long *pid);

/* ask it to stop and wait until it has (bounded); 0, THRUM_ENOTFOUND, -1 */
int daemon_stop(const struct repo *r);

/* `daemon stop` was said: commands leave the daemon stopped */
void daemon_mark_stopped(const struct repo *r);
void daemon_clear_stopped(const struct repo *r);
/* 1 when the mark is there (var/daemon.stopped), else 0 */
int daemon_marked_stopped(const struct repo *r);

/*
 * The daemon is there when sync is on: start it (in the background,
 * quietly) when sync is on, thrum.daemon is true, nobody said `daemon
 * stop`, and none runs.  1 when one was started, 0 when nothing was to
 * be done, -1 after error().
 */
struct thrum_config;
int daemon_keep_alive(const struct repo *r, const struct thrum_config *cfg);

/* var/thrum.sock, where it listens */
char *daemon_socket_path(const struct repo *r);
/* var/thrum.pid, which it holds locked */
char *daemon_pid_path(const struct repo *r);

/* the server (daemon.c): the loop, in the foreground; the exit status */
int daemon_run(const struct repo *r, unsigned flags);

#endif

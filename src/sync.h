#ifndef THRUM_SYNC_H
#define THRUM_SYNC_H

/*
 * The sync cycle (technical/architecture.adoc, "The path of one message"): one
 * code path for `sync force`, the daemon and the hooks. lock -> fetch -> merge
 * -> project -> commit -> push, retried when the push is rejected (with
 * a randomized, growing pause, within a time budget). The status
 * of the last cycle is kept in var/sync-status (an INI file, read back with
 * inih). Strings in struct sync_status are owned by it until
 * sync_status_release().
 */
struct repo;
struct store;
struct projection;
struct thrum_config;

/*
 * The state of a cycle.  The failure classes of the network (offline ..
 * rejected, and error for a remote that is not there) say what went
 * wrong; the cycle still merged and committed locally, and the events
 * wait for the next one.
 */
enum sync_state {
	SYNC_NEVER = 0,		/* no cycle has run */
	SYNC_SYNCED,		/* fetched, merged, pushed */
	SYNC_LOCAL_ONLY,	/* committed locally; thrum.localOnly */
	SYNC_OFFLINE,		/* the remote's host could not be reached */
	SYNC_BUSY,		/* another cycle, or a git fetch, holds a lock */
	SYNC_ERROR,		/* a real error, or no such remote */
	SYNC_REFUSED,		/* the host refused the connection */
	SYNC_AUTH,		/* the remote said no: credentials, ssh key */
	SYNC_TIMEOUT,		/* no answer within thrum.networkTimeout */
	SYNC_REJECTED,		/* the push was still rejected after retries */
	SYNC_STATE_MAX
};

struct sync_status {
	enum sync_state state;
	char *last_sync_at;	/* RFC 3339, whole seconds */
	char *last_error;
	long new_events;	/* projected from the remote this cycle */
	long skipped;		/* remote lines ignored: dropped (over
				 * 1 MiB) or kept but unparseable, each
				 * line, as git thrum fsck counts them */
	long skipped_entries;	/* remote tree entries ignored: other
				 * names, links, duplicates, over the cap */
	long conflicts;
	long ahead;		/* a-sync commits the remote lacks */
	long behind;
	int committed;
	int pushed;
	char *remote;		/* the remote of that cycle (thrum.remote) */
	char *remote_tip;	/* the remote's a-sync last merged or pushed */
	long duration_us;	/* how long the cycle took, fetch and push too */
	long daemon_pid;	/* the daemon's; 0: none runs, -1: one starts */
	/*
	 * After an auth failure the daemon waits before it asks the remote
	 * again: until retry_at (RFC 3339), its auth_failures-th back-off.
	 */
	char *retry_at;
	long auth_failures;
	int running;		/* not kept: a cycle holds the sync lock now */
	int push_attempts;	/* not kept: pushes this cycle tried */
	int push_rejections;	/* not kept: of those, rejected */
	int async_rejections;	/* not kept: a-sync rejected beside our
				 * clone ref (harmless: see sync-clones.c) */
};

#define SYNC_STATUS_INIT { .state = SYNC_NEVER }

enum sync_flags {
	/* merge what git already fetched; no fetch, no push (the hooks) */
	SYNC_NO_NETWORK = (1 << 0),
	/*
	 * another cycle runs: wait for it to end (a bounded wait), then run
	 * this one, instead of reporting busy (`sync force`: the user asked
	 * for a cycle that includes what they just wrote)
	 */
	SYNC_WAIT = (1 << 1),
	/*
	 * a command the user typed: when its stdin and stderr are a
	 * terminal, git and ssh may prompt there (the child gets it as the
	 * foreground job), and a fetch that takes long says so on stderr.
	 * Otherwise (the daemon, the hooks, a command run by a program)
	 * they never prompt: no terminal prompts, no askpass, no
	 * controlling terminal for ssh.
	 */
	SYNC_INTERACTIVE = (1 << 2),
	/*
	 * the daemon's cycle: with clone refs, a push of this clone's ref
	 * delivers its events, and a-sync goes along only when it can (a
	 * rejected a-sync is not tried again; technical/scaling.adoc).
	 * Without it (sync force, the hooks) the cycle also gets a-sync
	 * to hold them, retrying as without clone refs.
	 */
	SYNC_BACKGROUND = (1 << 3),
	/*
	 * the daemon's cycle for local appends (sync on write): with clone
	 * refs, it commits them and pushes this clone's ref without
	 * fetching first (only this clone writes that ref, so nothing is
	 * to be merged before; the ticks fetch); a-sync goes along, and
	 * holds them at once when the remote's has not moved since the
	 * last fetch.  A rejected push of our ref is tried again after a
	 * fetch.
	 */
	SYNC_PUSH_ONLY = (1 << 4),
};

/*
 * The cheap check at the start of a command that reads (git-thrum(1), HOOKS):
 * did refs/remotes/<remote>/a-sync move since the last cycle merged it,
 * through a git fetch that ran no hook of ours (init --no-hooks, a hooks
 * path another tool reset)?  Reads var/sync-status and one ref, nothing
 * else: 1 when it moved and the last cycle was not local-only (the caller
 * then runs a cycle with SYNC_NO_NETWORK), else 0.  *remote is that
 * cycle's remote, for the caller to compare with thrum.remote; freed by
 * the caller.
 */
int sync_remote_moved(const struct repo *r, char **remote);


/*
 * Run one cycle.  p is the projection to bring new events into; NULL has
 * the cycle open it only when there is something to merge (an idle cycle
 * never reads the database).  Returns 0 when the cycle ran (synced,
 * local-only or offline: see out->state) or was skipped as busy; -1 on a
 * real error (reported, and recorded as state error).
 */
int sync_cycle(const struct repo *r, const struct thrum_config *cfg,
	       struct store *s, struct projection *p, unsigned flags,
	       struct sync_status *out);

/* a number drawn at random in [0, n) (0 when n <= 1): for jitter */
long sync_random_below(long n);

/* the recorded status of the last cycle (SYNC_NEVER when none); 0 or -1 */
int sync_status_read(const struct repo *r, struct sync_status *out);
/* record st as the last cycle's status (the daemon adds its back-off) */
int sync_status_write(const struct repo *r, const struct sync_status *st);

void sync_status_release(struct sync_status *st);

/* 1 when a cycle holds the sync lock now, else 0 */
int sync_running(const struct repo *r);

const char *sync_state_name(enum sync_state state);

/* offline, refused, auth, timeout, rejected: the network failed */
int sync_state_network_failed(enum sync_state state);

/*
 * The specification's sync_state for st: "syncing" while a cycle runs,
 * "stopped" or "idle" (no daemon, a daemon) before any cycle, "synced",
 * "local-only", "busy", or "error" for every failure class.
 */
const char *sync_spec_state(const struct sync_status *st);

#endif

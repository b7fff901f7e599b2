#ifndef THRUM_SYNC_H
#define THRUM_SYNC_H

/*
 * The sync cycle (DESIGN §5.2): one code path for `sync force`, the
 * daemon and the hooks.  lock -> fetch -> merge -> project -> commit ->
 * push, retried when the push is rejected.  The status of the last cycle
 * is kept in var/sync-status (an INI file, read back with inih).
 * Strings in struct sync_status are owned by it until
 * sync_status_release().
 */
struct repo;
struct store;
struct projection;
struct thrum_config;

enum sync_state {
	SYNC_NEVER = 0,		/* no cycle has run */
	SYNC_SYNCED,		/* fetched, merged, pushed */
	SYNC_LOCAL_ONLY,	/* committed locally; thrum.localOnly */
	SYNC_OFFLINE,		/* the remote could not be reached */
	SYNC_BUSY,		/* another cycle holds the lock */
	SYNC_ERROR,
	SYNC_STATE_MAX
};

struct sync_status {
	enum sync_state state;
	char *last_sync_at;	/* RFC 3339, whole seconds */
	char *last_error;
	long new_events;	/* projected from the remote this cycle */
	long skipped;		/* remote entries and lines ignored */
	long conflicts;
	long ahead;		/* a-sync commits the remote lacks */
	long behind;
	int committed;
	int pushed;
	char *remote;		/* the remote of that cycle (thrum.remote) */
	char *remote_tip;	/* the remote's a-sync last merged or pushed */
	long duration_us;	/* how long the cycle took, fetch and push too */
	long daemon_pid;	/* the daemon's; 0: none runs, -1: one starts */
};

#define SYNC_STATUS_INIT { .state = SYNC_NEVER }

enum sync_flags {
	/* merge what git already fetched; no fetch, no push (the hooks) */
	SYNC_NO_NETWORK = (1 << 0),
};

/*
 * The cheap check at the start of a command that reads (DESIGN §5.4):
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

/* the recorded status of the last cycle (SYNC_NEVER when none); 0 or -1 */
int sync_status_read(const struct repo *r, struct sync_status *out);

/*
 * How many bytes of the log file rel (e.g. "messages/alice.jsonl") the
 * last commit of a-sync holds, as var/sync-cache in var_dir recorded it
 * when the cycle committed; 0 when nothing is known.  Bytes after that
 * are not committed yet.
 */
uint64_t sync_committed_size(const char *var_dir, const char *rel);
void sync_status_release(struct sync_status *st);

const char *sync_state_name(enum sync_state state);

#endif

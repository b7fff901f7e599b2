#ifndef THRUM_SYNC_INTERNAL_H
#define THRUM_SYNC_INTERNAL_H

/*
 * The steps of a sync cycle, which sync.c runs in order (fetch, merge,
 * project, commit, push; the network steps are in sync-net.h).  Shared by
 * the sync*.c files only.
 */
#include "gitx.h"

struct blob_cache;
struct gitx_repo;
struct log_changes;
struct log_file_id;
struct repo;
struct store;
struct strbuf;
struct sync_status;
struct thrum_config;

/*
 * Read a work tree file into sb (replacing it); a missing one is empty.
 * *seen (may be NULL) is the file as it was read (all 0: missing).
 */
int sync_read_file(const char *path, struct strbuf *sb,
		   struct log_file_id *seen);

/*
 * One commit to merge: the remote's a-sync, or a clone's ref (before:
 * the commit of the same ref merged last time, when have_before).
 * failed is set when it could not be read, wholly or in part: what it
 * holds is then merged again next time.
 */
struct sync_merge_tip {
	struct gitx_oid tip;
	struct gitx_oid before;
	int have_before;
	int failed;
};

/*
 * Merge the log files of tips[0..nr) (those that local_tip, may be
 * NULL, does not hold as they are, nor a tip's before) into the work
 * tree, under the log lock, each file once with every tip's version in
 * turn, one flush for all.  What it changed is added to *changes, for
 * the projection.  A merged file that came out byte for byte as a tip's
 * blob goes into *learned with that blob id, so that the commit does
 * not hash it again.  Counts go to st.  0, or -1 after error() (a tip
 * that cannot be read is marked failed, not an error).
 */
int sync_merge(struct gitx_repo *repo, struct sync_merge_tip *tips,
	       size_t nr, const struct gitx_oid *local_tip,
	       const struct thrum_config *cfg, struct store *s,
	       struct sync_status *st, struct blob_cache *learned,
	       struct log_changes *changes);

/*
 * After a-sync moved: make the sync work tree's index match it (a git
 * reset).  The cycle does it once, after its last push, not after each
 * commit: a retried push then waits for no index, and the window in
 * which another clone's push can beat ours is shorter.
 */
void sync_refresh_index(const struct repo *r);

/*
 * Appends the commit takes in: with merged (what this cycle's merge
 * changed), the commit calls appended(data) before a-sync and
 * var/sync-cache move if it finds a file changed since the last commit
 * other than by that merge: lines written after the cycle looked for
 * appends, which it must still push.  A non-zero return stops the
 * commit.
 */
struct sync_appends {
	const struct log_changes *merged;
	int (*appended)(void *data);
	void *data;
};

/*
 * Commit the work tree's log files on top of parent (may be NULL) and
 * move a-sync from local_tip (may be NULL) to the result, *tip; blob ids
 * come from var/sync-cache and learned where the files did not change.
 * The index of the sync work tree is left for sync_refresh_index().
 * 0, or -1 after error().
 */
int sync_commit(struct gitx_repo *repo, const struct repo *r,
		const struct thrum_config *cfg, struct store *s,
		const struct gitx_oid *parent, const struct gitx_oid *local_tip,
		const struct blob_cache *learned,
		const struct sync_appends *appends, struct sync_status *st,
		struct gitx_oid *tip);

/* --- clone refs (sync-clones.c) --- */

#define CLONE_ID_LEN 16		/* ours: 80 random bits in base32 */
#define CLONE_ID_MAX 64		/* the longest id read from a remote */

/* refs/thrum/clones/<id> on the remote */
#define CLONE_REF_PREFIX "refs/thrum/clones/"

struct clone_tip {
	char id[CLONE_ID_MAX + 1];
	char hex[GITX_OID_HEXSZ + 1];
};

/* sorted by id */
struct clone_tips {
	struct clone_tip *v;
	size_t nr, alloc;
};
#define CLONE_TIPS_INIT { NULL, 0, 0 }

void clone_tips_release(struct clone_tips *t);
const struct clone_tip *clone_tips_find(const struct clone_tips *t,
					const char *id);
void clone_tips_set(struct clone_tips *t, const char *id, const char *hex);

/* letters and digits, 1 to CLONE_ID_MAX of them */
int clone_id_valid(const char *id, size_t len);

/*
 * This clone's id (var/clone-id, made on first use) into out, which
 * holds CLONE_ID_LEN + 1 bytes; 0, or -1 after error().
 */
int sync_clone_id(const struct repo *r, char *out);

/* what the cycle keeps of the clone refs: var/sync-clones */
struct clone_state {
	char base[GITX_OID_HEXSZ + 1];	/* a-sync when it was written */
	int pending;			/* ours not on the remote yet */
	int64_t off_ms;			/* when the remote refused clone
					 * refs (a-sync only for a while) */
	int ahead;			/* a-sync holds more than the remote's */
	char remote_tip[GITX_OID_HEXSZ + 1];
	int64_t remote_seen_ms;		/* remote_tip since */
	struct clone_tips merged;	/* each clone's tip, as merged */
};

/* a missing or damaged file reads as pending, nothing merged */
void clone_state_read(const struct repo *r, struct clone_state *cs);
/* durable: fsynced (pending set); else a derived write; 0 or -1 */
int clone_state_write(const struct repo *r, const struct clone_state *cs,
		      int durable);
void clone_state_release(struct clone_state *cs);

/* "refs/thrum/remotes/<remote>/", for the fetch refspec; free() it */
char *clone_tracking_prefix(const char *remote);

/*
 * The tracking refs of the remote's clone refs, read from the files
 * (no libgit2); names that are no clone id are counted in *skipped.
 */
int clone_refs_list(const struct repo *r, const char *remote,
		    struct clone_tips *out, size_t *skipped);

/* did any tracking clone ref move since cs->merged?  1 or 0 */
int clone_refs_moved(const struct repo *r, const char *remote,
		     const struct clone_state *cs);

/* --- the cycle (sync.c), for its steps in sync-clones.c --- */

#include "blob-cache.h"
#include "merge.h"
#include "strbuf.h"

struct projection;

/* one cycle, carried through its steps */
struct cycle {
	const struct repo *r;
	const struct thrum_config *cfg;
	struct store *s;
	struct projection *p;		/* the caller's, or own */
	struct projection *own;		/* opened here, only to merge */
	unsigned flags;
	struct sync_status *st;
	struct gitx_repo *repo;		/* opened once something is to do */
	struct strbuf remote_ref;	/* refs/remotes/<remote>/a-sync */
	struct blob_cache learned;	/* blob ids the merge found */
	struct log_changes merged;	/* what the merge changed */
	char *err;			/* what went wrong, for the status */
	int moved;			/* a-sync moved: refresh the index */
	int track;			/* var/sync-clones is kept */
	int need_async;			/* a-sync must take ours: a command
					 * the user ran pushed events */
	int clones;			/* clone refs: fetched, merged, ours
					 * pushed (sync-clones.c) */
	int push_only;			/* this attempt did not fetch
					 * (SYNC_PUSH_ONLY) */
	char clone_id[CLONE_ID_LEN + 1];
	struct clone_state cs;
};

enum attempt_result { ATTEMPT_DONE, ATTEMPT_AGAIN, ATTEMPT_FAILED };

/* c->p, opened when the caller gave none; 0, or -1 with c->err set */
int sync_open_projection(struct cycle *c);

/*
 * merge tips (see sync_merge()) and project what they brought; what the
 * merge changed is added to *merged (the commit reads it)
 */
int sync_merge_step(struct gitx_repo *repo, struct sync_merge_tip *tips,
		    size_t nr, const struct gitx_oid *local_tip,
		    const struct thrum_config *cfg, struct store *s,
		    struct projection *p, struct sync_status *st,
		    struct blob_cache *learned, struct log_changes *merged);

/* st->remote_tip := oid */
void sync_set_remote_tip(struct sync_status *st, const struct gitx_oid *oid);

/* the wall clock in ms: what var/sync-clones keeps across restarts */
int64_t clone_wall_ms(void);

/*
 * Is it this clone's turn to push a-sync alone, to drain it (see
 * sync-clones.c)?  1 or 0.
 */
int clone_drain_due(const struct clone_state *cs, const char *id,
		    const struct thrum_config *cfg);

/* merge every clone ref that moved; 0, or -1 (the database) */
int clone_merge(struct cycle *c, const struct gitx_oid *local_tip,
		const struct gitx_oid *remote_tip);

/*
 * Push this clone's ref and a-sync as the cycle needs (see
 * sync-clones.c); ATTEMPT_AGAIN when a race was lost and a retry helps.
 */
enum attempt_result clone_push(struct cycle *c, const struct gitx_oid *tip,
			       int have_remote);

#endif

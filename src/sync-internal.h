#ifndef THRUM_SYNC_INTERNAL_H
#define THRUM_SYNC_INTERNAL_H

/*
 * The steps of a sync cycle, which sync.c runs in order (fetch, merge,
 * project, commit, push; the network steps are in sync-net.h).  Shared by
 * the sync*.c files only.
 */
struct blob_cache;
struct gitx_oid;
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
 * Merge the remote's log files (those of remote_tip that local_tip, may
 * be NULL, does not hold as they are) into the work tree, under the log
 * lock.  What it changed is added to *changes, for the projection.  A
 * merged file that came out byte for byte as the remote's blob goes into
 * *learned with that blob id, so that the commit does not hash it again.
 * Counts go to st.  0, or -1 after error().
 */
int sync_merge(struct gitx_repo *repo, const struct gitx_oid *remote_tip,
	       const struct gitx_oid *local_tip,
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
 * Commit the work tree's log files on top of parent (may be NULL) and
 * move a-sync from local_tip (may be NULL) to the result, *tip; blob ids
 * come from var/sync-cache and learned where the files did not change.
 * The index of the sync work tree is left for sync_refresh_index().
 * 0, or -1 after error().
 */
int sync_commit(struct gitx_repo *repo, const struct repo *r,
		const struct thrum_config *cfg, struct store *s,
		const struct gitx_oid *parent, const struct gitx_oid *local_tip,
		const struct blob_cache *learned, struct sync_status *st,
		struct gitx_oid *tip);

#endif

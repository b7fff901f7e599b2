#ifndef THRUM_BLOB_CACHE_H
#define THRUM_BLOB_CACHE_H

/*
 * var/sync-cache remembers, for every work tree file, the blob it was
 * when last committed, keyed by what stat() says (inode, size, mtime).
 * Log files only grow by appends and are only replaced by rename, so a
 * file whose key is unchanged holds the same bytes: it is neither read
 * nor hashed again.  The cache also names the a-sync commit it was
 * written for; when a-sync and the remote branch are both still there
 * and no file changed, a cycle has nothing to do.  The file is derived
 * data: a damaged one is ignored and rewritten.
 *
 *   a-sync <hex>
 *   <blob hex> <inode> <size> <mtime ns> <path>
 *
 * A struct blob_cache owns its entries until blob_cache_release().
 */
#include "gitx.h"

struct repo;
struct store;

struct blob_stat {
	char *path;
	struct gitx_oid blob;
	uint64_t ino, size;
	int64_t mtime_ns;
};

struct blob_cache {
	char tip[GITX_OID_HEXSZ + 1];	/* "" when unknown */
	struct blob_stat *v;
	size_t nr, alloc;
};
#define BLOB_CACHE_INIT { "", NULL, 0, 0 }

void blob_cache_release(struct blob_cache *c);
/* read var/sync-cache (sorted by path); a missing or damaged one is empty */
void blob_cache_read(const struct repo *r, struct blob_cache *c);
/* write it; a failure only costs time next cycle (a warning) */
void blob_cache_write(const struct repo *r, const struct blob_cache *c);
/* the entry of path, or NULL; c sorted by path */
const struct blob_stat *blob_cache_find(const struct blob_cache *c,
					const char *path);
/* append an entry (taking key->path); blob_cache_sort() before finding */
void blob_cache_add(struct blob_cache *c, const struct blob_stat *key);
void blob_cache_sort(struct blob_cache *c);

/* the stat key of the regular file at path; 0, or -1 */
int blob_stat_key(const char *path, struct blob_stat *out);
/* do two keys describe the same bytes? */
int blob_stat_same(const struct blob_stat *a, const struct blob_stat *b);

/*
 * Does every log file of s still have the key c recorded for it (and no
 * file come or gone)?  1 or 0; with the log lock held shared.
 */
int blob_cache_matches(const struct blob_cache *c, struct store *s);

/*
 * How many bytes of the log file rel (e.g. "messages/alice.jsonl") the
 * last commit of a-sync holds, as var/sync-cache in var_dir recorded it
 * when the cycle committed; 0 when nothing is known.  Bytes after that
 * are not committed yet.
 */
uint64_t sync_committed_size(const char *var_dir, const char *rel);

/*
 * Did the log files change since the last cycle committed them (by the
 * stat of each, as var/sync-cache recorded it)?  1 or 0.  The daemon
 * asks after each cycle: an append made while the cycle ran is pushed
 * by the next one, not at the next tick.
 */
int sync_worktree_changed(const struct repo *r, struct store *s);

#endif

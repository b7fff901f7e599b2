#ifndef THRUM_DIRECTORY_CACHE_H
#define THRUM_DIRECTORY_CACHE_H

/*
 * The directory cache, var/directory: every name "@name" resolves to
 * (agent ids and names, live group names, roles) as the projection had
 * them, so that `send --to` resolves its recipients without opening the
 * database, whose schema alone SQLite parses in more instructions than
 * the rest of a send (Documentation/technical/architecture.adoc, "The
 * directory cache").
 *
 * It is derived data, and exact when it is used:
 *  - the projection removes it, under var/directory.lock, before it
 *    commits anything that changes what a name resolves to;
 *  - it is written, under the same lock, from one read transaction of
 *    the projection, with the state of events.jsonl and messages.jsonl
 *    as the projection consumed them and the database file's inode
 *    (never when that is not the file the read read: one renamed into
 *    its place since);
 *  - a reader uses it only when those files and the database are still
 *    what it records (nothing appended that the projection has not read,
 *    no database put in its place: the same inode, born before the
 *    cache); a name it lacks is looked up in the projection, which is
 *    caught up first.
 * A crash at any point leaves it absent or exact.
 */
#include "projection.h"

struct store;

/* one log file, as the projection consumed it */
struct dircache_file {
	const char *rel;	/* STORE_EVENTS_FILE or STORE_LEGACY_FILE */
	int known;		/* 1 read, 0 never read, -1 read, stat unknown */
	int64_t size, ino, mtime;
};

struct dircache_entry {
	char *name;
	enum recipient_kind kind;
};

#define DIRCACHE_FILES 2

struct dircache {
	struct dircache_file files[DIRCACHE_FILES];
	int64_t db_ino;
	struct dircache_entry *v;	/* sorted by name, each name once */
	size_t nr, alloc;
};

void dircache_init(struct dircache *c);
void dircache_release(struct dircache *c);

/* add a name (the first kind given for a name wins once sorted) */
void dircache_add(struct dircache *c, const char *name,
		  enum recipient_kind kind);
/* sort by name, each name once, keeping the kind added first */
void dircache_sort(struct dircache *c);

/*
 * Load var_dir's cache into c when it is current for s: 0, or -1 when
 * there is none, it is not current, or it does not read (never an error:
 * the caller falls back to the projection).
 */
int dircache_load(struct dircache *c, const char *var_dir,
		  const struct store *s);

/* 1 and *kind when c names name, else 0 */
int dircache_lookup(const struct dircache *c, const char *name,
		    enum recipient_kind *kind);

/*
 * Write var_dir's cache from p, caught up, unless another process holds
 * the lock (then the next reader writes it).  0, or -1 after error().
 */
int dircache_write(struct projection *p, const char *var_dir);

/*
 * The projection's side: take the lock (waiting) and remove the cache,
 * before a commit that changes the directory; *fd keeps the lock until
 * dircache_unlock().  0, or -1 after error().
 */
int dircache_invalidate(const char *var_dir, int *fd);
void dircache_unlock(int *fd);

#endif

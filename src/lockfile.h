#ifndef THRUM_LOCKFILE_H
#define THRUM_LOCKFILE_H

/*
 * Locks and temporary files, each written one way.
 *
 * A lock is flock(2) on a file that stays in place (the kernel drops it
 * when the holder dies, so no stale lock is ever left behind).
 *
 * A temporary file is "<path>" TEMPFILE_SUFFIX beside the file it will
 * replace.  Registered ones are removed when the process exits or dies of
 * a signal, unless they were renamed into place (unregistered) first.
 */

#define TEMPFILE_SUFFIX ".thrum-tmp"

/* "<path>.thrum-tmp", a new string */
char *tempfile_path(const char *path);

/*
 * Remember tmp (a path as tempfile_path() makes it) for removal at exit
 * or on SIGINT, SIGTERM, SIGHUP, SIGPIPE (a signal whose handler is not
 * the default one is left to its owner, who exits through exit()).
 */
void tempfile_register(const char *tmp);
/* forget tmp: it was renamed into place, or removed */
void tempfile_unregister(const char *tmp);

/*
 * Open (creating it, with mode) and lock the file at path: how is
 * LOCK_EX or LOCK_SH.  wait_ms: 0 tries once, < 0 waits as long as it
 * takes, otherwise waits up to that long.  On success *fd holds the lock
 * (lock_release() it) and 0 is returned; THRUM_EBUSY when someone else
 * held it all along, -1 after error() otherwise.
 */
int lock_take(const char *path, int how, long wait_ms, mode_t mode, int *fd);

/* lock fd, already open, the same way (for a lock file kept open) */
int lock_take_fd(int fd, const char *path, int how, long wait_ms);

/* drop the lock and close fd; fd < 0 is a no-op */
void lock_release(int fd);

/* drop the lock but keep fd open, for the next lock_take_fd() */
void lock_drop(int fd);

/*
 * 1 when another process holds a lock on path now, 0 when nobody does or
 * the file does not exist.  The probe holds the lock for an instant: a
 * holder that retries briefly never notices.
 */
int lock_held(const char *path);

/*
 * Replace path with len bytes of buf: written to tempfile_path(path)
 * (never through a symlink; see lockfile.h: removed if the process dies
 * first), fsynced, renamed over path, so a reader sees the old file or
 * the new one, never half of either.  0, or -1 after error().
 */
int write_file_atomic(const char *path, const void *buf, size_t len,
		      mode_t mode);
/*
 * The same without the fsync, for derived files that a crash may take
 * back to their previous version (the sync status, caches): still never
 * half written, but a millisecond cheaper.
 */
int write_file_derived(const char *path, const void *buf, size_t len,
		       mode_t mode);

/*
 * Replacing many files at once, with one flush for all of them instead of
 * one fsync each: write_file_staged() writes tempfile_path(path) (not
 * flushed; removed at exit unless committed); once every file is staged, commit_staged_files() flushes the
 * file system holding them (syncfs), renames each over its path and
 * fsyncs their directories.  A crash leaves each path old or new, never
 * half written.  0, or -1 after error() (the staged files are removed).
 */
int write_file_staged(const char *path, const void *buf, size_t len,
		      mode_t mode);
int commit_staged_files(const char *const *paths, size_t nr);

#endif

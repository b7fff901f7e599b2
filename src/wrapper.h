#ifndef THRUM_WRAPPER_H
#define THRUM_WRAPPER_H

/*
 * Allocation that dies on out-of-memory, and I/O loops that retry short
 * reads and writes and EINTR.  Returned pointers are owned by the caller
 * and released with free().
 */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xstrdup(s) or NULL when s is NULL */
char *xstrdup_or_null(const char *s);

#define ALLOC_GROW(x, nr, alloc) \
	do { \
		if ((nr) > (alloc)) { \
			(alloc) = (alloc) < 16 ? 16 : (alloc) * 2; \
			if ((alloc) < (nr)) \
				(alloc) = (nr); \
			(x) = xrealloc((x), (alloc) * sizeof(*(x))); \
		} \
	} while (0)

/* read until EOF or count bytes; returns bytes read or -1 */
ssize_t read_in_full(int fd, void *buf, size_t count);
/* write all count bytes; returns count or -1 */
ssize_t write_in_full(int fd, const void *buf, size_t count);
/* open(2) retried on EINTR */
int xopen(const char *path, int flags, mode_t mode);

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

/* mkdir -p; mode for the directories created; 0 or -1 with errno */
int mkdir_p(const char *path, mode_t mode);

/*
 * Parse a whole base-10 integer in [min, max].  Returns 0, or -1 when s is
 * empty, has trailing garbage or is out of range.
 */
int thrum_parse_long(const char *s, long min, long max, long *out);

#endif

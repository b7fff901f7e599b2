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

/* mkdir -p; mode for the directories created; 0 or -1 with errno */
int mkdir_p(const char *path, mode_t mode);

/*
 * Parse a whole base-10 integer in [min, max].  Returns 0, or -1 when s is
 * empty, has trailing garbage or is out of range.
 */
int thrum_parse_long(const char *s, long min, long max, long *out);

/*
 * The value of environment variable name when thrum_parse_long() takes
 * it in [min, max]; otherwise (unset, empty, not such a number) dflt.
 */
long thrum_env_long(const char *name, long min, long max, long dflt);

#endif

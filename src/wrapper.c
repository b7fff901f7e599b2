/*
 * wrapper.c owns the few system-call wrappers every module uses: allocation
 * that cannot return NULL (OOM is fatal, as in git), read/write loops that
 * never return a short count except at EOF, and replacing a file through a
 * temporary one beside it (registered with lockfile.h, so that none is left
 * behind by a process that dies; technical/on-disk.adoc, "How files are
 * written").
 */
#include "thrum.h"
#include "wrapper.h"
#include "usage.h"

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		die("out of memory, malloc failed (tried to allocate %zu bytes)",
		    size);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		die("out of memory, calloc failed");
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		die("out of memory, realloc failed (tried to allocate %zu bytes)",
		    size);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die("out of memory, strdup failed");
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		die("out of memory, strndup failed");
	return p;
}

char *xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/*
 * read or write count bytes, over short transfers and EINTR/EAGAIN; a
 * read stops early at end of file, a write that moves nothing is ENOSPC
 */
static ssize_t xfer_in_full(int fd, char *p, size_t count, int writing)
{
	size_t total = 0;

	while (total < count) {
		ssize_t n = writing ? write(fd, p + total, count - total) :
				      read(fd, p + total, count - total);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (!n) {
			if (!writing)
				break;
			errno = ENOSPC;
			return -1;
		}
		total += n;
	}
	return total;
}

ssize_t read_in_full(int fd, void *buf, size_t count)
{
	return xfer_in_full(fd, buf, count, 0);
}

/* xfer_in_full() only reads from buf when writing */
ssize_t write_in_full(int fd, const void *buf, size_t count)
{
	return xfer_in_full(fd, (char *)buf, count, 1);
}

int xopen(const char *path, int flags, mode_t mode)
{
	int fd;

	do
		fd = open(path, flags | O_CLOEXEC, mode);
	while (fd < 0 && errno == EINTR);
	return fd;
}

int mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path), *s;
	int ret = 0;

	for (s = p + 1; ; s++) {
		if (*s != '/' && *s)
			continue;
		{
			char c = *s;

			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				ret = -1;
				break;
			}
			*s = c;
		}
		if (!*s)
			break;
	}
	free(p);
	return ret;
}

int thrum_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

long thrum_env_long(const char *name, long min, long max, long dflt)
{
	long v;

	return thrum_parse_long(getenv(name), min, max, &v) < 0 ? dflt : v;
}

/* create tmp afresh, registered for removal; the fd or -1 */

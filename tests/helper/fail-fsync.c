/*
 * fail-fsync.so: an LD_PRELOAD shim for the tests only.  fsync() and
 * fdatasync() of a file whose path contains $THRUM_TEST_FAIL_FSYNC fail
 * with EIO, as on a disk that lost the write; every other call goes to
 * the C library.  Built by `make` next to this file, never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int doomed(int fd)
{
	const char *pattern = getenv("THRUM_TEST_FAIL_FSYNC");
	char link[64], path[PATH_MAX];
	ssize_t n;

	if (!pattern || !*pattern)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 0;
	path[n] = '\0';
	return strstr(path, pattern) != NULL;
}

typedef int (*sync_fn)(int);

static int call_real(const char *name, int fd)
{
	sync_fn real;

	*(void **)&real = dlsym(RTLD_NEXT, name);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd);
}

int fsync(int fd)
{
	if (doomed(fd)) {
		errno = EIO;
		return -1;
	}
	return call_real("fsync", fd);
}

int fdatasync(int fd)
{
	if (doomed(fd)) {
		errno = EIO;
		return -1;
	}
	return call_real("fdatasync", fd);
}

/*
 * lock-hook.so: an LD_PRELOAD shim for the tests only.  It runs the
 * shell command $THRUM_TEST_LOCK_CMD once, without the shim, at one
 * moment of a process's use of var/log.lock, and only while the file
 * $THRUM_TEST_LOCK_ONCE exists (the shim removes it):
 *
 *   THRUM_TEST_LOCK_AT=ex      before its first exclusive lock: a sync
 *                              cycle's merge, before it reads the files
 *   THRUM_TEST_LOCK_AT=merged  before its first shared lock after it
 *                              renamed a .jsonl file into place: after
 *                              the merge, before the commit reads them
 *
 * So a test writes lines exactly where a cycle has already looked for
 * appends.  Built by `make` next to this file, never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int renamed;

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static int is_log_lock(int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 0;
	path[n] = '\0';
	return ends_with(path, "/log.lock");
}

int rename(const char *from, const char *to)
{
	int (*real)(const char *, const char *);
	int ret;

	*(void **)&real = dlsym(RTLD_NEXT, "rename");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	ret = real(from, to);
	if (!ret && ends_with(to, ".jsonl"))
		renamed = 1;
	return ret;
}

static int now(int op)
{
	const char *at = getenv("THRUM_TEST_LOCK_AT");

	if (!at)
		return 0;
	if (!strcmp(at, "ex"))
		return (op & LOCK_EX) != 0;
	if (!strcmp(at, "merged"))
		return renamed && (op & LOCK_SH);
	return 0;
}

int flock(int fd, int op)
{
	int (*real)(int, int);
	const char *cmd = getenv("THRUM_TEST_LOCK_CMD");
	const char *once = getenv("THRUM_TEST_LOCK_ONCE");

	*(void **)&real = dlsym(RTLD_NEXT, "flock");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if (cmd && once && now(op) && is_log_lock(fd) && !unlink(once)) {
		unsetenv("LD_PRELOAD");
		if (system(cmd))
			fprintf(stderr, "lock-hook: '%s' failed\n", cmd);
	}
	return real(fd, op);
}

/*
 * flock(2) locks and registered temporary files (lockfile.h).
 */
#include "thrum.h"
#include "clock.h"
#include "lockfile.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

/* how long a waiting lock_take() sleeps between tries */
#define LOCK_RETRY_MS 5

/*
 * Registered temporary files.  The signal handler reads this list, so it
 * is a fixed array of fixed buffers: no allocation, no list to walk
 * while it is being changed (a slot is published by its first byte).
 */
#define TEMPFILES_MAX 32

static char tempfiles[TEMPFILES_MAX][PATH_MAX];
static int tempfiles_armed;

char *tempfile_path(const char *path)
{
	return xstrfmt("%s" TEMPFILE_SUFFIX, path);
}

static void remove_tempfiles(void)
{
	size_t i;

	for (i = 0; i < TEMPFILES_MAX; i++)
		if (tempfiles[i][0])
			unlink(tempfiles[i]);
}

static void remove_tempfiles_on_signal(int sig)
{
	remove_tempfiles();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void arm(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	size_t i;

	if (tempfiles_armed)
		return;
	tempfiles_armed = 1;
	atexit(remove_tempfiles);
	for (i = 0; i < ARRAY_SIZE(sigs); i++) {
		struct sigaction sa, old;

		if (sigaction(sigs[i], NULL, &old) < 0 ||
		    old.sa_handler != SIG_DFL)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = remove_tempfiles_on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

void tempfile_register(const char *tmp)
{
	size_t i, len = strlen(tmp);

	if (!len || len >= PATH_MAX)
		return;
	arm();
	for (i = 0; i < TEMPFILES_MAX; i++) {
		if (tempfiles[i][0])
			continue;
		/* the path first, then its first byte, which publishes it */
		memcpy(tempfiles[i] + 1, tmp + 1, len);
		tempfiles[i][0] = tmp[0];
		return;
	}
	/* more than TEMPFILES_MAX at once: the file is left to fsck */
}

void tempfile_unregister(const char *tmp)
{
	size_t i;

	for (i = 0; i < TEMPFILES_MAX; i++)
		if (tempfiles[i][0] && !strcmp(tempfiles[i], tmp)) {
			tempfiles[i][0] = '\0';
			return;
		}
}

int lock_take_fd(int fd, const char *path, int how, long wait_ms)
{
	int64_t deadline = wait_ms > 0 ? now_ms() + wait_ms : 0;

	for (;;) {
		if (!flock(fd, how | (wait_ms < 0 ? 0 : LOCK_NB)))
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return error_errno("cannot lock '%s'", path);
		if (!wait_ms || now_ms() >= deadline)
			return THRUM_EBUSY;
		sleep_ms(LOCK_RETRY_MS);
	}
}

int lock_take(const char *path, int how, long wait_ms, mode_t mode, int *fd)
{
	int ret;

	*fd = xopen(path, O_RDWR | O_CREAT, mode);
	if (*fd < 0)
		return error_errno("cannot open '%s'", path);
	ret = lock_take_fd(*fd, path, how, wait_ms);
	if (ret) {
		close(*fd);
		*fd = -1;
	}
	return ret;
}

void lock_drop(int fd)
{
	if (fd >= 0)
		flock(fd, LOCK_UN);
}

void lock_release(int fd)
{
	if (fd < 0)
		return;
	lock_drop(fd);
	close(fd);
}

int lock_held(const char *path)
{
	int fd = xopen(path, O_RDONLY, 0), held = 0;

	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		held = 1;
	close(fd);
	return held;
}

static int create_tempfile(const char *tmp, mode_t mode)
{
	int fd;

	unlink(tmp);
	fd = xopen(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
	if (fd >= 0)
		tempfile_register(tmp);
	return fd;
}

static void remove_tempfile(const char *tmp)
{
	unlink(tmp);
	tempfile_unregister(tmp);
}

static int replace_file(const char *path, const void *buf, size_t len,
			mode_t mode, int durable)
{
	char *tmp = tempfile_path(path);
	int fd, ret = -1;

	fd = create_tempfile(tmp, mode);
	if (fd < 0 || write_in_full(fd, buf, len) < 0 ||
	    (durable && fsync(fd) < 0)) {
		error_errno("cannot write '%s'", tmp);
	} else if (rename(tmp, path) < 0) {
		error_errno("cannot replace '%s'", path);
	} else {
		tempfile_unregister(tmp);
		ret = 0;
	}
	if (fd >= 0)
		close(fd);
	if (ret)
		remove_tempfile(tmp);
	free(tmp);
	return ret;
}

int write_file_atomic(const char *path, const void *buf, size_t len,
		      mode_t mode)
{
	return replace_file(path, buf, len, mode, 1);
}

int write_file_staged(const char *path, const void *buf, size_t len,
		      mode_t mode)
{
	char *tmp = tempfile_path(path);
	int fd, ret = 0;

	fd = create_tempfile(tmp, mode);
	if (fd < 0 || write_in_full(fd, buf, len) < 0) {
		ret = error_errno("cannot write '%s'", tmp);
		remove_tempfile(tmp);
	}
	if (fd >= 0)
		close(fd);
	free(tmp);
	return ret;
}

static int fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash - path) : xstrdup(".");
	int fd = xopen(dir, O_RDONLY | O_DIRECTORY, 0), ret = 0;

	if (fd < 0 || fsync(fd) < 0)
		ret = error_errno("cannot flush '%s'", dir);
	if (fd >= 0)
		close(fd);
	free(dir);
	return ret;
}

int commit_staged_files(const char *const *paths, size_t nr)
{
	char *tmp;
	size_t i;
	int ret = 0, fd;

	if (!nr)
		return 0;
	tmp = tempfile_path(paths[0]);
	fd = xopen(tmp, O_RDONLY, 0);
	/* one journal commit for every staged file */
	if (fd < 0 || syncfs(fd) < 0)
		ret = error_errno("cannot flush '%s'", tmp);
	if (fd >= 0)
		close(fd);
	free(tmp);
	for (i = 0; i < nr; i++) {
		tmp = tempfile_path(paths[i]);
		if (ret)
			remove_tempfile(tmp);
		else if (rename(tmp, paths[i]) < 0)
			ret = error_errno("cannot replace '%s'", paths[i]);
		else
			tempfile_unregister(tmp);
		free(tmp);
	}
	for (i = 0; i < nr && !ret; i++) {
		const char *a = strrchr(paths[i], '/');
		size_t j;
		int seen = 0;

		/* each directory once */
		for (j = 0; j < i && !seen; j++) {
			const char *b = strrchr(paths[j], '/');

			seen = a && b && a - paths[i] == b - paths[j] &&
			       !memcmp(paths[i], paths[j], a - paths[i]);
		}
		if (!seen)
			ret = fsync_parent(paths[i]);
	}
	return ret;
}

int write_file_derived(const char *path, const void *buf, size_t len,
		       mode_t mode)
{
	return replace_file(path, buf, len, mode, 0);
}

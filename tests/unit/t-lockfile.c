/*
 * lockfile and clock: a lock is taken, refused while held, waited for
 * and released; lock_held() sees another holder; registered temporary
 * files go when the process exits or dies of SIGTERM, and stay once
 * unregistered; poll_until() keeps its bounds.
 */
#include "unit.h"
#include <sys/wait.h>
#include "clock.h"
#include "lockfile.h"
#include "repo.h"
#include "strbuf.h"
#include "wrapper.h"

static char tmpdir[] = "/tmp/t-lockfile-XXXXXX";

static const char *const names[] = {
	"a.lock", "target", "target" TEMPFILE_SUFFIX, "kept",
	"kept" TEMPFILE_SUFFIX, "staged", "staged" TEMPFILE_SUFFIX,
};

static char *at(const char *name)
{
	return path_join(tmpdir, name);
}

static int exists(const char *name)
{
	char *path = at(name);
	int ret = !access(path, F_OK);

	free(path);
	return ret;
}

static void touch(const char *path)
{
	int fd = xopen(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	close(fd);
}

static pid_t fork_child(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	return pid;
}

/* the child's exit status, or 128 + its signal */
static int reap(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void wait_for_byte(int fd)
{
	char c;

	assert_int_equal(read_in_full(fd, &c, 1), 1);
}

static void test_lock_taken_and_released(void **state)
{
	char *path = at("a.lock");
	int fd = -1;

	(void)state;
	assert_int_equal(lock_held(path), 0);	/* no file yet */
	assert_int_equal(lock_take(path, LOCK_EX, 0, 0600, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(lock_held(path), 1);
	lock_release(fd);
	assert_int_equal(lock_held(path), 0);
	lock_release(-1);	/* a no-op */
	free(path);
}

static void test_lock_busy(void **state)
{
	char *path = at("a.lock");
	int held = -1, fd = 42, sh1 = -1, sh2 = -1;
	int64_t start;

	(void)state;
	assert_int_equal(lock_take(path, LOCK_EX, 0, 0600, &held), 0);
	assert_int_equal(lock_take(path, LOCK_EX, 0, 0600, &fd), THRUM_EBUSY);
	assert_int_equal(fd, -1);
	assert_int_equal(lock_take(path, LOCK_SH, 0, 0600, &fd), THRUM_EBUSY);
	/* a bounded wait gives up after its bound, not before */
	start = now_ms();
	assert_int_equal(lock_take(path, LOCK_EX, 60, 0600, &fd), THRUM_EBUSY);
	assert_true(now_ms() - start >= 60);
	assert_true(now_ms() - start < 5000);
	lock_release(held);

	/* shared locks share, and keep an exclusive one out */
	assert_int_equal(lock_take(path, LOCK_SH, 0, 0600, &sh1), 0);
	assert_int_equal(lock_take(path, LOCK_SH, 0, 0600, &sh2), 0);
	assert_int_equal(lock_take(path, LOCK_EX, 0, 0600, &fd), THRUM_EBUSY);
	lock_release(sh1);
	lock_release(sh2);
	free(path);
}

static void test_lock_open_fails(void **state)
{
	char *path = at("no-such-dir/a.lock");
	int fd = 42;

	(void)state;
	assert_int_equal(lock_take(path, LOCK_EX, 0, 0600, &fd), -1);
	assert_int_equal(fd, -1);
	free(path);
}

/* a child holds the lock for a while: a waiting taker gets it after */
static void waited_for(long wait_ms)
{
	char *path = at("a.lock");
	int p[2], fd = -1;
	int64_t start;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork_child();
	if (!pid) {
		int held = -1;

		close(p[0]);
		if (lock_take(path, LOCK_EX, 0, 0600, &held))
			_exit(1);
		if (write_in_full(p[1], "x", 1) < 0)
			_exit(2);
		sleep_ms(150);
		lock_release(held);
		_exit(0);
	}
	close(p[1]);
	wait_for_byte(p[0]);
	close(p[0]);
	start = now_ms();
	assert_int_equal(lock_held(path), 1);
	assert_int_equal(lock_take(path, LOCK_EX, 0, 0600, &fd), THRUM_EBUSY);
	assert_int_equal(lock_take(path, LOCK_EX, wait_ms, 0600, &fd), 0);
	assert_true(now_ms() - start >= 100);
	lock_release(fd);
	assert_int_equal(reap(pid), 0);
	free(path);
}

static void test_lock_waited_for(void **state)
{
	(void)state;
	waited_for(10000);
}

static void test_lock_waited_for_unbounded(void **state)
{
	(void)state;
	waited_for(-1);
}

static void test_lock_drop_keeps_fd(void **state)
{
	char *path = at("a.lock");
	int fd = -1, other = -1;

	(void)state;
	assert_int_equal(lock_take(path, LOCK_EX, 0, 0600, &fd), 0);
	lock_drop(fd);
	assert_int_equal(lock_held(path), 0);
	assert_int_equal(lock_take(path, LOCK_EX, 0, 0600, &other), 0);
	assert_int_equal(lock_take_fd(fd, path, LOCK_EX, 0), THRUM_EBUSY);
	lock_release(other);
	assert_int_equal(lock_take_fd(fd, path, LOCK_EX, 0), 0);
	assert_int_equal(lock_held(path), 1);
	lock_release(fd);
	free(path);
}

static void test_tempfile_path(void **state)
{
	char *tmp = tempfile_path("/x/y");

	(void)state;
	assert_string_equal(tmp, "/x/y" TEMPFILE_SUFFIX);
	free(tmp);
}

/* a child registers "target" and "kept" temp files, unregisters "kept" */
static void registering_child(int ready_fd)
{
	char *tmp = at("target" TEMPFILE_SUFFIX);
	char *kept = at("kept" TEMPFILE_SUFFIX);

	touch(tmp);
	tempfile_register(tmp);
	touch(kept);
	tempfile_register(kept);
	tempfile_unregister(kept);
	free(tmp);
	free(kept);
	if (ready_fd < 0)
		exit(0);	/* exit(), not _exit(): the atexit path */
	if (write_in_full(ready_fd, "x", 1) < 0)
		_exit(2);
	for (;;)
		pause();
}

static void test_tempfile_removed_at_exit(void **state)
{
	pid_t pid;

	(void)state;
	pid = fork_child();
	if (!pid)
		registering_child(-1);
	assert_int_equal(reap(pid), 0);
	assert_false(exists("target" TEMPFILE_SUFFIX));
	assert_true(exists("kept" TEMPFILE_SUFFIX));
}

static void test_tempfile_removed_on_sigterm(void **state)
{
	int p[2];
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork_child();
	if (!pid) {
		close(p[0]);
		registering_child(p[1]);
	}
	close(p[1]);
	wait_for_byte(p[0]);
	close(p[0]);
	assert_true(exists("target" TEMPFILE_SUFFIX));
	assert_int_equal(kill(pid, SIGTERM), 0);
	/* it still dies of the signal, as it would have */
	assert_int_equal(reap(pid), 128 + SIGTERM);
	assert_false(exists("target" TEMPFILE_SUFFIX));
	assert_true(exists("kept" TEMPFILE_SUFFIX));
}

/* write_file_staged() registers: a file staged and never committed goes */
static void test_staged_file_removed_at_exit(void **state)
{
	char *staged = at("staged");
	struct strbuf sb = STRBUF_INIT;
	const char *paths[1];
	pid_t pid;

	(void)state;
	pid = fork_child();
	if (!pid) {
		if (write_file_staged(staged, "abc", 3, 0600))
			_exit(1);
		if (!exists("staged" TEMPFILE_SUFFIX))
			_exit(2);
		free(staged);
		exit(0);
	}
	assert_int_equal(reap(pid), 0);
	assert_false(exists("staged" TEMPFILE_SUFFIX));
	assert_false(exists("staged"));

	/* committed: the file is in place, nothing is left beside it */
	pid = fork_child();
	if (!pid) {
		paths[0] = staged;
		if (write_file_staged(staged, "abc", 3, 0600) ||
		    commit_staged_files(paths, 1) ||
		    write_file_atomic(staged, "abcd", 4, 0600))
			_exit(1);
		free(staged);
		exit(0);
	}
	assert_int_equal(reap(pid), 0);
	assert_false(exists("staged" TEMPFILE_SUFFIX));
	assert_true(strbuf_read_file(&sb, staged, 0) == 4);
	assert_string_equal(sb.buf, "abcd");
	strbuf_release(&sb);
	free(staged);
}

struct countdown {
	int calls;
	int true_at;	/* the call that returns non-zero; 0: never */
};

static int count_calls(void *arg)
{
	struct countdown *c = arg;

	return ++c->calls == c->true_at ? 7 : 0;
}

static void test_poll_until_bounds(void **state)
{
	struct countdown c = { 0, 0 };
	int64_t start = now_ms();

	(void)state;
	/* never true: 0 after the bound, with a last look at the deadline */
	assert_int_equal(poll_until(count_calls, &c, 80, 10), 0);
	assert_true(now_ms() - start >= 80);
	assert_true(now_ms() - start < 5000);
	assert_true(c.calls >= 3);

	/* true at the third call: its value, no more calls */
	c.calls = 0;
	c.true_at = 3;
	assert_int_equal(poll_until(count_calls, &c, 10000, 5), 7);
	assert_int_equal(c.calls, 3);

	/* true at once: no sleep at all */
	c.calls = 0;
	c.true_at = 1;
	start = now_ms();
	assert_int_equal(poll_until(count_calls, &c, 10000, 1000), 7);
	assert_int_equal(c.calls, 1);
	assert_true(now_ms() - start < 500);

	/* a bound of 0: one try, and the look at the deadline */
	c.calls = 0;
	c.true_at = 0;
	assert_int_equal(poll_until(count_calls, &c, 0, 1000), 0);
	assert_int_equal(c.calls, 2);
}

static void test_sleep_ms(void **state)
{
	int64_t start = now_ms();

	(void)state;
	sleep_ms(0);
	sleep_ms(-5);
	assert_true(now_ms() - start < 500);
	start = now_ms();
	sleep_ms(30);
	assert_true(now_ms() - start >= 30);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int cleanup_files(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		char *path = at(names[i]);

		unlink(path);
		free(path);
	}
	return 0;
}

static int teardown(void **state)
{
	cleanup_files(state);
	return rmdir(tmpdir);
}

#define T(fn) cmocka_unit_test_teardown(fn, cleanup_files)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_lock_taken_and_released),
		T(test_lock_busy),
		T(test_lock_open_fails),
		T(test_lock_waited_for),
		T(test_lock_waited_for_unbounded),
		T(test_lock_drop_keeps_fd),
		T(test_tempfile_path),
		T(test_tempfile_removed_at_exit),
		T(test_tempfile_removed_on_sigterm),
		T(test_staged_file_removed_at_exit),
		T(test_poll_until_bounds),
		T(test_sleep_ms),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

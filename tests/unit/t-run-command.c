/*
 * run-command's stop: run_command_stop(), called in a signal handler,
 * ends the child that runs and what that child started (its process
 * group), and from then on no child starts.
 */
#include "unit.h"
#include "clock.h"
#include "repo.h"
#include "run-command.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

static char tmpdir[] = "/tmp/t-run-command-XXXXXX";

static char *at(const char *name)
{
	return path_join(tmpdir, name);
}

static struct strbuf errors = STRBUF_INIT;

static void keep_error(const char *prefix, const char *fmt, va_list ap)
{
	strbuf_addstr(&errors, prefix);
	strbuf_vaddf(&errors, fmt, ap);
	strbuf_addch(&errors, '\n');
}

static void stop_on_signal(int sig)
{
	run_command_stop(SIGTERM);
}

/* the process exists and is no zombie */
static int alive(pid_t pid)
{
	struct strbuf path = STRBUF_INIT, stat = STRBUF_INIT;
	const char *p;
	int ret;

	strbuf_addf(&path, "/proc/%ld/stat", (long)pid);
	ret = strbuf_read_file(&stat, path.buf, 256) >= 0;
	p = ret ? strrchr(stat.buf, ')') : NULL;
	if (p && p[1] == ' ' && p[2] == 'Z')
		ret = 0;
	strbuf_release(&path);
	strbuf_release(&stat);
	return ret;
}

static int gone(void *arg)
{
	return !alive(*(pid_t *)arg);
}

static void test_stop_ends_the_child_and_its_group(void **state)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct sigaction sa;
	struct strbuf pid_text = STRBUF_INIT;
	char *pidfile = at("grandchild.pid");
	int64_t start = now_ms();
	long pid = 0;
	int ret;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_on_signal;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	/*
	 * the child starts a grandchild, then tells us to stop: the stop
	 * comes while both run, and only the stop can end them early
	 */
	cp.no_tty = 1;	/* a session, so a group, of its own, as a fetch has */
	strvec_pushl(&cp.args, "sh", "-c",
		     "sleep 30 & echo $! >\"$1\"; kill -USR1 $PPID; wait",
		     "sh", pidfile, NULL);
	ret = run_command(&cp);
	assert_int_equal(ret, 128 + SIGTERM);
	assert_true(now_ms() - start < 10000);
	assert_int_equal(strbuf_read_file(&pid_text, pidfile, 64) > 0, 1);
	strbuf_trim(&pid_text);
	assert_int_equal(thrum_parse_long(pid_text.buf, 1, INT_MAX, &pid), 0);
	/* the grandchild is not ours to reap: init does it */
	if (!poll_until(gone, &pid, 5000, 10)) {
		kill((pid_t)pid, SIGKILL);
		fail_msg("the grandchild %ld outlived the stop", pid);
	}
	signal(SIGUSR1, SIG_DFL);
	unlink(pidfile);
	strbuf_release(&pid_text);
	free(pidfile);
}

static void test_nothing_starts_after_a_stop(void **state)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	char *marker = at("ran");

	run_command_stop(SIGTERM);
	strvec_pushl(&cp.args, "sh", "-c", ": >\"$1\"", "sh", marker, NULL);
	set_error_routine(keep_error);
	assert_int_equal(run_command(&cp), -1);
	assert_int_not_equal(access(marker, F_OK), 0);
	assert_string_equal(errors.buf, "error: not running 'sh': stopping\n");
	strbuf_release(&errors);
	free(marker);
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stop_ends_the_child_and_its_group),
		cmocka_unit_test(test_nothing_starts_after_a_stop),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

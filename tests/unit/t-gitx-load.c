/*
 * t-gitx-load: the stub that opens the libgit2 module (src/gitx-load.c)
 * reports a module it cannot use and returns an error, so that a daemon
 * survives it; it never exits.
 */
#include "unit.h"
#include "gitx.h"
#include "strbuf.h"
#include "usage.h"

static struct strbuf reported = STRBUF_INIT;

static void record(const char *prefix, const char *fmt, va_list ap)
{
	strbuf_addstr(&reported, prefix);
	strbuf_vaddf(&reported, fmt, ap);
	strbuf_addch(&reported, '\n');
}

static void open_with(const char *module, const char *expect)
{
	struct gitx_repo *repo = NULL;
	int i;

	setenv("THRUM_GIT2_MODULE", module, 1);
	/* each call looks for the module again, and fails again */
	for (i = 0; i < 2; i++) {
		strbuf_reset(&reported);
		assert_int_equal(gitx_open(&repo, "."), -1);
		assert_null(repo);
		assert_non_null(strstr(reported.buf, expect));
	}
}

static void missing_module(void **state)
{
	open_with("/nonexistent/git-thrum-git2.so",
		  "error: cannot load the libgit2 module git-thrum-git2.so:");
}

static void foreign_library(void **state)
{
	open_with("libm.so.6", "error: git-thrum-git2.so: not a git-thrum "
		  "module");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(missing_module),
		cmocka_unit_test(foreign_library),
	};
	int ret;

	set_error_routine(record);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	strbuf_release(&reported);
	return ret;
}

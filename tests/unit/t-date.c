/* date: RFC 3339 in (any form the original writes), nine digits out */
#include "unit.h"
#include "date.h"

static const struct {
	const char *in;
	int64_t ns;
} good[] = {
	{ "1970-01-01T00:00:00Z", 0 },
	{ "1970-01-01T00:00:00.000000001Z", 1 },
	{ "2026-02-03T10:00:00Z", 1770112800000000000LL },
	{ "2026-02-03T10:00:00.5Z", 1770112800500000000LL },
	{ "2026-02-03T10:00:00.123Z", 1770112800123000000LL },
	{ "2026-02-03T10:00:00.123456789Z", 1770112800123456789LL },
	{ "2026-02-03T10:00:00.1234567891234Z", 1770112800123456789LL },
	{ "2026-02-03t10:00:00z", 1770112800000000000LL },
	{ "2026-02-03T12:30:00+02:30", 1770112800000000000LL },
	{ "2026-02-03T07:00:00-03:00", 1770112800000000000LL },
	{ "2024-02-29T00:00:00Z", 1709164800000000000LL },
	{ "1969-12-31T23:59:59.5Z", -500000000LL },
};

static const char *const bad[] = {
	"", "2026-02-03", "2026-02-03T10:00:00", "2026-13-01T00:00:00Z",
	"2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2026-02-03T24:00:00Z",
	"2026-02-03T10:00:00.Z", "2026-02-03T10:00:00ZZ", "26-02-03T10:00:00Z",
	"2026-02-03T10:00:00+0200", "2026-02-03 10:00", "garbage",
	"2026-02-03T10:00:00+24:00",
};

static void test_parse_good(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		int64_t ns = -42;

		assert_int_equal(date_parse_rfc3339(good[i].in, &ns), 0);
		if (ns != good[i].ns)
			fail_msg("%s: got %" PRId64 " want %" PRId64,
				 good[i].in, ns, good[i].ns);
	}
}

static void test_parse_bad(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int64_t ns;

		if (date_parse_rfc3339(bad[i], &ns) != THRUM_EINVALID)
			fail_msg("accepted '%s'", bad[i]);
	}
}

static void test_format(void **state)
{
	char buf[DATE_RFC3339_LEN + 1];
	size_t i;

	(void)state;
	date_format_rfc3339(1770112800500000000LL, buf);
	assert_string_equal(buf, "2026-02-03T10:00:00.500000000Z");
	date_format_rfc3339(-500000000LL, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59.500000000Z");
	date_format_rfc3339_sec(1770112800500000000LL, buf);
	assert_string_equal(buf, "2026-02-03T10:00:00Z");
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		int64_t back;

		date_format_rfc3339(good[i].ns, buf);
		assert_int_equal(strlen(buf), DATE_RFC3339_LEN);
		assert_int_equal(date_parse_rfc3339(buf, &back), 0);
		assert_true(back == good[i].ns);
	}
}

static void test_order_is_by_instant(void **state)
{
	int64_t a, b;

	(void)state;
	/* as strings "...:00Z" > "...:00.1Z"; as instants it is before */
	assert_true(strcmp("2026-02-03T10:00:00Z",
			   "2026-02-03T10:00:00.1Z") > 0);
	assert_int_equal(date_parse_rfc3339("2026-02-03T10:00:00Z", &a), 0);
	assert_int_equal(date_parse_rfc3339("2026-02-03T10:00:00.1Z", &b), 0);
	assert_true(a < b);
}

static void test_fixed_clock(void **state)
{
	(void)state;
	setenv("THRUM_TEST_NOW", "2026-02-03T10:00:00.5Z", 1);
	assert_true(date_now_ns() == 1770112800500000000LL);
	unsetenv("THRUM_TEST_NOW");
	assert_true(date_now_ns() > 1770112800500000000LL);
}

static void test_relative(void **state)
{
	const int64_t s = 1000000000LL, now = 1800000000LL * s;
	static const struct {
		int64_t ago;
		const char *want;
	} cases[] = {
		{ 0, "0 seconds ago" },
		{ 1, "1 second ago" },
		{ 89, "89 seconds ago" },
		{ 90, "2 minutes ago" },
		{ 60 * 60, "60 minutes ago" },
		{ 2 * 3600, "2 hours ago" },
		{ 3 * 86400, "3 days ago" },
		{ 15 * 86400, "2 weeks ago" },
		{ 100 * 86400, "3 months ago" },
		{ 365 * 86400, "1 year ago" },
		{ 430 * 86400, "1 year, 2 months ago" },
		{ -3600, "in the future" },
	};
	char out[DATE_RELATIVE_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		date_format_relative(now - cases[i].ago * s, now, out);
		assert_string_equal(out, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_order_is_by_instant),
		cmocka_unit_test(test_fixed_clock),
		cmocka_unit_test(test_relative),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

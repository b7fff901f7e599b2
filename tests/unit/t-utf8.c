/*
 * utf8: the validator accepts exactly RFC 3629 UTF-8 and names the first
 * bad byte.
 */
#include "unit.h"
#include "utf8.h"

static const struct {
	const char *s;
	int ok;
	size_t bad;
	const char *what;
} cases[] = {
	{ "", 1, 0, "empty" },
	{ "plain ascii\n\t", 1, 0, "ascii" },
	{ "caf\xc3\xa9", 1, 0, "two bytes" },
	{ "\xe2\x80\xae", 1, 0, "U+202E (valid; shown escaped)" },
	{ "\xf0\x9f\x98\x80", 1, 0, "four bytes" },
	{ "\xf4\x8f\xbf\xbf", 1, 0, "U+10FFFF" },
	{ "ab\xff", 0, 2, "0xff" },
	{ "\x80", 0, 0, "lone continuation" },
	{ "a\xc3", 0, 1, "truncated at the end" },
	{ "\xc3(", 0, 0, "bad continuation" },
	{ "\xc0\xaf", 0, 0, "overlong two bytes" },
	{ "\xe0\x80\xaf", 0, 0, "overlong three bytes" },
	{ "\xf0\x80\x80\xaf", 0, 0, "overlong four bytes" },
	{ "xy\xed\xa0\x80", 0, 2, "surrogate" },
	{ "\xf4\x90\x80\x80", 0, 0, "above U+10FFFF" },
	{ "\xf5\x80\x80\x80", 0, 0, "0xf5" },
};

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t bad = 99;
		int ok = utf8_valid(cases[i].s, strlen(cases[i].s), &bad);

		if (ok != cases[i].ok)
			fail_msg("%s: got %d", cases[i].what, ok);
		if (!ok && bad != cases[i].bad)
			fail_msg("%s: bad byte %zu, not %zu", cases[i].what,
				 bad, cases[i].bad);
	}
}

static void test_check(void **state)
{
	(void)state;
	assert_int_equal(utf8_invalid_at(NULL), 0);
	assert_int_equal(utf8_invalid_at("fine"), 0);
	assert_int_equal(utf8_invalid_at("no\xfe"), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * format: what human output does to control and bidi characters, and
 * to bytes that are not UTF-8.
 */
#include "unit.h"
#include "format.h"
#include "strbuf.h"

static const struct {
	const char *in;
	unsigned flags;
	const char *out;
} cases[] = {
	{ "plain caf\xc3\xa9", 0, "plain caf\xc3\xa9" },
	{ "\033[31mred", 0, "\\e[31mred" },
	{ "\033]52;c;eA==\007", 0, "\\e]52;c;eA==\\a" },
	{ "a\rb\bc", 0, "a\\rb\\bc" },
	{ "two\nlines\tx", 0, "two\\nlines\\tx" },
	{ "two\nlines\tx", FORMAT_KEEP_LINES, "two\nlines\tx" },
	{ "\001\037\177", 0, "\\x01\\x1f\\x7f" },
	{ "c1 \xc2\x9b \xc2\x80 \xc2\xa0", 0, "c1 \\u009b \\u0080 \xc2\xa0" },
	{ "\xe2\x80\xae\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8e"
	  "\xe2\x80\x8f\xd8\x9c", 0,
	  "\\u202e\\u202a\\u2066\\u2069\\u200e\\u200f\\u061c" },
	{ "\xe2\x80\xaf ok", 0, "\xe2\x80\xaf ok" },	/* U+202F is text */
	{ "raw \x9b and \xff\xc3", 0, "raw \\x9b and \\xff\\xc3" },
};

static void test_escape(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		strbuf_reset(&sb);
		format_escape(&sb, cases[i].in, cases[i].flags);
		if (strcmp(sb.buf, cases[i].out))
			fail_msg("case %zu: got '%s', want '%s'", i, sb.buf,
				 cases[i].out);
	}
	assert_string_equal(format_safe(&sb, NULL), "");
	assert_string_equal(format_safe(&sb, "\033"), "\\e");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

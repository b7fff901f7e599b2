/* strbuf: growth, formatting, the size cap, trimming */
#include "unit.h"
#include "strbuf.h"

static void test_add(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	(void)state;
	assert_non_null(sb.buf);
	assert_string_equal(sb.buf, "");
	for (i = 0; i < 1000; i++)
		assert_int_equal(strbuf_addf(&sb, "%d,", i), 0);
	assert_int_equal(sb.len, strlen(sb.buf));
	assert_memory_equal(sb.buf, "0,1,2,", 6);
	strbuf_addch(&sb, 'x');
	assert_int_equal(sb.buf[sb.len - 1], 'x');
	assert_int_equal(sb.buf[sb.len], '\0');
	strbuf_release(&sb);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.buf, "");
}

static void test_max(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	sb.max = 8;
	assert_int_equal(strbuf_addstr(&sb, "12345678"), 0);
	assert_int_equal(strbuf_addch(&sb, '9'), -1);
	assert_int_equal(strbuf_addf(&sb, "%s", "more"), -1);
	assert_string_equal(sb.buf, "12345678");
	strbuf_release(&sb);
}

static void test_trim_detach(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len;
	char *s;

	(void)state;
	strbuf_addstr(&sb, "  \thello \n\n");
	strbuf_trim(&sb);
	assert_string_equal(sb.buf, "hello");
	s = strbuf_detach(&sb, &len);
	assert_int_equal(len, 5);
	assert_string_equal(s, "hello");
	assert_string_equal(sb.buf, "");
	free(s);
	s = strbuf_detach(&sb, NULL);	/* an empty buffer detaches too */
	assert_string_equal(s, "");
	free(s);
}

static void test_read_file(void **state)
{
	char path[] = "/tmp/t-strbuf-XXXXXX";
	struct strbuf sb = STRBUF_INIT;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc\ndef", 7), 7);
	close(fd);
	assert_int_equal(strbuf_read_file(&sb, path, 0), 7);
	assert_string_equal(sb.buf, "abc\ndef");
	sb.max = 3;
	assert_int_equal(strbuf_read_file(&sb, path, 0), -1);
	sb.max = 7;	/* exactly the size: fits */
	assert_int_equal(strbuf_read_file(&sb, path, 0), 7);
	assert_string_equal(sb.buf, "abc\ndef");
	sb.max = 4096;	/* a cap far above the size, a small hint */
	assert_int_equal(strbuf_read_file(&sb, path, 2), 7);
	assert_string_equal(sb.buf, "abc\ndef");
	unlink(path);
	assert_int_equal(strbuf_read_file(&sb, path, 0), -1);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_max),
		cmocka_unit_test(test_trim_detach),
		cmocka_unit_test(test_read_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

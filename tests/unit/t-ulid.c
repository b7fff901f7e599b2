/* ulid: encoding, parsing, and monotonic generation with a fixed clock */
#include "unit.h"
#include "ulid.h"

static uint64_t fixed_ms;
static unsigned rand_calls;

static uint64_t test_clock(void *payload)
{
	(void)payload;
	return fixed_ms;
}

static int test_random(uint8_t *buf, size_t len, void *payload)
{
	(void)payload;
	rand_calls++;
	memset(buf, 0x11 * rand_calls, len);
	return 0;
}

static void test_spec_vector(void **state)
{
	/* time part of the spec's example: 1469918176385 -> 01ARYZ6S41 */
	struct ulid id;
	char s[ULID_LEN + 1];

	(void)state;
	memset(&id, 0, sizeof(id));
	fixed_ms = 1469918176385ULL;
	id.b[0] = (fixed_ms >> 40) & 0xff;
	id.b[1] = (fixed_ms >> 32) & 0xff;
	id.b[2] = (fixed_ms >> 24) & 0xff;
	id.b[3] = (fixed_ms >> 16) & 0xff;
	id.b[4] = (fixed_ms >> 8) & 0xff;
	id.b[5] = fixed_ms & 0xff;
	ulid_format(&id, s);
	assert_int_equal(strlen(s), ULID_LEN);
	assert_memory_equal(s, "01ARYZ6S41", 10);
	assert_string_equal(s + 10, "0000000000000000");
	assert_int_equal(ulid_time_ms(&id), 1469918176385ULL);
}

static void test_round_trip(void **state)
{
	struct ulid_gen gen = ULID_GEN_INIT;
	struct ulid a, b;
	char s[ULID_LEN + 1];
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		assert_int_equal(ulid_next(&gen, &a), 0);
		ulid_format(&a, s);
		assert_int_equal(ulid_parse(s, strlen(s), &b), 0);
		assert_int_equal(ulid_cmp(&a, &b), 0);
	}
}

static void test_parse_rejects(void **state)
{
	struct ulid id;

	(void)state;
	assert_int_equal(ulid_parse("01ARYZ6S41", 10, &id), THRUM_EINVALID);
	assert_int_equal(ulid_parse("01ARYZ6S41TSV4RRFFQ69G5FA!", 26, &id),
			 THRUM_EINVALID);
	assert_int_equal(ulid_parse("01ARYZ6S41TSV4RRFFQ69G5FAU", 26, &id),
			 THRUM_EINVALID);	/* U is not Crockford */
	/* 8 as the first char would need a 131st bit */
	assert_int_equal(ulid_parse("81ARYZ6S41TSV4RRFFQ69G5FAV", 26, &id),
			 THRUM_EINVALID);
	assert_int_equal(ulid_parse("7ZZZZZZZZZZZZZZZZZZZZZZZZZ", 26, &id), 0);
}

static void test_parse_lenient_alphabet(void **state)
{
	struct ulid a, b;

	(void)state;
	assert_int_equal(ulid_parse("01arYz6s41tsv4rrffq69g5fav", 26, &a), 0);
	assert_int_equal(ulid_parse("01ARYZ6S41TSV4RRFFQ69G5FAV", 26, &b), 0);
	assert_int_equal(ulid_cmp(&a, &b), 0);
	assert_int_equal(ulid_parse("O1ARYZ6S4ITSV4RRFFQ69G5FAV", 26, &a), 0);
	assert_int_equal(ulid_parse("01ARYZ6S41TSV4RRFFQ69G5FAV", 26, &b), 0);
	assert_int_equal(ulid_cmp(&a, &b), 0);
}

static void test_monotonic_same_ms(void **state)
{
	struct ulid_gen gen = ULID_GEN_INIT;
	struct ulid prev, cur;
	char ps[ULID_LEN + 1], cs[ULID_LEN + 1];
	int i;

	(void)state;
	gen.clock = test_clock;
	gen.random = test_random;
	fixed_ms = 1700000000000ULL;
	rand_calls = 0;
	assert_int_equal(ulid_next(&gen, &prev), 0);
	for (i = 0; i < 10000; i++) {
		assert_int_equal(ulid_next(&gen, &cur), 0);
		assert_true(ulid_cmp(&prev, &cur) < 0);
		ulid_format(&prev, ps);
		ulid_format(&cur, cs);
		assert_true(strcmp(ps, cs) < 0);	/* text order too */
		assert_int_equal(ulid_time_ms(&cur), fixed_ms);
		prev = cur;
	}
	assert_int_equal(rand_calls, 1);	/* one draw, then +1 */
}

static void test_clock_backwards(void **state)
{
	struct ulid_gen gen = ULID_GEN_INIT;
	struct ulid a, b;

	(void)state;
	gen.clock = test_clock;
	gen.random = test_random;
	fixed_ms = 1700000000500ULL;
	assert_int_equal(ulid_next(&gen, &a), 0);
	fixed_ms -= 400;
	assert_int_equal(ulid_next(&gen, &b), 0);
	assert_true(ulid_cmp(&a, &b) < 0);
	fixed_ms += 1000;
	assert_int_equal(ulid_next(&gen, &b), 0);
	assert_int_equal(ulid_time_ms(&b), fixed_ms);
}

static void test_new_id(void **state)
{
	char *a = ulid_new_id("msg_"), *b = ulid_new_id("msg_");

	(void)state;
	assert_non_null(a);
	assert_int_equal(strlen(a), 4 + ULID_LEN);
	assert_memory_equal(a, "msg_", 4);
	assert_true(strcmp(a, b) < 0);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_vector),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_lenient_alphabet),
		cmocka_unit_test(test_monotonic_same_ms),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_new_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * t-parse-ahead: the lines parsed on the second thread are the lines a
 * plain loop of event_line_hash() and event_parse() gives, in order and
 * with the same results (good events, bad lines, blank lines skipped,
 * a last line without its newline, signed lines good and tampered, each
 * verified), across many batches taken by several threads, and buffer
 * after buffer, each ended by its NULL; stopping early frees everything
 * (the sanitizer build checks the leaks).
 */
#include "unit.h"
#include "unit-scratch.h"
#include "event.h"
#include "parse-ahead.h"
#include "sign.h"
#include "strbuf.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static struct sign_key key;

/* message i, signed with key; tampered: one byte of it changed after */
static void add_signed(struct strbuf *sb, int i, int tampered)
{
	struct strbuf line = STRBUF_INIT;
	struct event ev = EVENT_INIT;
	const char *why = NULL;
	char *p;

	strbuf_addf(&line, "{\"agent_id\":\"bob\",\"body\":"
		    "{\"content\":\"s%d\",\"format\":\"markdown\"},"
		    "\"event_id\":\"evt_01JKM4T2YQ8M3E5X6Y%08d\","
		    "\"message_id\":\"msg_01JKM4T2YQ8M3E5X6Y%08d\","
		    "\"timestamp\":\"2026-02-03T10:00:00Z\","
		    "\"type\":\"message.create\",\"v\":1}", i, i, i);
	assert_int_equal(event_parse(&ev, line.buf, line.len, 0, &why), 0);
	strbuf_reset(&line);
	assert_int_equal(event_serialize_signed(&ev, &line, &key), 0);
	if (tampered) {
		p = strstr(line.buf, "\"s");
		assert_non_null(p);
		p[1] = 't';
	}
	strbuf_addbuf(sb, &line);
	strbuf_addch(sb, '\n');
	event_release(&ev);
	strbuf_release(&line);
}

/* a buffer of about n lines of every kind */
static void make_buffer(struct strbuf *sb, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		switch (unit_rand(&rng) % 10) {
		case 0:
			strbuf_addstr(sb, "\n");	/* blank */
			break;
		case 1:
			strbuf_addstr(sb, "\r\n");	/* blank, CRLF */
			break;
		case 2:
			strbuf_addf(sb, "{\"not\": json %d\n", i);
			break;
		case 3:
			strbuf_addf(sb, "{\"type\":\"message.create\"}\n");
			break;
		case 4:
		case 5:
			add_signed(sb, i, !(unit_rand(&rng) % 3));
			break;
		default:
			strbuf_addf(sb, "{\"agent_id\":\"alice\",\"body\":"
				    "{\"content\":\"m%d\",\"format\":"
				    "\"markdown\"},\"event_id\":"
				    "\"evt_01JKM4T2YQ8M3E5X6Z%08d\","
				    "\"message_id\":"
				    "\"msg_01JKM4T2YQ8M3E5X6Z%08d\","
				    "\"timestamp\":\"2026-02-03T10:00:00Z\","
				    "\"type\":\"message.create\",\"v\":1}\n",
				    i, i, i);
			break;
		}
	}
}

/*
 * the plain loop's view of buf, checked against what pa gives back
 * until the NULL that ends buf
 */
static void check_buffer(struct parse_ahead *pa, const char *buf, size_t len)
{
	const char *line = buf, *end = buf + len;
	struct parsed_line *pl;
	size_t good = 0, signed_good = 0, signed_bad = 0;

	while (line < end) {
		const char *nl = memchr(line, '\n', end - line);
		size_t n = (nl ? nl : end) - line;
		struct event ev = EVENT_INIT;
		const char *why = NULL;
		int rc;

		if (!n || (n == 1 && line[0] == '\r')) {
			line = nl ? nl + 1 : end;
			continue;
		}
		rc = event_parse(&ev, line, n, EVENT_PARSE_VERIFY, &why);
		pl = parse_ahead_next(pa);
		assert_non_null(pl);
		assert_ptr_equal(pl->line, line);
		assert_int_equal(pl->len, n);
		assert_true(pl->hash == event_line_hash(line, n));
		assert_int_equal(pl->rc, rc);
		if (rc) {
			assert_string_equal(pl->why, why);
		} else {
			assert_string_equal(pl->ev.event_id, ev.event_id);
			assert_string_equal(pl->ev.body_content,
					    ev.body_content);
			assert_true(pl->ev.ts_ns == ev.ts_ns);
			assert_int_equal(pl->ev.sig_state, ev.sig_state);
			if (ev.signer)
				assert_string_equal(pl->ev.signer, ev.signer);
			else
				assert_null(pl->ev.signer);
			good++;
			signed_good += ev.sig_state == EVENT_SIG_GOOD;
			signed_bad += ev.sig_state == EVENT_SIG_BAD;
		}
		event_release(&ev);
		line = nl ? nl + 1 : end;
	}
	assert_null(parse_ahead_next(pa));
	/* a buffer of many lines holds both kinds of signed line */
	if (len > 100000) {
		assert_true(signed_good > 0);
		assert_true(signed_bad > 0);
	}
}

static void check_same(const char *buf, size_t len)
{
	struct parse_ahead *pa = parse_ahead_start(buf, len);

	check_buffer(pa, buf, len);
	/* and nothing after the one buffer */
	assert_null(parse_ahead_next(pa));
	parse_ahead_finish(pa);
}

static void same_lines_as_a_loop(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(sign_keygen(&key), 0);
	/* more lines than the ring holds: the thread waits for room */
	make_buffer(&sb, 6000);
	check_same(sb.buf, sb.len);
	/* the last line without its newline */
	strbuf_setlen(&sb, sb.len - 1);
	check_same(sb.buf, sb.len);
	check_same(sb.buf, 0);
	strbuf_release(&sb);
}

/*
 * Buffers added one after another, some while the ones before are
 * taken (the threads wait for them), empty ones and lists of lines
 * among them: each comes back whole, in order, then its NULL.
 */
static void several_buffers(void **state)
{
	struct strbuf big = STRBUF_INIT, small = STRBUF_INIT;
	struct parse_ahead *pa = parse_ahead_open();
	struct line_span v[3];
	struct parsed_line *pl;
	const char *nl;
	int i;

	assert_int_equal(sign_keygen(&key), 0);
	make_buffer(&big, 3000);
	make_buffer(&small, 40);
	while (!(nl = strchr(small.buf, '{')))
		make_buffer(&small, 40);
	parse_ahead_add(pa, big.buf, big.len);
	parse_ahead_add(pa, small.buf, 0);
	check_buffer(pa, big.buf, big.len);
	/* the empty one: its NULL at once */
	check_buffer(pa, small.buf, 0);
	/* nothing added: nothing waited for */
	assert_null(parse_ahead_next(pa));
	parse_ahead_add(pa, small.buf, small.len);
	parse_ahead_add(pa, big.buf, big.len);
	parse_ahead_add_lines(pa, v, 0, 0);
	check_buffer(pa, small.buf, small.len);
	check_buffer(pa, big.buf, big.len);
	assert_null(parse_ahead_next(pa));
	/* a line three times, as a list of lines */
	for (i = 0; i < 3; i++) {
		v[i].line = nl;
		v[i].len = strchr(nl, '\n') - nl;
	}
	parse_ahead_add_lines(pa, v, 3, 3 * (v[0].len + 1));
	for (i = 0; i < 3; i++) {
		pl = parse_ahead_next(pa);
		assert_non_null(pl);
		assert_ptr_equal(pl->line, nl);
		assert_int_equal(pl->len, v[0].len);
	}
	assert_null(parse_ahead_next(pa));
	assert_null(parse_ahead_next(pa));
	/* stopped with buffers queued and not taken */
	parse_ahead_add(pa, big.buf, big.len);
	parse_ahead_add(pa, small.buf, small.len);
	assert_non_null(parse_ahead_next(pa));
	parse_ahead_finish(pa);
	strbuf_release(&big);
	strbuf_release(&small);
}

static void stopping_early(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct parse_ahead *pa;
	int i;

	assert_int_equal(sign_keygen(&key), 0);
	make_buffer(&sb, 6000);
	/* not one line taken, then a few: the thread is stopped either way */
	parse_ahead_finish(parse_ahead_start(sb.buf, sb.len));
	pa = parse_ahead_start(sb.buf, sb.len);
	for (i = 0; i < 100; i++)
		assert_non_null(parse_ahead_next(pa));
	parse_ahead_finish(pa);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_lines_as_a_loop),
		cmocka_unit_test(several_buffers),
		cmocka_unit_test(stopping_early),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

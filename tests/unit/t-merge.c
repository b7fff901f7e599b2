/*
 * merge: symmetry, idempotence, convergence and no loss, over generated
 * logs with random interleavings, duplicates, clock skew, the original's
 * trimmed timestamps, and torn and garbage lines.
 */
#include "unit.h"
#include "unit-scratch.h"
#include "event.h"
#include "merge.h"
#include "strbuf.h"

#define MAX_LINE (1024 * 1024)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
#define rnd() unit_rand(&rng)

static const char crock[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* a session end (the id ends in last) as the original writes it */
#define SESSION_END(last, session, timestamp)				\
	"{\"event_id\":\"evt_01JKM4T2YQ8M3E5X6Z7A9B0C1" last "\","		\
	"\"session_id\":\"" session "\",\"timestamp\":\"" timestamp "\","	\
	"\"type\":\"agent.session.end\"}\n"

/* one event line; the timestamp in one of the shapes writers use */
static void event_line(struct strbuf *sb, unsigned n)
{
	char id[27];
	unsigned sec = (unsigned)(rnd() % 50), frac = (unsigned)(rnd() % 1000);
	int i;

	for (i = 0; i < 26; i++)
		id[i] = crock[i < 20 ? 1 : (n >> ((25 - i) * 5)) & 31];
	id[0] = '0';
	id[26] = '\0';
	strbuf_addf(sb, "{\"event_id\":\"evt_%s\",\"session_id\":\"s\","
		    "\"timestamp\":", id);
	switch (rnd() % 3) {
	case 0:		/* ours: nine digits */
		strbuf_addf(sb, "\"2026-02-03T10:00:%02u.%03u000000Z\"", sec,
			    frac);
		break;
	case 1:		/* the original: trimmed */
		strbuf_addf(sb, "\"2026-02-03T10:00:%02uZ\"", sec);
		break;
	default:
		strbuf_addf(sb, "\"2026-02-03T10:00:%02u.5Z\"", sec);
		break;
	}
	strbuf_addf(sb, ",\"type\":\"agent.session.end\",\"v\":1}\n");
}

static void junk_line(struct strbuf *sb)
{
	switch (rnd() % 3) {
	case 0:
		strbuf_addstr(sb, "garbage line\n");
		break;
	case 1:
		strbuf_addstr(sb, "{\"torn\":\n");
		break;
	default:
		strbuf_addf(sb, "not json %u\n", (unsigned)(rnd() % 4));
		break;
	}
}

/* a random log: a shared base, then this side's own lines */
static void make_side(struct strbuf *sb, const struct strbuf *base,
		      unsigned first_id, unsigned n)
{
	unsigned i;

	strbuf_addbuf(sb, base);
	for (i = 0; i < n; i++) {
		unsigned r = (unsigned)(rnd() % 10);

		if (r < 7)
			event_line(sb, first_id + i);
		else if (r < 8)
			junk_line(sb);
		else if (r < 9)	/* an event the other side has too */
			event_line(sb, 1000000 + (unsigned)(rnd() % 5));
		else		/* a duplicate of a base line */
			event_line(sb, (unsigned)(rnd() % 20));
	}
}

static void merge(const struct strbuf *a, const struct strbuf *b,
		  struct strbuf *out)
{
	strbuf_reset(out);
	assert_int_equal(merge_file(a->buf, a->len, b->buf, b->len, MAX_LINE,
				    out, NULL, NULL), 0);
}

/* every non-blank line of x is a line of y */
static void assert_lines_in(const struct strbuf *x, const struct strbuf *y)
{
	const char *p = x->buf, *end = x->buf + x->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct strbuf needle = STRBUF_INIT;

		if (n) {
			strbuf_addch(&needle, '\n');
			strbuf_add(&needle, p, n);
			strbuf_addch(&needle, '\n');
			if (!memmem(y->buf, y->len, needle.buf + 1,
				    needle.len - 1) ||
			    (strncmp(y->buf, needle.buf + 1, needle.len - 1) &&
			     !memmem(y->buf, y->len, needle.buf, needle.len)))
				fail_msg("line lost: %.*s", (int)n, p);
		}
		strbuf_release(&needle);
		p += n + 1;
	}
}

static void test_properties(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 200; round++) {
		struct strbuf base = STRBUF_INIT, a = STRBUF_INIT,
			      b = STRBUF_INIT, ab = STRBUF_INIT,
			      ba = STRBUF_INIT, again = STRBUF_INIT;
		unsigned i, nbase = (unsigned)(rnd() % 20);

		for (i = 0; i < nbase; i++)
			event_line(&base, i);
		make_side(&a, &base, 1000 + round * 100, rnd() % 15);
		make_side(&b, &base, 5000 + round * 100, rnd() % 15);

		merge(&a, &b, &ab);
		merge(&b, &a, &ba);
		assert_int_equal(ab.len, ba.len);
		assert_memory_equal(ab.buf, ba.buf, ab.len);	/* symmetric */
		assert_lines_in(&a, &ab);			/* no loss */
		assert_lines_in(&b, &ab);
		assert_memory_equal(ab.buf, base.buf, base.len);	/* prefix */

		merge(&ab, &b, &again);				/* idempotent */
		assert_int_equal(again.len, ab.len);
		assert_memory_equal(again.buf, ab.buf, ab.len);
		merge(&ab, &a, &again);
		assert_memory_equal(again.buf, ab.buf, ab.len);
		merge(&ab, &ab, &again);
		assert_memory_equal(again.buf, ab.buf, ab.len);

		strbuf_release(&base);
		strbuf_release(&a);
		strbuf_release(&b);
		strbuf_release(&ab);
		strbuf_release(&ba);
		strbuf_release(&again);
	}
}

static void test_convergence(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 50; round++) {
		struct strbuf base = STRBUF_INIT, r[4], tmp = STRBUF_INIT;
		int i, step;

		for (i = 0; i < 5; i++)
			event_line(&base, i);
		for (i = 0; i < 4; i++) {
			strbuf_init(&r[i], 0);
			make_side(&r[i], &base, 20000 + i * 1000 + round * 10,
				  rnd() % 12);
		}
		/* random pairwise exchanges, then a full ring twice */
		for (step = 0; step < 20; step++) {
			int x = (int)(rnd() % 4), y = (int)(rnd() % 4);

			merge(&r[x], &r[y], &tmp);
			strbuf_reset(&r[x]);
			strbuf_addbuf(&r[x], &tmp);
		}
		for (step = 0; step < 8; step++) {
			int x = step % 4, y = (step + 1) % 4;

			merge(&r[y], &r[x], &tmp);
			strbuf_reset(&r[y]);
			strbuf_addbuf(&r[y], &tmp);
		}
		for (i = 1; i < 4; i++) {
			assert_int_equal(r[i].len, r[0].len);
			assert_memory_equal(r[i].buf, r[0].buf, r[0].len);
		}
		for (i = 0; i < 4; i++)
			strbuf_release(&r[i]);
		strbuf_release(&base);
		strbuf_release(&tmp);
	}
}

/* merge the lines a and b into out: both kept, one after the other */
static void merge_both_kept(const char *a, const char *b, struct strbuf *out,
			    struct merge_stats *st)
{
	assert_int_equal(merge_file(a, strlen(a), b, strlen(b), MAX_LINE, out,
				    NULL, st), 0);
	assert_int_equal(out->len, strlen(a) + strlen(b));
}

static void test_order_by_instant(void **state)
{
	static const char a[] = SESSION_END("B", "s", "2026-02-03T10:00:00.1Z");
	static const char b[] = SESSION_END("C", "s", "2026-02-03T10:00:00Z");
	struct strbuf out = STRBUF_INIT;

	(void)state;
	/* as strings :00.1Z < :00Z; as instants :00Z comes first */
	merge_both_kept(a, b, &out, NULL);
	assert_memory_equal(out.buf, b, strlen(b));
	strbuf_release(&out);
}

/* into the empty big: an object of 2000 bytes on one line, with its newline */
static void big_line(struct strbuf *big)
{
	strbuf_addch(big, '{');
	while (big->len < 2000)
		strbuf_addch(big, ' ');
	strbuf_addstr(big, "}\n");
}

static void test_new_lines_and_stats(void **state)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, out = STRBUF_INIT,
		      fresh = STRBUF_INIT, big = STRBUF_INIT;
	struct merge_stats st;

	(void)state;
	event_line(&a, 1);
	strbuf_addbuf(&b, &a);
	event_line(&a, 2);
	event_line(&b, 3);
	strbuf_addstr(&b, "remote garbage\n");
	big_line(&big);
	strbuf_addbuf(&b, &big);
	assert_int_equal(merge_file(a.buf, a.len, b.buf, b.len, 1000, &out,
				    &fresh, &st), 0);
	assert_int_equal(st.added, 2);		/* event 3 and the garbage */
	assert_int_equal(st.skipped, 2);	/* the garbage and the big */
	assert_int_equal(st.dropped, 1);
	assert_non_null(memmem(fresh.buf, fresh.len, "remote garbage\n", 15));
	assert_null(memmem(out.buf, out.len, big.buf, big.len));
	assert_null(memmem(fresh.buf, fresh.len, "evt_0111111111111111111112",
			   26));
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&out);
	strbuf_release(&fresh);
	strbuf_release(&big);
}

/* a file new to us: what is dropped is counted, and nothing is parsed */
static void test_one_sided_skipped_each_line(void **state)
{
	struct strbuf b = STRBUF_INIT, out = STRBUF_INIT, big = STRBUF_INIT;
	struct merge_stats st;

	(void)state;
	event_line(&b, 1);
	strbuf_addstr(&b, "x\nx\nx\n");
	big_line(&big);
	strbuf_addbuf(&b, &big);
	assert_int_equal(merge_file("", 0, b.buf, b.len, 1000, &out, NULL,
				    &st), 0);
	assert_int_equal(st.added, 4);
	/* the big only: a one-sided merge parses nothing */
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.dropped, 1);
	strbuf_release(&b);
	strbuf_release(&out);
	strbuf_release(&big);
}

/*
 * merge_is_remote(r) with a cap of 8 is is_remote; when it is, merging
 * r into nothing gives exactly r, counted the same
 */
static void check_is_remote(const char *r, int is_remote)
{
	struct strbuf out = STRBUF_INIT;
	struct merge_stats st, want;

	memset(&st, 0xff, sizeof(st));
	assert_int_equal(merge_is_remote(r, strlen(r), 8, &st), is_remote);
	merge_file("", 0, r, strlen(r), 8, &out, NULL, &want);
	if (is_remote) {
		assert_int_equal(out.len, strlen(r));
		assert_memory_equal(out.buf, r, out.len);
		assert_int_equal(st.added, want.added);
		assert_int_equal(st.skipped, want.skipped);
		assert_int_equal(st.dropped, 0);
	}
	strbuf_release(&out);
}

/* when a new file may be taken as the remote sent it, and only then */
static void test_is_remote(void **state)
{
	static const char *const taken[] = { "x\n", "x\ny\n" };
	static const char *const not_taken[] = {
		"",
		"x\ny",		/* the last line not ended */
		"x\n\ny\n",		/* a blank line */
		"\n",
		"x\n0123456789\n",	/* over the cap of 8 */
	};
	struct strbuf b = STRBUF_INIT;
	struct merge_stats st;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(taken); i++)
		check_is_remote(taken[i], 1);
	for (i = 0; i < ARRAY_SIZE(not_taken); i++)
		check_is_remote(not_taken[i], 0);
	event_line(&b, 1);
	strbuf_addstr(&b, "garbage\n");
	assert_int_equal(merge_is_remote(b.buf, b.len, 1000, &st), 1);
	assert_int_equal(st.added, 2);
	assert_int_equal(st.skipped, 0);
	strbuf_release(&b);
}

static void test_conflict_counted_both_kept(void **state)
{
	static const char a[] = SESSION_END("B", "s", "2026-02-03T10:00:00Z");
	static const char b[] = SESSION_END("B", "FORGED", "2026-02-03T10:00:00Z");
	struct strbuf out = STRBUF_INIT;
	struct merge_stats st;

	(void)state;
	merge_both_kept(a, b, &out, &st);
	assert_int_equal(st.conflicts, 1);
	strbuf_release(&out);
}

static void test_torn_last_line(void **state)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, out = STRBUF_INIT;

	(void)state;
	event_line(&a, 7);
	strbuf_addbuf(&b, &a);
	strbuf_addstr(&a, "{\"torn");	/* no newline */
	assert_int_equal(merge_file(a.buf, a.len, b.buf, b.len, MAX_LINE, &out,
				    NULL, NULL), 0);
	assert_int_equal(out.buf[out.len - 1], '\n');
	assert_non_null(memmem(out.buf, out.len, "{\"torn\n", 7));
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&out);
}

/*
 * Found by fuzz-merge: blank lines were kept in a prefix but dropped from
 * a side taken whole, so merging the result with its input again
 * reordered it.
 */
static void test_blank_lines_idempotent(void **state)
{
	struct strbuf a = STRBUF_INIT, m = STRBUF_INIT, again = STRBUF_INIT;

	(void)state;
	event_line(&a, 1);
	strbuf_addstr(&a, "\n\n\n");
	event_line(&a, 2);
	strbuf_addstr(&a, "garbage\n\n");
	event_line(&a, 0);
	assert_int_equal(merge_file(a.buf, a.len, "", 0, MAX_LINE, &m, NULL,
				    NULL), 0);
	assert_null(strstr(m.buf, "\n\n"));
	assert_int_equal(merge_file(m.buf, m.len, a.buf, a.len, MAX_LINE,
				    &again, NULL, NULL), 0);
	assert_int_equal(again.len, m.len);
	assert_memory_equal(again.buf, m.buf, m.len);
	strbuf_release(&a);
	strbuf_release(&m);
	strbuf_release(&again);
}

/*
 * A remote line that the common prefix holds already is not added again,
 * wherever it comes in the remote: local A with remote A,B,A gives A,B
 * (the prefix A, then the one candidate B).
 */
static void test_prefix_line_not_repeated(void **state)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, line_b = STRBUF_INIT,
		      want = STRBUF_INIT, out = STRBUF_INIT,
		      fresh = STRBUF_INIT;
	struct merge_stats st;

	(void)state;
	event_line(&a, 1);
	event_line(&line_b, 2);
	strbuf_addbuf(&b, &a);
	strbuf_addbuf(&b, &line_b);
	strbuf_addbuf(&b, &a);
	strbuf_addbuf(&want, &a);
	strbuf_addbuf(&want, &line_b);
	assert_int_equal(merge_file(a.buf, a.len, b.buf, b.len, MAX_LINE, &out,
				    &fresh, &st), 0);
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.buf, want.buf, want.len);
	assert_int_equal(fresh.len, line_b.len);
	assert_memory_equal(fresh.buf, line_b.buf, line_b.len);
	assert_int_equal(st.added, 1);
	assert_int_equal(st.conflicts, 0);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&line_b);
	strbuf_release(&want);
	strbuf_release(&out);
	strbuf_release(&fresh);
}

/*
 * The spans of a merge's new lines point at exactly those lines in its
 * output, in order, adjacent ones joined: what the projection reads back.
 */
static void test_spans_of_new_lines(void **state)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, out = STRBUF_INIT,
		      fresh = STRBUF_INIT, got = STRBUF_INIT;
	struct log_changes changes = LOG_CHANGES_INIT;
	struct log_change *c;
	size_t i;

	(void)state;
	event_line(&a, 1);
	strbuf_addbuf(&b, &a);
	event_line(&a, 2);
	event_line(&a, 5);
	event_line(&b, 3);
	event_line(&b, 4);
	event_line(&b, 6);
	assert_int_equal(merge_file(a.buf, a.len, b.buf, b.len, MAX_LINE, &out,
				    &fresh, NULL), 0);
	c = log_changes_add(&changes, "messages/x.jsonl");
	merge_new_spans(a.buf, a.len, out.buf, out.len, c);
	/* three new lines (in any order of instants): one to three runs */
	assert_in_range(c->nr, 1, 3);
	for (i = 0; i < c->nr; i++) {
		const struct log_span *sp = &c->spans[i];

		/* whole lines, never two runs that touch */
		assert_true(!sp->off || out.buf[sp->off - 1] == '\n');
		assert_int_equal(out.buf[sp->off + sp->len - 1], '\n');
		if (i)
			assert_true(c->spans[i - 1].off + c->spans[i - 1].len <
				    sp->off);
		strbuf_add(&got, out.buf + sp->off, sp->len);
	}
	assert_int_equal(got.len, fresh.len);
	assert_memory_equal(got.buf, fresh.buf, fresh.len);
	log_changes_release(&changes);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&out);
	strbuf_release(&fresh);
	strbuf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_convergence),
		cmocka_unit_test(test_order_by_instant),
		cmocka_unit_test(test_new_lines_and_stats),
		cmocka_unit_test(test_one_sided_skipped_each_line),
		cmocka_unit_test(test_is_remote),
		cmocka_unit_test(test_conflict_counted_both_kept),
		cmocka_unit_test(test_torn_last_line),
		cmocka_unit_test(test_blank_lines_idempotent),
		cmocka_unit_test(test_prefix_line_not_repeated),
		cmocka_unit_test(test_spans_of_new_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * projection-search: the user's words become an FTS5 query that is never
 * syntax; the index follows the current content (edits replace, deletes
 * remove, a second create that wins replaces, non-authors count for
 * nothing) in every order of arrival, and stays consistent with it; a
 * message row removed takes its text out of the index.
 */
#include "unit.h"
#include "unit-scratch.h"
#include "date.h"
#include "event.h"
#include "projection.h"
#include "projection-internal.h"
#include "strbuf.h"
#include "strvec.h"
#include "ulid.h"

static char tmpdir[] = "/tmp/t-projection-search-XXXXXX";
static int64_t base_ns = 1770112800000000000LL;	/* THRUM_TEST_NOW */
#define TEST_NOW "2026-02-03T10:00:00Z"

static void test_terms(void **state)
{
	static const char *const table[][2] = {
		{ "login", "\"login\"" },
		{ "  login   rework\t", "\"login\" \"rework\"" },
		{ "foo-bar", "\"foo-bar\"" },
		{ "\"", "\"\"\"\"" },
		{ "say \"hi\"", "\"say\" \"\"\"hi\"\"\"" },
		{ "a OR b", "\"a\" \"OR\" \"b\"" },
		{ "NEAR(x y)", "\"NEAR(x\" \"y)\"" },
		{ "col:x ^y", "\"col:x\" \"^y\"" },
		{ "rev*", "\"rev\"*" },
		{ "*", "\"*\"" },
		{ "a** b", "\"a*\"*" " \"b\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
	};
	static const char *const empty[] = { "", " ", "\t\n\r " };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(table); i++) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, "x:");	/* appended, not replaced */
		assert_int_equal(projection_search_terms(&sb, table[i][0]), 0);
		assert_string_equal(sb.buf + 2, table[i][1]);
		strbuf_release(&sb);
	}
	for (i = 0; i < ARRAY_SIZE(empty); i++) {
		struct strbuf sb = STRBUF_INIT;

		assert_int_equal(projection_search_terms(&sb, empty[i]),
				 THRUM_EINVALID);
		assert_int_equal(sb.len, 0);
		strbuf_release(&sb);
	}
}

static const char msg_a[] = "msg_01JKM4T2YQ8M3E5X6Z7A9B0C1A";
static const char msg_b[] = "msg_01JKM4T2YQ8M3E5X6Z7A9B0C1B";
static const char msg_c[] = "msg_01JKM4T2YQ8M3E5X6Z7A9B0C1C";

struct line {
	char *text;
	char *shard;
};

/* the history: creates, edits, deletes, forgeries of two messages */
static struct line lines[16];
static size_t nr_lines;

static void keep(enum event_type type, const char *msg, const char *agent,
		 const char *shard, const char *text, int64_t ms)
{
	struct strbuf sb = STRBUF_INIT;
	char ts[DATE_RFC3339_LEN + 1];
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.type_name = strdup(event_type_name(type));
	ev.event_id = ulid_new_id("evt_");
	ev.ts_ns = base_ns + ms * 1000000LL;
	date_format_rfc3339(ev.ts_ns, ts);
	ev.timestamp = strdup(ts);
	ev.v = 1;
	ev.message_id = strdup(msg);
	ev.agent_id = agent ? strdup(agent) : NULL;
	ev.body_content = text ? strdup(text) : NULL;
	if (type == EV_MESSAGE_CREATE)
		event_add_scope(&ev, "broadcast", "everyone");
	assert_int_equal(event_serialize(&ev, &sb, 0), 0);
	lines[nr_lines].text = strbuf_detach(&sb, NULL);
	lines[nr_lines].shard = strdup(shard);
	nr_lines++;
	event_release(&ev);
}

static void make_history(void)
{
	keep(EV_MESSAGE_CREATE, msg_a, "a1", "a1", "alpha common words", 1);
	keep(EV_MESSAGE_EDIT, msg_a, "a1", "a1", "beta common", 2);
	keep(EV_MESSAGE_EDIT, msg_a, "a1", "a1", "gamma common", 3);
	keep(EV_MESSAGE_EDIT, msg_a, "a2", "a2", "forged common", 4);
	/* b: the first create in its author's shard wins over an earlier one */
	keep(EV_MESSAGE_CREATE, msg_b, "a2", "a1", "planted common", 0);
	keep(EV_MESSAGE_CREATE, msg_b, "a2", "a2", "delta common", 5);
	/* a delete by someone else: no effect */
	keep(EV_MESSAGE_DELETE, msg_b, "a1", "a1", NULL, 6);
	/* c: edited, then deleted by its author */
	keep(EV_MESSAGE_CREATE, msg_c, "a3", "a3", "epsilon common", 7);
	keep(EV_MESSAGE_EDIT, msg_c, "a3", "a3", "zeta common", 8);
	keep(EV_MESSAGE_DELETE, msg_c, "a3", "a3", NULL, 9);
}

static void apply_all(struct projection *p, const size_t *order)
{
	size_t i;

	assert_int_equal(projection_begin(p), 0);
	for (i = 0; i < nr_lines; i++) {
		const struct line *l = &lines[order[i]];
		struct event ev;
		int r;

		assert_int_equal(event_parse(&ev, l->text, strlen(l->text), 0,
					     NULL), 0);
		r = projection_apply(p, &ev, l->shard,
				     event_line_hash(l->text, strlen(l->text)));
		assert_true(r == 1 || r == THRUM_ECONFLICT);
		event_release(&ev);
	}
	assert_int_equal(projection_commit(p), 0);
}

/* "id:snippet," for each hit of words, in order */
static char *hits(struct projection *p, const char *words)
{
	struct search_query q = { 0 };
	struct message_list l = MESSAGE_LIST_INIT;
	struct strvec snippets = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT;
	size_t i;

	q.words = words;
	q.all = 1;
	q.since_ns = INT64_MIN;
	q.open = "[";
	q.close = "]";
	assert_int_equal(projection_search(p, &q, &l, &snippets), 0);
	assert_int_equal(l.nr, snippets.nr);
	for (i = 0; i < l.nr; i++)
		strbuf_addf(&out, "%s:%s,", l.items[i].message_id + 27,
			    snippets.v[i]);
	message_list_release(&l);
	strvec_clear(&snippets);
	return strbuf_detach(&out, NULL);
}

static void expect_hits(struct projection *p, const char *words,
			const char *want)
{
	char *got = hits(p, words);

	assert_string_equal(got, want);
	free(got);
}

/*
 * How many rows the index itself holds for word, without the join to
 * messages that would hide a stale one.  (FTS5 3.40's integrity-check
 * does not compare an external-content index with its content.)
 */
static int index_hits(struct projection *p, const char *word)
{
	sqlite3_stmt *s = NULL;
	int n;

	assert_int_equal(sqlite3_prepare_v2(p->db, "SELECT count(*) FROM"
					    " search WHERE search MATCH ?",
					    -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, word, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* 50 orders of the lines (the first as written): the same answers */
static void test_any_order(void **state)
{
	uint64_t rng = 88172645463325252ULL;
	size_t order[16], i;
	char dir[256];
	int run;

	(void)state;
	for (run = 0; run < 50; run++) {
		struct projection *p;

		for (i = 0; i < nr_lines; i++)
			order[i] = i;
		for (i = nr_lines - 1; run && i > 0; i--) {
			size_t j = unit_rand(&rng) % (i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		snprintf(dir, sizeof(dir), "%s/%d", tmpdir, run);
		assert_int_equal(mkdir(dir, 0700), 0);
		assert_int_equal(projection_open(&p, dir), 0);
		apply_all(p, order);
		/* the index holds exactly the current text of each message */
		assert_int_equal(proj_exec(p, "INSERT INTO search(search)"
					   " VALUES('integrity-check')"), 0);
		assert_int_equal(index_hits(p, "common"), 2);
		assert_int_equal(index_hits(p, "gamma"), 1);
		assert_int_equal(index_hits(p, "delta"), 1);
		assert_int_equal(index_hits(p, "alpha OR beta OR forged OR"
					    " planted OR epsilon OR zeta"), 0);
		expect_hits(p, "common", "C1B:delta [common],"
			    "C1A:gamma [common],");
		expect_hits(p, "gamma", "C1A:[gamma] common,");
		expect_hits(p, "alpha", "");
		expect_hits(p, "beta", "");
		expect_hits(p, "forged", "");
		expect_hits(p, "planted", "");
		expect_hits(p, "epsilon", "");
		expect_hits(p, "zeta", "");
		projection_free(p);
	}
}

/* a message row removed (as a purge would): its text leaves the index */
static void test_row_removed(void **state)
{
	struct projection *p;
	size_t order[16], i;
	char dir[256];

	(void)state;
	for (i = 0; i < nr_lines; i++)
		order[i] = i;
	snprintf(dir, sizeof(dir), "%s/removed", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(projection_open(&p, dir), 0);
	apply_all(p, order);
	assert_int_equal(proj_exec(p, "DELETE FROM messages WHERE message_id"
				   " LIKE '%C1A'"), 0);
	assert_int_equal(proj_exec(p, "INSERT INTO search(search)"
				   " VALUES('integrity-check')"), 0);
	expect_hits(p, "common", "C1B:delta [common],");
	expect_hits(p, "gamma", "");
	assert_int_equal(index_hits(p, "gamma"), 0);
	assert_int_equal(index_hits(p, "common"), 1);
	projection_free(p);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir) || setenv("THRUM_TEST_NOW", TEST_NOW, 1))
		return -1;
	make_history();
	return 0;
}

static int teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nr_lines; i++) {
		free(lines[i].text);
		free(lines[i].shard);
	}
	unit_rm_rf(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_terms),
		cmocka_unit_test(test_any_order),
		cmocka_unit_test(test_row_removed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

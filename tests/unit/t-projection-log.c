/*
 * t-projection-log: projection_update() and what a merge reports
 * (src/projection-log.c).  The lines a merge brought are projected from
 * the spans it names, without reading the file again, when the
 * projection held exactly the file the merge read; otherwise the file is
 * read again, and nothing is lost either way.  A rebuild (parsed on a
 * second thread, messages refreshed once at the end) gives every table
 * exactly as catching up line by line does, signed events included: new
 * lines parsed and verified ahead in a catch-up (many of them), or one
 * by one (a few), with forgeries, a tampered line, a rotation and
 * repeats among them.
 */
#include "unit.h"
#include "unit-scratch.h"
#include "unit-tables.h"
#include "merge.h"
#include "projection.h"
#include "projection-internal.h"
#include "repo.h"
#include "sign.h"
#include "store.h"
#include "strbuf.h"

static char tmpdir[] = "/tmp/t-projection-log-XXXXXX";
static struct repo r;
static struct store s = STORE_INIT;
static struct projection *p;
static char *rel_path;	/* REL in the sync work tree */

#define REL "messages/alice.jsonl"

/* a message.create by alice, number n */
static void event(struct strbuf *sb, int n)
{
	strbuf_addf(sb, "{\"agent_id\":\"alice\",\"body\":{\"content\":"
		    "\"m%d\",\"format\":\"markdown\"},\"event_id\":"
		    "\"evt_01JKM4T2YQ8M3E5X6Z%08d\",\"message_id\":"
		    "\"msg_01JKM4T2YQ8M3E5X6Z%08d\",\"scopes\":[{\"type\":"
		    "\"broadcast\",\"value\":\"everyone\"}],\"timestamp\":"
		    "\"2026-02-03T10:00:%02dZ\",\"type\":\"message.create\","
		    "\"v\":1}\n", n, n, n, n);
}

static void file_id(const char *path, struct log_file_id *id)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	id->ino = (uint64_t)st.st_ino;
	id->size = (uint64_t)st.st_size;
	id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
		       st.st_mtim.tv_nsec;
}

/* replace REL as a merge does: a new file, renamed into place */
static void replace(const struct strbuf *content)
{
	char *tmp = xstrfmt("%s.new", rel_path);
	FILE *f = fopen(tmp, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(content->buf, 1, content->len, f),
			 content->len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, rel_path), 0);
	free(tmp);
}

/* what a merge reports of REL, to be filled */
static struct log_change *merge_report(struct log_changes *changes)
{
	struct log_change *c = log_changes_add(changes, REL);

	c->merged = 1;
	return c;
}

static long messages(void)
{
	struct projection_counts c;

	assert_int_equal(projection_counts(p, &c), 0);
	return c.messages;
}

/*
 * Local holds 1 and 3; the merge writes 1 2 3 4 and reports 2 and 4 as
 * new.  held: the projection had consumed the local file first.
 */
static void merge_2_and_4(int held, struct catch_up_stats *st)
{
	struct strbuf sb = STRBUF_INIT, line = STRBUF_INIT;
	struct log_changes changes = LOG_CHANGES_INIT;
	struct log_change *c;
	int n;

	event(&sb, 1);
	event(&sb, 3);
	replace(&sb);
	if (held) {
		assert_int_equal(projection_update(p, &s, NULL, st), 0);
		assert_int_equal(st->applied, 2);
	}
	c = merge_report(&changes);
	file_id(rel_path, &c->before);
	strbuf_reset(&sb);
	for (n = 1; n <= 4; n++) {
		strbuf_reset(&line);
		event(&line, n);
		if (!(n % 2))
			log_change_add_span(c, sb.len, line.len);
		strbuf_addbuf(&sb, &line);
	}
	replace(&sb);
	file_id(rel_path, &c->after);
	assert_int_equal(projection_update(p, &s, &changes, st), 0);
	log_changes_release(&changes);
	strbuf_release(&sb);
	strbuf_release(&line);
}

/*
 * held: the projection had consumed the file the merge read, so the two
 * new lines come from their spans and the file is not read from its
 * start; otherwise all four are read, from the start.
 */
static void merged_lines(void **state, int held)
{
	struct catch_up_stats st;

	merge_2_and_4(held, &st);
	assert_int_equal(st.applied, held ? 2 : 4);
	assert_int_equal(st.files_rescanned, held ? 0 : 1);
	assert_int_equal(messages(), 4);
	/* and it is consumed: nothing more to do */
	assert_int_equal(projection_update(p, &s, NULL, &st), 0);
	assert_int_equal(st.applied + st.files_rescanned, 0);
}

static void merged_lines_from_their_spans(void **state)
{
	merged_lines(state, 1);
}

static void merge_of_a_file_not_consumed_reads_it(void **state)
{
	merged_lines(state, 0);
}

static void appended_after_the_merge(void **state)
{
	struct log_changes changes = LOG_CHANGES_INIT;
	struct log_change *c = merge_report(&changes);
	struct strbuf sb = STRBUF_INIT;
	struct catch_up_stats st;
	int fd;

	/* a new file from the remote: all of it is new */
	event(&sb, 1);
	event(&sb, 2);
	log_change_add_span(c, 0, sb.len);
	replace(&sb);
	file_id(rel_path, &c->after);
	/* an append that came after the merge released the log lock */
	strbuf_reset(&sb);
	event(&sb, 3);
	fd = open(rel_path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, sb.buf, sb.len), (ssize_t)sb.len);
	close(fd);
	assert_int_equal(projection_update(p, &s, &changes, &st), 0);
	assert_int_equal(st.applied, 3);
	assert_int_equal(messages(), 3);
	log_changes_release(&changes);
	strbuf_release(&sb);
}

/*
 * Every row of every table of the projection as text, each table in
 * the order of all its columns: a new table is compared with the rest.
 */
static void dump_tables(struct strbuf *out)
{
	/* an FTS index's shadow tables differ by how it was filled: left out */
	unit_dump_tables(p->db, out);
}

/*
 * The tables as the catch-ups left them, then rebuilt from the log:
 * every row the same, unparseable lines that are no event, and holds
 * (unless NULL) among the rows.
 */
static void assert_rebuild_equals_catch_up(long unparseable,
					   const char *holds)
{
	struct strbuf inc = STRBUF_INIT, reb = STRBUF_INIT;
	struct catch_up_stats st;

	dump_tables(&inc);
	projection_free(p);
	p = NULL;
	assert_int_equal(projection_rebuild(&p, r.var_dir, &s, &st), 0);
	assert_int_equal(st.unparseable, unparseable);
	dump_tables(&reb);
	if (holds)
		assert_non_null(strstr(reb.buf, holds));
	assert_string_equal(inc.buf, reb.buf);
	strbuf_release(&inc);
	strbuf_release(&reb);
}

/* an edit (or, without text, a delete) of message n by who */
static void change(struct strbuf *sb, int n, int k, const char *who,
		   const char *text)
{
	strbuf_addf(sb, "{\"agent_id\":\"%s\",", who);
	if (text)
		strbuf_addf(sb, "\"body\":{\"content\":\"%s\",\"format\":"
			    "\"markdown\"},", text);
	strbuf_addf(sb, "\"event_id\":\"evt_01JKM4T2YQ8M3E5X7%c%08d\","
		    "\"message_id\":\"msg_01JKM4T2YQ8M3E5X6Z%08d\","
		    "\"timestamp\":\"2026-02-03T11:%02d:00Z\",\"type\":"
		    "\"message.%s\",\"v\":1}\n", text ? 'E' : 'D', n * 10 + k,
		    n, k, text ? "edit" : "delete");
}

static void rebuild_equals_catch_up(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct catch_up_stats st;
	int n;

	/* edits before their message, after it, by another; deletes */
	for (n = 1; n <= 59; n++) {
		if (n % 7 == 0)
			change(&sb, n, 1, "alice", "early edit");
		event(&sb, n);
		if (n % 5 == 0)
			change(&sb, n, 2, n % 10 ? "alice" : "mallory",
			       "edited");
		if (n % 11 == 0)
			change(&sb, n, 3, n % 22 ? "alice" : "mallory", NULL);
		if (n == 30)
			strbuf_addstr(&sb, "{\"not\": json\n\n");
	}
	/* enough for the second thread (PARSE_AHEAD_MIN) */
	assert_true(sb.len > 16 * 1024);
	replace(&sb);
	assert_int_equal(projection_update(p, &s, NULL, &st), 0);
	assert_int_equal(st.unparseable, 1);
	/* and the refresh happened: an edit shows, a delete hides */
	assert_rebuild_equals_catch_up(1, "|edited|");
	strbuf_release(&sb);
}

static long count_of(const char *sql)
{
	sqlite3_stmt *q;
	long n;

	assert_int_equal(sqlite3_prepare_v2(p->db, sql, -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

/* the line json, signed with key (NULL: as it is), to sb */
static void add_line(struct strbuf *sb, const struct sign_key *key,
		     const char *json)
{
	struct event ev = EVENT_INIT;
	const char *why = NULL;

	assert_int_equal(event_parse(&ev, json, strlen(json), 0, &why), 0);
	assert_int_equal(event_serialize_signed(&ev, sb, key), 0);
	strbuf_addch(sb, '\n');
	event_release(&ev);
}

/*
 * message n of who at minute n after 10:00, signed with key: its
 * content tag and n, its ids id and n
 */
static void msg_line(struct strbuf *sb, const struct sign_key *key,
		     const char *who, char tag, char id, int n)
{
	char *json = xstrfmt("{\"agent_id\":\"%s\",\"body\":"
		"{\"content\":\"%c%d\",\"format\":\"markdown\"},"
		"\"event_id\":\"evt_01JKM4T2YQ8M3E5X6%c%08d\","
		"\"message_id\":\"msg_01JKM4T2YQ8M3E5X6%c%08d\","
		"\"scopes\":[{\"type\":\"broadcast\",\"value\":"
		"\"everyone\"}],\"timestamp\":\"2026-02-03T%02d:%02d:00Z\","
		"\"type\":\"message.create\",\"v\":1}", who, tag, n, id, n,
		id, n, 10 + n / 60, n % 60);

	add_line(sb, key, json);
	free(json);
}

/* alice's message n at minute n, signed with key */
static void signed_msg(struct strbuf *sb, const struct sign_key *key, int n)
{
	msg_line(sb, key, "alice", 'm', 'Z', n);
}

/*
 * the registration of who (role) naming key pub, signed with key, at
 * minute of the day; its id is id and n
 */
static void reg_line(struct strbuf *sb, const struct sign_key *key,
		     const struct sign_key *pub, const char *who,
		     const char *role, char id, int n, int minute)
{
	struct strbuf pk = STRBUF_INIT;
	char *json;

	sign_pubkey_text(pub->pk, &pk);
	json = xstrfmt("{\"agent_id\":\"%s\",\"event_id\":"
		"\"evt_01JKM4T2YQ8M3E5X6%c%08d\",\"name\":\"%s\","
		"\"pubkey\":\"%s\",\"role\":\"%s\","
		"\"timestamp\":\"2026-02-03T%02d:%02d:00Z\","
		"\"type\":\"agent.register\",\"v\":1}", who, id, n, who,
		pk.buf, role, minute / 60, minute % 60);
	add_line(sb, key, json);
	free(json);
	strbuf_release(&pk);
}

/* alice's registration at minute n naming key pub, signed with key */
static void signed_reg(struct strbuf *sb, const struct sign_key *key,
		       const struct sign_key *pub, int n)
{
	reg_line(sb, key, pub, "alice", "impl", 'R', n, 10 * 60 + n);
}

/*
 * alice signs with a, rotates to a2 at minute 70 (signed by a); mallory
 * signs as alice with m, and an edit comes unsigned; one line has a byte
 * changed; some lines come twice.  The log grows in three steps: many
 * lines (parsed ahead), a few (one by one), many again with repeats.
 */
static void signed_rebuild_equals_catch_up(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct sign_key a, a2, m;
	struct catch_up_stats st;
	size_t mark;
	char *bytes;
	int n;

	assert_int_equal(sign_keygen(&a), 0);
	assert_int_equal(sign_keygen(&a2), 0);
	assert_int_equal(sign_keygen(&m), 0);
	signed_reg(&sb, &a, &a, 0);
	for (n = 1; n <= 60; n++)
		signed_msg(&sb, n % 17 ? &a : &m, n);
	change(&sb, 3, 1, "alice", "unsigned edit");
	/* a changed byte: the signature no longer holds */
	mark = sb.len;
	signed_msg(&sb, &a, 61);
	bytes = strstr(sb.buf + mark, "\"m61\"");
	assert_non_null(bytes);
	bytes[1] = 'x';
	assert_true(sb.len > 16 * 1024);
	replace(&sb);
	assert_int_equal(projection_update(p, &s, NULL, &st), 0);

	/* a few: below the size for threads */
	mark = sb.len;
	signed_msg(&sb, &a, 62);
	signed_reg(&sb, &a, &a2, 70);
	signed_msg(&sb, &a, 71);	/* the old key, after the rotation */
	assert_true(sb.len - mark < 16 * 1024);
	replace(&sb);
	assert_int_equal(projection_update(p, &s, NULL, &st), 0);

	/* many again, a line of the first step and one of these twice */
	mark = sb.len;
	for (n = 72; n <= 140; n++) {
		signed_msg(&sb, &a2, n);
		if (n == 100)
			signed_msg(&sb, &a2, 80);
	}
	signed_msg(&sb, &a, 5);
	assert_true(sb.len - mark > 16 * 1024);
	replace(&sb);
	assert_int_equal(projection_update(p, &s, NULL, &st), 0);

	/* what counts and what does not, as judged */
	assert_int_equal(count_of("SELECT count(*) FROM event_sigs"
				  " WHERE state = 2"), 1);
	/* mallory's 3, the unsigned edit, the old key after rotation */
	assert_int_equal(count_of("SELECT count(*) FROM sig_rejects"), 6);
	assert_true(count_of("SELECT count(*) FROM event_sigs"
			     " WHERE state = 1") > 130);
	assert_rebuild_equals_catch_up(0, NULL);
	strbuf_release(&sb);
}

/* rel in the sync work tree: content (a new file), or appended to it */
static void put_file(const char *rel, const struct strbuf *content,
		     int append)
{
	char *path = store_abs_path(&s, rel), *tmp = xstrfmt("%s.new", path);
	FILE *f = fopen(append ? path : tmp, append ? "a" : "w");

	assert_non_null(f);
	assert_int_equal(fwrite(content->buf, 1, content->len, f),
			 content->len);
	assert_int_equal(fclose(f), 0);
	if (!append)
		assert_int_equal(rename(tmp, path), 0);
	free(tmp);
	free(path);
}

/* bob's message n at minute n, signed with key */
static void bob_msg(struct strbuf *sb, const struct sign_key *key, int n)
{
	msg_line(sb, key, "bob", 'b', 'B', n);
}

/* bob's registration at 09:00 naming key, signed with it */
static void bob_reg(struct strbuf *sb, const struct sign_key *key)
{
	reg_line(sb, key, key, "bob", "review", 'Q', 0, 9 * 60);
}

static void assert_nothing_left(void)
{
	struct catch_up_stats st;

	assert_int_equal(projection_update(p, &s, NULL, &st), 0);
	assert_int_equal(st.applied + st.files_rescanned + st.unparseable,
			 0);
}

#define ALICE "messages/alice.jsonl"
#define BOB "messages/bob.jsonl"

/*
 * Signed events over three files, caught up three times: many lines in
 * each; a few in each (each file below the size for threads, all of
 * them above it: the files after the first are read and verified while
 * it is applied), a rotation among them, a line twice in two files, a
 * line that is no event; one line.  Every file is consumed exactly, an
 * unparseable line is counted for its own file, and a rebuild gives
 * every table as the catch-ups did.
 */
static void many_files_rebuild_equals_catch_up(void **state)
{
	struct strbuf ev = STRBUF_INIT, al = STRBUF_INIT, bo = STRBUF_INIT;
	struct sign_key a, a2, b, m;
	struct catch_up_stats st;
	size_t mark;
	int n;

	assert_int_equal(sign_keygen(&a), 0);
	assert_int_equal(sign_keygen(&a2), 0);
	assert_int_equal(sign_keygen(&b), 0);
	assert_int_equal(sign_keygen(&m), 0);
	signed_reg(&ev, &a, &a, 0);
	bob_reg(&ev, &b);
	for (n = 1; n <= 40; n++) {
		signed_msg(&al, n % 13 ? &a : &m, n);
		bob_msg(&bo, n % 11 ? &b : &a, n);
	}
	strbuf_addstr(&bo, "{\"not\": json\n");
	put_file("events.jsonl", &ev, 0);
	put_file(ALICE, &al, 0);
	put_file(BOB, &bo, 0);
	assert_int_equal(projection_update(p, &s, NULL, &st), 0);
	assert_int_equal(st.unparseable, 1);
	assert_int_equal(count_of("SELECT count(*) FROM skipped_lines"
				  " WHERE path = '" BOB "'"), 1);
	assert_nothing_left();

	/* a few in each; alice rotates to a2 at minute 70 */
	strbuf_reset(&ev);
	strbuf_reset(&al);
	strbuf_reset(&bo);
	signed_reg(&ev, &a, &a2, 70);
	for (n = 71; n <= 75; n++) {
		signed_msg(&al, n == 73 ? &a : &a2, n);
		bob_msg(&bo, &b, n);
	}
	mark = al.len;
	signed_msg(&al, &a2, 76);
	strbuf_add(&bo, al.buf + mark, al.len - mark);
	strbuf_addstr(&al, "{\"not\": json either\n");
	assert_true(ev.len < 4096 && al.len < 4096 && bo.len < 4096);
	assert_true(ev.len + al.len + bo.len >= 4096);
	put_file("events.jsonl", &ev, 1);
	put_file(ALICE, &al, 1);
	put_file(BOB, &bo, 1);
	assert_int_equal(projection_update(p, &s, NULL, &st), 0);
	/* the repeat counted once */
	assert_int_equal(st.applied, 1 + 5 + 5 + 1);
	assert_int_equal(st.unparseable, 1);
	assert_int_equal(count_of("SELECT count(*) FROM skipped_lines"
				  " WHERE path = '" ALICE "'"), 1);
	assert_nothing_left();

	/* one line */
	strbuf_reset(&bo);
	bob_msg(&bo, &b, 80);
	put_file(BOB, &bo, 1);
	assert_int_equal(projection_update(p, &s, NULL, &st), 0);
	assert_int_equal(st.applied, 1);
	assert_nothing_left();

	/* mallory's 3 and alice's 3 in bob's name, the old key after */
	assert_int_equal(count_of("SELECT count(*) FROM sig_rejects"), 7);
	assert_rebuild_equals_catch_up(2, NULL);
	strbuf_release(&ev);
	strbuf_release(&al);
	strbuf_release(&bo);
}

/*
 * Enough new bytes in all for threads, twice.  Alice's file grew and
 * is named twice: its lines are applied once (its line that is no event
 * counted once).  Then it grew again and a merge reports bob's file
 * after it: bob's lines come from the merge's spans, applied after all
 * of alice's (her line that is no event counted for her file).  Both
 * are consumed exactly.
 */
static void merge_after_a_file_read_ahead(void **state)
{
	struct strbuf al = STRBUF_INIT, bo = STRBUF_INIT, line = STRBUF_INIT;
	struct log_changes changes = LOG_CHANGES_INIT;
	struct log_change *c;
	struct catch_up_stats st;
	struct sign_key a, b;
	char *bob_path = store_abs_path(&s, BOB);
	int n;

	assert_int_equal(sign_keygen(&a), 0);
	assert_int_equal(sign_keygen(&b), 0);
	for (n = 1; n <= 3; n++) {
		signed_msg(&al, &a, n);
		bob_msg(&bo, &b, n);
	}
	put_file(ALICE, &al, 0);
	put_file(BOB, &bo, 0);
	assert_int_equal(projection_update(p, &s, NULL, &st), 0);
	assert_int_equal(st.applied, 6);

	strbuf_reset(&al);
	for (n = 4; n <= 15; n++)
		signed_msg(&al, &a, n);
	strbuf_addstr(&al, "{\"not\": json\n");
	assert_true(al.len > 4096);
	put_file(ALICE, &al, 1);
	log_changes_add(&changes, ALICE);
	log_changes_add(&changes, ALICE);
	assert_int_equal(projection_update(p, &s, &changes, &st), 0);
	assert_int_equal(st.applied, 12);
	assert_int_equal(st.unparseable, 1);
	log_changes_release(&changes);

	log_changes_add(&changes, ALICE);
	c = log_changes_add(&changes, BOB);
	c->merged = 1;
	file_id(bob_path, &c->before);
	strbuf_reset(&al);
	for (n = 16; n <= 24; n++)
		signed_msg(&al, &a, n);
	strbuf_addstr(&al, "{\"not\": json again\n");
	for (n = 4; n <= 12; n++) {
		strbuf_reset(&line);
		bob_msg(&line, &b, n);
		log_change_add_span(c, bo.len, line.len);
		strbuf_addbuf(&bo, &line);
	}
	put_file(ALICE, &al, 1);
	put_file(BOB, &bo, 0);
	file_id(bob_path, &c->after);
	assert_true(al.len + bo.len > 4096);
	assert_int_equal(projection_update(p, &s, &changes, &st), 0);
	assert_int_equal(st.applied, 18);
	assert_int_equal(st.unparseable, 1);
	/* from the spans: bob's file not read again */
	assert_int_equal(st.files_rescanned, 0);
	assert_int_equal(count_of("SELECT count(*) FROM skipped_lines"
				  " WHERE path = '" ALICE "'"), 2);
	assert_nothing_left();
	log_changes_release(&changes);
	free(bob_path);
	strbuf_release(&al);
	strbuf_release(&bo);
	strbuf_release(&line);
}

static int setup(void **state)
{
	static const char *const dirs[] = { "sync", "sync/messages", "var" };
	size_t i;

	if (!mkdtemp(tmpdir))
		return -1;
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		char *dir = path_join(tmpdir, dirs[i]);
		int made = mkdir(dir, 0755);

		free(dir);
		if (made < 0)
			return -1;
	}
	memset(&r, 0, sizeof(r));
	r.sync_dir = path_join(tmpdir, "sync");
	r.var_dir = path_join(tmpdir, "var");
	store_init(&s, &r);
	rel_path = store_abs_path(&s, REL);
	return projection_open(&p, r.var_dir);
}

static int teardown(void **state)
{
	projection_free(p);
	p = NULL;
	store_release(&s);
	unit_rm_rf(tmpdir);
	free(rel_path);
	free(r.sync_dir);
	free(r.var_dir);
	/* the next test makes a directory of its own */
	memcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(merged_lines_from_their_spans,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			merge_of_a_file_not_consumed_reads_it, setup,
			teardown),
		cmocka_unit_test_setup_teardown(appended_after_the_merge,
						setup, teardown),
		cmocka_unit_test_setup_teardown(rebuild_equals_catch_up,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			signed_rebuild_equals_catch_up, setup, teardown),
		cmocka_unit_test_setup_teardown(
			many_files_rebuild_equals_catch_up, setup, teardown),
		cmocka_unit_test_setup_teardown(
			merge_after_a_file_read_ahead, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

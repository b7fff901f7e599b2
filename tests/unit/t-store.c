/*
 * store: appends land whole, on their own line, in the right file; links
 * and odd names are never followed or listed.
 */
#include "unit.h"
#include "unit-store.h"
#include "event.h"
#include "repo.h"
#include "store.h"
#include "strbuf.h"
#include "strvec.h"

static char tmpdir[] = "/tmp/t-store-XXXXXX";
static struct repo r;
static struct store s = STORE_INIT;

static char *at(const char *rel)
{
	return path_join(r.sync_dir, rel);
}

static void new_event(struct event *ev, enum event_type type)
{
	assert_int_equal(event_init_new(ev, type, "d_01JKM4T2YQ8M3E5X6Z7A9B0C1D"),
			 0);
	ev->message_id = strdup("msg_01JKM4T2YQ8M3E5X6Z7A9B0C1D");
	ev->agent_id = strdup("alice");
	ev->session_id = strdup("ses_01JKM4T2YQ8M3E5X6Z7A9B0C1D");
	ev->body_content = strdup("hi");
}

static size_t count_lines(const char *rel)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = at(rel);
	size_t i, n = 0;

	assert_true(strbuf_read_file(&sb, path, 0) >= 0);
	for (i = 0; i < sb.len; i++)
		n += sb.buf[i] == '\n';
	assert_true(!sb.len || sb.buf[sb.len - 1] == '\n');
	strbuf_release(&sb);
	free(path);
	return n;
}

static void test_append_routes(void **state)
{
	struct event a, b, c;
	struct event *list[3] = { &a, &b, &c };

	(void)state;
	new_event(&a, EV_MESSAGE_CREATE);
	new_event(&b, EV_AGENT_SESSION_START);
	new_event(&c, EV_MESSAGE_CREATE);
	assert_int_equal(store_append(&s, "alice", list, 3), 0);
	assert_int_equal(count_lines("messages/alice.jsonl"), 2);
	assert_int_equal(count_lines("events.jsonl"), 1);
	event_release(&a);
	event_release(&b);
	event_release(&c);
}

static void test_torn_line_not_glued(void **state)
{
	struct event a;
	struct event *list[1] = { &a };
	char *path = at("messages/bob.jsonl");
	struct strbuf sb = STRBUF_INIT;
	int fd;

	(void)state;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"torn", 6), 6);
	close(fd);
	new_event(&a, EV_MESSAGE_CREATE);
	assert_int_equal(store_append(&s, "bob", list, 1), 0);
	assert_true(strbuf_read_file(&sb, path, 0) > 0);
	assert_memory_equal(sb.buf, "{\"torn\n{", 8);
	assert_int_equal(count_lines("messages/bob.jsonl"), 2);
	event_release(&a);
	strbuf_release(&sb);
	free(path);
}

static void test_symlink_refused(void **state)
{
	struct event a;
	struct event *list[1] = { &a };
	char *path = at("messages/eve.jsonl");
	char *target = path_join(tmpdir, "outside");
	struct stat st;

	(void)state;
	assert_int_equal(symlink(target, path), 0);
	new_event(&a, EV_MESSAGE_CREATE);
	assert_int_equal(store_append(&s, "eve", list, 1), -1);
	assert_int_equal(stat(target, &st), -1);	/* nothing written */
	event_release(&a);
	free(path);
	free(target);
}

static void test_list_files(void **state)
{
	static const char *const junk[] = {
		"messages/Bad.jsonl", "messages/x.txt", "messages/.jsonl",
		"other.jsonl",
	};
	struct strvec files = STRVEC_INIT;
	char *p;
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(junk); i++) {
		p = at(junk[i]);
		fd = open(p, O_WRONLY | O_CREAT, 0644);
		assert_true(fd >= 0);
		close(fd);
		free(p);
	}
	p = at("messages/dir.jsonl");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	store_list_files(&s, &files);
	/* eve.jsonl is a symlink: not listed */
	assert_int_equal(files.nr, 3);
	assert_string_equal(files.v[0], "events.jsonl");
	assert_string_equal(files.v[1], "messages/alice.jsonl");
	assert_string_equal(files.v[2], "messages/bob.jsonl");
	strvec_clear(&files);
}

static void test_shard_of(void **state)
{
	char *x;

	(void)state;
	x = store_shard_of("messages/alice.jsonl");
	assert_string_equal(x, "alice");
	free(x);
	assert_null(store_shard_of("events.jsonl"));
	assert_null(store_shard_of("messages.jsonl"));
	x = store_shard_of("messages/alice.0012.jsonl");
	assert_string_equal(x, "alice");
	free(x);
	x = store_shard_of("messages/a-b_c.123456789.jsonl");
	assert_string_equal(x, "a-b_c");
	free(x);
	/* not segments: too few or too many digits, zero, dots, bad names */
	assert_null(store_shard_of("messages/alice.012.jsonl"));
	assert_null(store_shard_of("messages/alice.0000.jsonl"));
	assert_null(store_shard_of("messages/alice.1234567890.jsonl"));
	assert_null(store_shard_of("messages/alice.x.0001.jsonl"));
	assert_null(store_shard_of("messages/.0001.jsonl"));
	assert_null(store_shard_of("messages/Alice.0001.jsonl"));
	assert_null(store_shard_of("messages/daemon.0001.jsonl"));
	assert_null(store_shard_of("messages/alice.0001.json"));
}

static void test_segments_roll_over(void **state)
{
	struct strvec files = STRVEC_INIT;
	struct event ev;
	struct event *list[1] = { &ev };
	char *cur;
	size_t i, total = 0;

	(void)state;
	setenv("THRUM_SEGMENT_BYTES", "1000", 1);
	for (i = 0; i < 40; i++) {
		new_event(&ev, EV_MESSAGE_CREATE);
		assert_int_equal(store_append(&s, "seg", list, 1), 0);
		event_release(&ev);
	}
	unsetenv("THRUM_SEGMENT_BYTES");
	/* every line once, in segments that each stopped near the size */
	store_list_files(&s, &files);
	for (i = 0; i < files.nr; i++) {
		struct stat st;
		char *path = at(files.v[i]);
		char *shard = store_shard_of(files.v[i]);

		if (shard && !strcmp(shard, "seg")) {
			total += count_lines(files.v[i]);
			assert_int_equal(stat(path, &st), 0);
			assert_true(st.st_size < 1000 + 400);
		}
		free(shard);
		free(path);
	}
	assert_int_equal(total, 40);
	assert_true(strvec_has(&files, "messages/seg.jsonl"));
	assert_true(strvec_has(&files, "messages/seg.0001.jsonl"));
	assert_true(strvec_has(&files, "messages/seg.0005.jsonl"));
	/* the next append goes to the last segment, or one past it */
	cur = store_current_segment(r.sync_dir, "seg");
	assert_true(!strncmp(cur, "messages/seg.00", 15));
	free(cur);
	cur = store_current_segment(r.sync_dir, "nobody");
	assert_string_equal(cur, "messages/nobody.jsonl");
	free(cur);
	strvec_clear(&files);
}

static void test_origin_stable(void **state)
{
	char *a = store_origin_id(&s), *b = store_origin_id(&s);

	(void)state;
	assert_non_null(a);
	assert_string_equal(a, b);
	assert_true(event_valid_id(a, "d_"));
	free(a);
	free(b);
}

static int setup(void **state)
{
	(void)state;
	if (unit_store_dirs(tmpdir, &r))
		return -1;
	store_init(&s, &r);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unit_store_cleanup(tmpdir, &r, &s);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_routes),
		cmocka_unit_test(test_torn_line_not_glued),
		cmocka_unit_test(test_symlink_refused),
		cmocka_unit_test(test_list_files),
		cmocka_unit_test(test_shard_of),
		cmocka_unit_test(test_segments_roll_over),
		cmocka_unit_test(test_origin_stable),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

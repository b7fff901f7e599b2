/*
 * event: canonical round trips, every line shape the original writes,
 * and malformed input (each case must be rejected, never crash).
 */
#include "unit.h"
#include "event.h"
#include "strbuf.h"

#define ID1 "01JKM4T2YQ8M3E5X6Z7A9B0C1D"
#define ID2 "01JKM4T2YQ8M3E5X6Z7A9B0C1E"

/* lines in the shapes of ORIGINAL-FORMAT.md */
static const char *const original[] = {
	"{\"agent_id\":\"furiosa\",\"agent_pid\":4242,\"event_id\":\"evt_" ID1
	"\",\"hostname\":\"mac\",\"kind\":\"agent\",\"module\":\"auth\","
	"\"name\":\"furiosa\",\"origin_daemon\":\"d_" ID2 "\",\"role\":"
	"\"implementer\",\"sequence\":1,\"timestamp\":"
	"\"2026-02-03T10:00:00.123Z\",\"type\":\"agent.register\",\"v\":1,"
	"\"worktree\":\"/home/u/repo\"}",
	"{\"agent_id\":\"furiosa\",\"event_id\":\"evt_" ID1 "\","
	"\"origin_daemon\":\"d_" ID2 "\",\"sequence\":2,\"session_id\":"
	"\"ses_" ID2 "\",\"timestamp\":\"2026-02-03T10:00:00.2Z\",\"type\":"
	"\"agent.session.start\",\"v\":1}",
	"{\"event_id\":\"evt_" ID1 "\",\"origin_daemon\":\"d_" ID2 "\","
	"\"reason\":\"normal\",\"sequence\":9,\"session_id\":\"ses_" ID2 "\","
	"\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":"
	"\"agent.session.end\",\"v\":1}",
	"{\"created_by\":\"furiosa\",\"event_id\":\"evt_" ID1 "\",\"group_id\":"
	"\"grp_" ID2 "\",\"name\":\"reviewers\",\"origin_daemon\":\"d_" ID2
	"\",\"sequence\":12,\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":"
	"\"group.create\",\"v\":1}",
	"{\"added_by\":\"furiosa\",\"event_id\":\"evt_" ID1 "\",\"group_id\":"
	"\"grp_" ID2 "\",\"member_type\":\"role\",\"member_value\":"
	"\"reviewer\",\"origin_daemon\":\"d_" ID2 "\",\"sequence\":13,"
	"\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":"
	"\"group.member.add\",\"v\":1}",
	"{\"agent_id\":\"furiosa\",\"body\":{\"content\":\"PR \\u003cready\\u003e"
	" \\u0026 go\",\"format\":\"markdown\"},\"event_id\":\"evt_" ID1 "\","
	"\"message_id\":\"msg_" ID2 "\",\"origin_daemon\":\"d_" ID2 "\","
	"\"recipients\":[\"nux\"],\"refs\":[{\"type\":\"mention\",\"value\":"
	"\"nux\"}],\"sequence\":3,\"session_id\":\"ses_" ID2 "\",\"timestamp\":"
	"\"2026-02-03T10:01:00.5Z\",\"type\":\"message.create\",\"v\":1}",
	"{\"body\":{\"content\":\"PR ready (v2)\",\"format\":\"markdown\"},"
	"\"event_id\":\"evt_" ID1 "\",\"message_id\":\"msg_" ID2 "\","
	"\"origin_daemon\":\"d_" ID2 "\",\"sequence\":6,\"timestamp\":"
	"\"2026-02-03T10:02:00Z\",\"type\":\"message.edit\",\"v\":1}",
	"{\"event_id\":\"evt_" ID1 "\",\"message_id\":\"msg_" ID2 "\","
	"\"origin_daemon\":\"d_" ID2 "\",\"reason\":\"dup\",\"sequence\":7,"
	"\"timestamp\":\"2026-02-03T10:03:00Z\",\"type\":\"message.delete\","
	"\"v\":1}",
	"{\"agent_id\":\"nux\",\"event_id\":\"evt_" ID1 "\",\"message_id\":"
	"\"msg_" ID2 "\",\"origin_daemon\":\"d_" ID2 "\",\"receipt_type\":"
	"\"read\",\"sequence\":8,\"session_id\":\"ses_" ID2 "\",\"timestamp\":"
	"\"2026-02-03T10:04:00Z\",\"type\":\"message.receipt\",\"v\":1}",
	"{\"agent_id\":\"implementer_abcdefghij\",\"event_id\":\"evt_" ID1 "\","
	"\"origin_daemon\":\"d_" ID2 "\",\"sequence\":4,\"timestamp\":"
	"\"2026-02-03T10:00:00Z\",\"type\":\"agent.update\",\"v\":1,"
	"\"work_contexts\":[{\"branch\":\"main\",\"intent\":\"fix auth\"}]}",
	/* broadcast, reply */
	"{\"agent_id\":\"nux\",\"body\":{\"content\":\"ok\",\"format\":"
	"\"markdown\"},\"event_id\":\"evt_" ID1 "\",\"message_id\":\"msg_" ID1
	"\",\"origin_daemon\":\"d_" ID2 "\",\"refs\":[{\"type\":\"broadcast\","
	"\"value\":\"everyone\"},{\"type\":\"reply_to\",\"value\":\"msg_" ID2
	"\"}],\"scopes\":[{\"type\":\"broadcast\",\"value\":\"everyone\"}],"
	"\"sequence\":5,\"session_id\":\"ses_" ID2 "\",\"thread_id\":\"thr_"
	ID2 "\",\"timestamp\":\"2026-02-03T10:05:00Z\",\"type\":"
	"\"message.create\",\"v\":1}",
};

/* event_parse() of a NUL-terminated line, with no flags */
static int parse(struct event *ev, const char *line, const char **why)
{
	return event_parse(ev, line, strlen(line), 0, why);
}

/* the same, failing the test when line <i> of a table is rejected */
static void parse_ok(struct event *ev, const char *line, size_t i)
{
	const char *why = NULL;

	if (parse(ev, line, &why))
		fail_msg("line %zu rejected: %s", i, why);
}

static void test_original_lines(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(original); i++) {
		struct event ev = EVENT_INIT;

		parse_ok(&ev, original[i], i);
		assert_true(ev.type != EV_UNKNOWN);
		assert_string_equal(ev.event_id, "evt_" ID1);
		event_release(&ev);
	}
}

static void test_original_fields(void **state)
{
	struct event ev = EVENT_INIT;

	(void)state;
	assert_int_equal(parse(&ev, original[5], NULL), 0);
	assert_int_equal(ev.type, EV_MESSAGE_CREATE);
	assert_string_equal(ev.body_content, "PR <ready> & go");
	assert_string_equal(ev.body_format, "markdown");
	assert_int_equal(ev.nr_recipients, 1);
	assert_string_equal(ev.recipients[0], "nux");
	assert_int_equal(ev.nr_refs, 1);
	assert_string_equal(ev.refs[0].type, "mention");
	assert_true(ev.ts_ns == 1770112860500000000LL);
	event_release(&ev);

	assert_int_equal(parse(&ev, original[4], NULL), 0);
	assert_string_equal(ev.actor, "furiosa");
	assert_string_equal(ev.member_value, "reviewer");
	event_release(&ev);

	assert_int_equal(parse(&ev, original[9], NULL), 0);
	assert_string_equal(ev.intent, "fix auth");
	event_release(&ev);
}

/*
 * agent.cleanup, purge.executed and group.update as the original writes
 * them (its struct order), read, and written back canonically
 */
static void test_cleanup_events(void **state)
{
	static const char *const in[] = {
		"{\"type\":\"agent.cleanup\",\"timestamp\":"
		"\"2026-02-03T10:00:00.5Z\",\"event_id\":\"evt_" ID1 "\","
		"\"v\":1,\"origin_daemon\":\"d_" ID2 "\",\"agent_id\":"
		"\"furiosa\",\"reason\":\"manual deletion\",\"method\":"
		"\"manual\"}",
		"{\"type\":\"purge.executed\",\"timestamp\":"
		"\"2026-02-03T10:00:00Z\",\"event_id\":\"evt_" ID1 "\","
		"\"v\":1,\"cutoff\":\"2026-02-01T00:00:00+02:00\"}",
		"{\"type\":\"group.update\",\"timestamp\":"
		"\"2026-02-03T10:00:00Z\",\"event_id\":\"evt_" ID1 "\","
		"\"v\":1,\"group_id\":\"grp_" ID2 "\",\"updated_by\":"
		"\"furiosa\",\"fields\":{\"name\":\"leads\","
		"\"description\":\"\"}}",
	};
	static const char *const out[] = {
		"{\"agent_id\":\"furiosa\",\"event_id\":\"evt_" ID1 "\","
		"\"method\":\"manual\",\"origin_daemon\":\"d_" ID2 "\","
		"\"reason\":\"manual deletion\",\"timestamp\":"
		"\"2026-02-03T10:00:00.5Z\",\"type\":\"agent.cleanup\",\"v\":1}",
		"{\"cutoff\":\"2026-02-01T00:00:00+02:00\",\"event_id\":\"evt_"
		ID1 "\",\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":"
		"\"purge.executed\",\"v\":1}",
		"{\"event_id\":\"evt_" ID1 "\",\"fields\":{\"description\":"
		"\"\",\"name\":\"leads\"},\"group_id\":\"grp_" ID2 "\","
		"\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":"
		"\"group.update\",\"updated_by\":\"furiosa\",\"v\":1}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(in); i++) {
		struct event ev = EVENT_INIT;
		struct strbuf sb = STRBUF_INIT;

		parse_ok(&ev, in[i], i);
		assert_int_equal(event_serialize(&ev, &sb, 0), 0);
		assert_string_equal(sb.buf, out[i]);
		if (i == 0)
			assert_string_equal(ev.method, "manual");
		if (i == 1)	/* 2026-01-31T22:00:00Z */
			assert_true(ev.cutoff_ns == 1769896800000000000LL);
		if (i == 2) {
			assert_string_equal(ev.new_name, "leads");
			assert_string_equal(ev.new_description, "");
			assert_string_equal(ev.actor, "furiosa");
		}
		strbuf_release(&sb);
		event_release(&ev);
	}
}

static void test_round_trip(void **state)
{
	struct event ev = EVENT_INIT, back = EVENT_INIT;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	(void)state;
	setenv("THRUM_TEST_NOW", "2026-11-23T10:00:00.1Z", 1);
	assert_int_equal(event_init_new(&ev, EV_MESSAGE_CREATE, "d_" ID2), 0);
	unsetenv("THRUM_TEST_NOW");
	ev.message_id = strdup("msg_" ID1);
	ev.agent_id = strdup("alice");
	ev.body_content = strdup("a/b \"quoted\" \\ caf\xc3\xa9\n<tag>");
	ev.body_structured = strdup("{\"z\":1,\"a\":[{\"y\":2,\"b\":3}]}");
	ev.priority = strdup("high");
	event_add_recipient(&ev, "bob");
	event_add_ref(&ev, "mention", "bob");
	event_add_scope(&ev, "broadcast", "everyone");
	assert_int_equal(event_serialize(&ev, &a, 0), 0);

	/* canonical: sorted keys at every level, no \/, nine digits */
	assert_null(strstr(a.buf, "\\/"));
	assert_non_null(strstr(a.buf, "a/b"));
	assert_non_null(strstr(a.buf, "\"timestamp\":"
			       "\"2026-11-23T10:00:00.100000000Z\""));
	assert_non_null(strstr(a.buf, "\"structured\":{\"a\":[{\"b\":3,"
			       "\"y\":2}],\"z\":1}"));
	assert_true(strstr(a.buf, "\"agent_id\"") < strstr(a.buf, "\"body\""));
	assert_true(strstr(a.buf, "\"type\":\"message.create\"") <
		    strstr(a.buf, "\"v\":1"));
	assert_null(memchr(a.buf, '\n', a.len));

	assert_int_equal(event_parse(&back, a.buf, a.len, 0, NULL), 0);
	assert_int_equal(event_serialize(&back, &b, 0), 0);
	assert_string_equal(a.buf, b.buf);
	assert_string_equal(back.body_content, ev.body_content);
	event_release(&ev);
	event_release(&back);
	strbuf_release(&a);
	strbuf_release(&b);
}

/* 128 bytes: the longest id there may be */
#define LONG_ID "evt_0123456789012345678901234567890123456789012345678901" \
	"234567890123456789012345678901234567890123456789012345678901234567890123"

/* lines the original's own tooling wrote: counter ids, no origin_daemon */
static void test_opaque_ids(void **state)
{
	static const char *const lines[] = {
		"{\"agent_id\":\"agent_07\",\"event_id\":\"evt_00000362\","
		"\"kind\":\"agent\",\"module\":\"m\",\"name\":\"agent_07\","
		"\"role\":\"impl\",\"timestamp\":\"2026-02-03T10:00:00Z\","
		"\"type\":\"agent.register\",\"v\":1}",
		"{\"agent_id\":\"agent_07\",\"body\":{\"content\":\"hi\","
		"\"format\":\"markdown\"},\"event_id\":\"evt_00000363\","
		"\"message_id\":\"msg_00000041\",\"refs\":[{\"type\":"
		"\"reply_to\",\"value\":\"msg_00000040\"}],\"session_id\":"
		"\"ses_000099\",\"thread_id\":\"thr_7\",\"timestamp\":"
		"\"2026-02-03T10:00:01Z\",\"type\":\"message.create\",\"v\":1}",
		"{\"created_by\":\"agent_07\",\"event_id\":\"evt_00000364\","
		"\"group_id\":\"grp_0000\",\"name\":\"team\",\"timestamp\":"
		"\"2026-02-03T10:00:02Z\",\"type\":\"group.create\",\"v\":1}",
		"{\"event_id\":\"" LONG_ID "\",\"session_id\":\"s \u00e9\","
		"\"timestamp\":\"2026-02-03T10:00:03Z\",\"type\":"
		"\"agent.session.end\",\"v\":1}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(lines); i++) {
		struct event ev = EVENT_INIT;

		parse_ok(&ev, lines[i], i);
		assert_null(ev.origin_daemon);
		event_release(&ev);
	}
	assert_int_equal(event_opaque_id("evt_00000362"), 1);
	assert_int_equal(event_opaque_id(""), 0);
	assert_int_equal(event_opaque_id(NULL), 0);
	assert_int_equal(event_opaque_id("a\tb"), 0);
	assert_int_equal(event_opaque_id("a\x7f"), 0);
	assert_int_equal(event_opaque_id(LONG_ID), 1);
	assert_int_equal(event_opaque_id(LONG_ID "x"), 0);
}

static const struct {
	const char *line;
	const char *what;
} malformed[] = {
	{ "", "empty" },
	{ "{\"event_id\":\"e\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"purge.executed\"}", "a purge without cutoff" },
	{ "{\"cutoff\":\"yesterday\",\"event_id\":\"e\",\"timestamp\":"
	  "\"2026-02-03T10:00:00Z\",\"type\":\"purge.executed\"}",
	  "a purge with a cutoff that is no date" },
	{ "{\"event_id\":\"e\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"agent.cleanup\"}", "a cleanup without agent_id" },
	{ "{\"event_id\":\"e\",\"fields\":[\"name\"],\"group_id\":\"g\","
	  "\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":\"group.update\"}",
	  "group.update fields not an object" },
	{ "{\"event_id\":\"e\",\"fields\":{\"name\":1},\"group_id\":\"g\","
	  "\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":\"group.update\"}",
	  "group.update name not a string" },
	{ "not json", "garbage" },
	{ "[1,2,3]", "array" },
	{ "\"string\"", "string" },
	{ "{\"type\":\"agent.register\"", "torn" },
	{ "{\"event_id\":\"evt_" ID1 "\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"agent.session.end\",\"session_id\":\"s\"} trailing",
	  "trailing bytes" },
	{ "{\"event_id\":\"evt_" ID1 "\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"agent.session.end\",\"session_id\":\"s\"}{}",
	  "two objects" },
	{ "{\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":\"x\"}",
	  "no event_id" },
	{ "{\"event_id\":\"\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"x\"}", "empty event_id" },
	{ "{\"event_id\":\"evt_\\u0007\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"x\"}", "event_id with a control character" },
	{ "{\"event_id\":\"evt_\\u009b1m\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"x\"}", "event_id with a C1 control" },
	{ "{\"event_id\":\"" LONG_ID "x\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"x\"}", "event_id of 129 bytes" },
	{ "{\"event_id\":\"evt_1\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"message.create\",\"message_id\":\"m\\u001b[2J\","
	  "\"agent_id\":\"a\",\"body\":{\"content\":\"x\"}}",
	  "message_id with an escape" },
	{ "{\"event_id\":\"evt_1\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"message.create\",\"message_id\":\"m\",\"agent_id\":\"a\","
	  "\"body\":{\"content\":\"x\"},\"refs\":[{\"type\":\"reply_to\","
	  "\"value\":\"\"}]}", "empty reply_to" },
	{ "{\"event_id\":\"evt_1\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"agent.session.end\",\"session_id\":\"\"}",
	  "empty session_id" },
	{ "{\"event_id\":\"evt_" ID1 "\",\"timestamp\":\"yesterday\","
	  "\"type\":\"x\"}", "bad timestamp" },
	{ "{\"event_id\":\"evt_" ID1 "\",\"timestamp\":\"2026-02-03T10:00:00Z\"}",
	  "no type" },
	{ "{\"event_id\":\"evt_" ID1 "\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"message.create\",\"message_id\":\"m\",\"agent_id\":\"a\"}",
	  "create without body" },
	{ "{\"event_id\":\"evt_" ID1 "\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"message.create\",\"message_id\":7,\"agent_id\":\"a\","
	  "\"body\":{\"content\":\"x\"}}", "number where a string goes" },
	{ "{\"event_id\":\"evt_" ID1 "\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"message.create\",\"message_id\":\"m\",\"agent_id\":\"a\","
	  "\"body\":{\"content\":\"x\"},\"refs\":[\"x\"]}", "bad refs" },
	{ "{\"event_id\":\"evt_" ID1 "\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"message.create\",\"message_id\":\"m\",\"agent_id\":\"a\","
	  "\"body\":{\"content\":\"x\"},\"recipients\":\"bob\"}",
	  "bad recipients" },
	{ "{\"event_id\":\"evt_" ID1 "\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"message.create\",\"message_id\":\"m\",\"agent_id\":\"a\","
	  "\"body\":{\"content\":\"\xff\xfe\"}}", "invalid UTF-8" },
	{ "{\"event_id\":\"evt_" ID1 "\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"x\",\"v\":\"1\"}", "v not a number" },
	{ "{'type':'x'}", "single quotes" },
	{ "{\"event_id\":\"evt_" ID1 "\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"message.create\",\"message_id\":\"m\",\"agent_id\":\"a\","
	  "\"body\":{\"content\":\"kept\\u0000cut\"}}", "\\u0000 in a body" },
	{ "{\"event_id\":\"evt_" ID1 "\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"message.create\",\"message_id\":\"m\",\"agent_id\":\"a\","
	  "\"body\":{\"content\":\"x\"},\"recipients\":[\"bob\\u0000x\"]}",
	  "\\u0000 in a recipient" },
	{ "{\"event_id\":\"evt_" ID1 "\",\"timestamp\":\"2026-02-03T10:00:00Z\","
	  "\"type\":\"message.create\",\"message_id\":\"m\\\\\\u0000\","
	  "\"agent_id\":\"a\",\"body\":\"x\"}", "\\u0000 after a \\\\" },
};

static void test_malformed(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(malformed); i++) {
		struct event ev = EVENT_INIT;
		const char *why = NULL;

		if (parse(&ev, malformed[i].line, &why) != THRUM_EINVALID)
			fail_msg("accepted %s", malformed[i].what);
		assert_non_null(why);
		assert_null(ev.event_id);	/* released on failure */
	}
}

static void test_nul_and_length(void **state)
{
	static const char with_nul[] = "{\"type\":\"x\"}\0{}";
	struct event ev = EVENT_INIT;
	char *huge;
	size_t n = EVENT_MAX_LINE + 10;

	(void)state;
	assert_int_equal(event_parse(&ev, with_nul, sizeof(with_nul) - 1, 0,
				     NULL), THRUM_EINVALID);
	huge = malloc(n);
	memset(huge, ' ', n);
	huge[0] = '{';
	huge[n - 1] = '}';
	assert_int_equal(event_parse(&ev, huge, n, 0, NULL), THRUM_EINVALID);
	free(huge);
}

/* a "\\u0000" that is a backslash and then text is kept exactly */
static void test_escaped_backslash_kept(void **state)
{
	static const char line[] =
		"{\"event_id\":\"evt_" ID1 "\",\"timestamp\":"
		"\"2026-02-03T10:00:00Z\",\"type\":\"message.create\","
		"\"message_id\":\"m\",\"agent_id\":\"a\","
		"\"body\":{\"content\":\"a\\\\u0000b\"}}";
	struct event ev = EVENT_INIT;

	(void)state;
	assert_int_equal(parse(&ev, line, NULL), 0);
	assert_string_equal(ev.body_content, "a\\u0000b");
	event_release(&ev);
}

/* the writer refuses what the reader would skip */
static void test_serialize_refuses_bad_lines(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct event ev = EVENT_INIT;

	(void)state;
	assert_int_equal(event_init_new(&ev, EV_MESSAGE_CREATE,
					"d_" ID1), 0);
	ev.message_id = strdup("msg_" ID1);
	ev.agent_id = strdup("alice");
	ev.body_content = strdup("not \xff UTF-8");
	strbuf_addstr(&out, "kept");
	assert_int_equal(event_serialize(&ev, &out, 0), -1);
	assert_string_equal(out.buf, "kept");
	free(ev.body_content);
	ev.body_content = strdup("caf\xc3\xa9");
	assert_int_equal(event_serialize(&ev, &out, 0), 0);
	free(ev.body_content);
	ev.body_content = NULL;	/* a create without a body */
	strbuf_reset(&out);
	assert_int_equal(event_serialize(&ev, &out, 0), -1);
	assert_int_equal(out.len, 0);
	event_release(&ev);
	strbuf_release(&out);
}

static void test_unknown_type_kept(void **state)
{
	static const char line[] =
		"{\"event_id\":\"evt_" ID1 "\",\"future\":{\"x\":[1]},"
		"\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":\"thing.new\"}";
	struct event ev = EVENT_INIT;

	(void)state;
	assert_int_equal(parse(&ev, line, NULL), 0);
	assert_int_equal(ev.type, EV_UNKNOWN);
	assert_string_equal(ev.type_name, "thing.new");
	event_release(&ev);
}

static void test_order(void **state)
{
	(void)state;
	assert_true(event_order_cmp(1, "evt_B", 2, "evt_A") < 0);
	assert_true(event_order_cmp(2, "evt_A", 2, "evt_B") < 0);
	assert_true(event_order_cmp(2, "evt_B", 2, "evt_B") == 0);
	assert_true(event_order_cmp(-1, "evt_Z", 0, "evt_A") < 0);
}

static void test_names(void **state)
{
	static const char *const ok[] = {
		"a", "alice", "agent-7", "x_y", "0day",
		"a234567890123456789012345678901234567890123456789012345678901234",
	};
	static const char *const bad[] = {
		"", "Alice", "-x", "_x", "a b", "a/b", "../x", "a.b", "daemon",
		"system", "thrum", "all", "broadcast", "everyone", "caf\xc3\xa9",
		"a2345678901234567890123456789012345678901234567890123456789012345",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ok); i++)
		if (!event_valid_name(ok[i], NULL))
			fail_msg("rejected '%s'", ok[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *why = NULL;

		if (event_valid_name(bad[i], &why))
			fail_msg("accepted '%s'", bad[i]);
		assert_non_null(why);
	}
}

/*
 * A line one byte over EVENT_MAX_LINE is refused for its length alone:
 * the same event one byte shorter is valid.
 */
/*
 * agent.update as the original writes it: every context with a session
 * is read (the fields it has that we do not represent are skipped, a
 * context without a session is not represented), and ours reads back
 * the same
 */
static void test_work_contexts(void **state)
{
	static const char line[] =
		"{\"agent_id\":\"furiosa\",\"event_id\":\"evt_1\","
		"\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":"
		"\"agent.update\",\"v\":1,\"work_contexts\":["
		"{\"branch\":\"feat\",\"changed_files\":[\"a.go\",7],"
		"\"file_changes\":[{\"path\":\"a.go\"}],"
		"\"git_updated_at\":\"2026-02-03T10:00:00Z\","
		"\"session_id\":\"ses_1\",\"unmerged_commits\":[{\"sha\":"
		"\"abc\"}],\"uncommitted_files\":[\"b.go\"],"
		"\"worktree_path\":\"/w\"},"
		"{\"branch\":\"no-session\"},"
		"{\"intent\":\"review\",\"session_id\":\"ses_2\"}]}";
	struct event ev = EVENT_INIT, back = EVENT_INIT;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(event_parse(&ev, line, strlen(line), 0, NULL), 0);
	assert_int_equal(ev.nr_wcs, 2);
	assert_string_equal(ev.wcs[0].session_id, "ses_1");
	assert_string_equal(ev.wcs[0].branch, "feat");
	assert_string_equal(ev.wcs[0].worktree_path, "/w");
	assert_int_equal(ev.wcs[0].nr_changed, 1);
	assert_string_equal(ev.wcs[0].changed_files[0], "a.go");
	assert_int_equal(ev.wcs[0].nr_uncommitted, 1);
	assert_string_equal(ev.wcs[0].uncommitted_files[0], "b.go");
	assert_string_equal(ev.wcs[1].intent, "review");
	assert_null(ev.wcs[1].branch);
	assert_int_equal(event_serialize(&ev, &sb, 0), 0);
	assert_non_null(strstr(sb.buf, "\"work_contexts\":[{\"branch\":"
		"\"feat\",\"changed_files\":[\"a.go\"],\"git_updated_at\":"
		"\"2026-02-03T10:00:00Z\",\"session_id\":\"ses_1\","
		"\"uncommitted_files\":[\"b.go\"],\"worktree_path\":\"/w\"},"
		"{\"intent\":\"review\",\"session_id\":\"ses_2\"}]"));
	assert_int_equal(event_parse(&back, sb.buf, sb.len, 0, NULL), 0);
	assert_int_equal(back.nr_wcs, 2);
	assert_string_equal(back.wcs[0].changed_files[0], "a.go");
	event_release(&back);
	event_release(&ev);
	strbuf_release(&sb);
}

static void test_length_limit_alone(void **state)
{
	static const char head[] =
		"{\"agent_id\":\"a\",\"body\":{\"content\":\"";
	static const char tail[] =
		"\"},\"event_id\":\"evt_" ID1 "\",\"message_id\":\"msg_" ID2
		"\",\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":"
		"\"message.create\"}";
	struct strbuf line = STRBUF_INIT;
	struct event ev = EVENT_INIT;
	const char *why = NULL;

	(void)state;
	strbuf_addstr(&line, head);
	while (line.len < EVENT_MAX_LINE - strlen(tail))
		strbuf_addch(&line, 'x');
	strbuf_addstr(&line, tail);
	assert_int_equal(line.len, EVENT_MAX_LINE);
	assert_int_equal(event_parse(&ev, line.buf, line.len, 0, &why), 0);
	assert_int_equal(strlen(ev.body_content),
			 EVENT_MAX_LINE - strlen(head) - strlen(tail));
	event_release(&ev);

	strbuf_reset(&line);
	strbuf_addstr(&line, head);
	while (line.len < EVENT_MAX_LINE + 1 - strlen(tail))
		strbuf_addch(&line, 'x');
	strbuf_addstr(&line, tail);
	assert_int_equal(line.len, EVENT_MAX_LINE + 1);
	assert_int_equal(event_parse(&ev, line.buf, line.len, 0, &why),
			 THRUM_EINVALID);
	assert_string_equal(why, "line too long");
	assert_null(ev.event_id);
	strbuf_release(&line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_original_lines),
		cmocka_unit_test(test_original_fields),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_cleanup_events),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_opaque_ids),
		cmocka_unit_test(test_nul_and_length),
		cmocka_unit_test(test_unknown_type_kept),
		cmocka_unit_test(test_escaped_backslash_kept),
		cmocka_unit_test(test_serialize_refuses_bad_lines),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_length_limit_alone),
		cmocka_unit_test(test_work_contexts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

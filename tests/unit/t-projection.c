/*
 * projection: the same set of events applied in 50 random orders gives
 * identical answers (technical/architecture.adoc), duplicates are no-ops, conflicting
 * duplicates are counted, edits and deletes count only from the author.
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

struct line {
	char *text;
	char *shard;
};

static struct line *lines;
static size_t nr_lines;
static char tmpdir[] = "/tmp/t-projection-XXXXXX";
static uint64_t rng = 88172645463325252ULL;
#define next_rand() unit_rand(&rng)

static int64_t base_ns = 1770112800000000000LL;	/* THRUM_TEST_NOW */
#define TEST_NOW "2026-02-03T10:00:00Z"
#define FAR_FUTURE_MS 7416000000000LL	/* about 2261 */
#define TWO_DAYS_MS (2 * 86400000LL)

static void fill(struct event *ev, enum event_type type, int64_t offset_ms)
{
	char ts[DATE_RFC3339_LEN + 1];

	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->type_name = strdup(event_type_name(type));
	ev->event_id = ulid_new_id("evt_");
	ev->ts_ns = base_ns + offset_ms * 1000000LL;
	date_format_rfc3339(ev->ts_ns, ts);
	ev->timestamp = strdup(ts);
	ev->v = 1;
}

/* an event of type about the message msg */
static void fill_message(struct event *ev, enum event_type type,
			 const char *msg, int64_t offset_ms)
{
	fill(ev, type, offset_ms);
	ev->message_id = strdup(msg);
}

static void keep(struct event *ev, const char *shard)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(event_serialize(ev, &sb, 0), 0);
	lines = realloc(lines, (nr_lines + 1) * sizeof(*lines));
	lines[nr_lines].text = strbuf_detach(&sb, NULL);
	lines[nr_lines].shard = shard ? strdup(shard) : NULL;
	nr_lines++;
	event_release(ev);
}

static void agent(const char *name, const char *role, int64_t at)
{
	struct event ev;

	fill(&ev, EV_AGENT_REGISTER, at);
	ev.agent_id = strdup(name);
	ev.name = strdup(name);
	ev.role = strdup(role);
	ev.module = strdup("m");
	keep(&ev, NULL);
}

static char *message(const char *from, const char *to_agent,
		     const char *mention, const char *group, int broadcast,
		     int64_t at)
{
	struct event ev;
	char *id = ulid_new_id("msg_");

	fill(&ev, EV_MESSAGE_CREATE, at);
	ev.message_id = strdup(id);
	ev.agent_id = strdup(from);
	ev.body_content = strdup(id + 20);
	if (to_agent) {
		event_add_recipient(&ev, to_agent);
		event_add_ref(&ev, "mention", to_agent);
	}
	if (mention)
		event_add_ref(&ev, "mention", mention);
	if (group)
		event_add_ref(&ev, "group", group);
	if (broadcast)
		event_add_scope(&ev, "broadcast", "everyone");
	keep(&ev, from);
	return id;
}

/* another create of msg: by agent_id, written to shard */
static void forged_create(const char *msg, const char *agent_id,
			  const char *shard, int64_t at)
{
	struct event ev;

	fill_message(&ev, EV_MESSAGE_CREATE, msg, at);
	ev.agent_id = strdup(agent_id);
	ev.body_content = strdup("forged create");
	event_add_recipient(&ev, "a4");
	keep(&ev, shard);
}

static void edit(const char *msg, const char *who, const char *text,
		 int64_t at, int with_agent_id)
{
	struct event ev;

	fill_message(&ev, EV_MESSAGE_EDIT, msg, at);
	if (with_agent_id)
		ev.agent_id = strdup(who);
	ev.body_content = strdup(text);
	keep(&ev, who);
}

static void delete(const char *msg, const char *who, int64_t at)
{
	struct event ev;

	fill_message(&ev, EV_MESSAGE_DELETE, msg, at);
	keep(&ev, who);	/* original style: no agent_id, the shard says */
}

static void receipt(const char *msg, const char *reader, int64_t at)
{
	struct event ev;

	fill_message(&ev, EV_MESSAGE_RECEIPT, msg, at);
	ev.agent_id = strdup(reader);
	ev.receipt_type = strdup("read");
	keep(&ev, reader);
}

static void group(const char *gid, const char *name, int64_t at)
{
	struct event ev;

	fill(&ev, EV_GROUP_CREATE, at);
	ev.group_id = strdup(gid);
	ev.name = strdup(name);
	ev.actor = strdup("a1");
	keep(&ev, NULL);
}

static void member(const char *gid, const char *type, const char *value,
		   int add, int64_t at)
{
	struct event ev;

	fill(&ev, add ? EV_GROUP_MEMBER_ADD : EV_GROUP_MEMBER_REMOVE, at);
	ev.group_id = strdup(gid);
	ev.member_type = strdup(type);
	ev.member_value = strdup(value);
	keep(&ev, NULL);
}

static void session(const char *who, const char *sid, int start, int64_t at)
{
	struct event ev;

	fill(&ev, start ? EV_AGENT_SESSION_START : EV_AGENT_SESSION_END, at);
	ev.agent_id = strdup(who);
	ev.session_id = strdup(sid);
	keep(&ev, NULL);
}

static void make_history(void)
{
	const char *names[] = { "a1", "a2", "a3", "a4" };
	char *m[40];
	int i, n = 0;

	agent("a1", "impl", 0);
	agent("a2", "impl", 1);
	agent("a3", "review", 2);
	agent("a4", "review", 3);
	agent("a4", "impl", 50);	/* a later registration wins */
	/*
	 * from the far future (2261): it orders at the clock of its arrival
	 * plus a day, so the real registration two days later wins
	 */
	agent("a3", "pinned", FAR_FUTURE_MS);
	agent("a3", "review", TWO_DAYS_MS);
	session("a1", "ses_1", 1, 4);
	session("a2", "ses_2", 1, 5);
	session("a2", "ses_2", 0, 60);
	group("grp_1", "leads", 6);
	member("grp_1", "agent", "a3", 1, 7);
	member("grp_1", "role", "impl", 1, 8);
	member("grp_1", "role", "impl", 0, 70);	/* removed later */
	member("grp_1", "agent", "a3", 0, 9);
	member("grp_1", "agent", "a3", 1, 9);	/* same ms: id decides */

	for (i = 0; i < 30; i++) {
		const char *from = names[next_rand() % 4];
		const char *to = names[next_rand() % 4];
		int kind = next_rand() % 4;
		int64_t at = 10 + (next_rand() % 40);	/* collisions too */

		m[n++] = message(from, kind == 0 ? to : NULL,
				 kind == 1 ? "review" : NULL,
				 kind == 2 ? "leads" : NULL, kind == 3, at);
	}
	m[n++] = message("a1", "a2", NULL, NULL, 0, 30);
	for (i = 0; i < n; i++) {
		struct event probe;
		const char *author, *other;
		char *line = NULL;
		size_t k;

		/* find the author back from the kept line */
		for (k = 0; k < nr_lines; k++)
			if (strstr(lines[k].text, m[i]) &&
			    strstr(lines[k].text, "message.create"))
				line = lines[k].text;
		assert_int_equal(event_parse(&probe, line, strlen(line), 0,
					     NULL), 0);
		author = probe.agent_id;
		other = strcmp(author, "a1") ? "a1" : "a2";
		if (i % 3 == 0)
			edit(m[i], author, "edit one", 100 + i, 1);
		if (i % 3 == 0)
			edit(m[i], author, "edit two", 100 + i + 1, 0);
		if (i % 5 == 0)	/* not the author: must not count */
			edit(m[i], strcmp(author, "a1") ? "a1" : "a2",
			     "forged", 900, 1);
		if (i % 7 == 0)
			delete(m[i], author, 200 + i);
		if (i % 11 == 0)
			delete(m[i], strcmp(author, "a1") ? "a1" : "a2", 300);
		if (i % 2 == 0)
			receipt(m[i], names[i % 4], 400 + i);
		/* an edit from 2261 does not pin the content */
		if (i == 3) {
			edit(m[i], author, "pinned edit", FAR_FUTURE_MS, 1);
			edit(m[i], author, "edit three", TWO_DAYS_MS, 1);
		}
		/*
		 * the same message_id again, claimed earlier: from another
		 * shard in the author's name, and later in the forger's own
		 */
		if (i == 1)
			forged_create(m[i], author, other, 0);
		if (i == 2)
			forged_create(m[i], other, other, 100);
		event_release(&probe);
		free(m[i]);
	}
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
				     event_line_hash(l->text,
						     strlen(l->text)));
		/* a second create of a message is counted as a conflict */
		if (r != THRUM_ECONFLICT || ev.type != EV_MESSAGE_CREATE)
			assert_int_equal(r, 1);
		event_release(&ev);
	}
	assert_int_equal(projection_commit(p), 0);
}

static void digest_list(struct strbuf *out, const struct message_list *l)
{
	size_t i, j;

	for (i = 0; i < l->nr; i++) {
		const struct message *m = &l->items[i];

		strbuf_addf(out, "%s|%s|%s|r%d e%d d%d|", m->message_id,
			    m->agent_id, m->content, m->is_read, m->edited,
			    m->deleted);
		for (j = 0; j < m->audience->nr; j++)
			strbuf_addf(out, "%s,", m->audience->v[j]);
		strbuf_addch(out, '\n');
	}
}

/* search: the same hits in the same order, and no stale row in the index */
static void digest_search(struct projection *p, struct strbuf *out)
{
	struct search_query q = { .words = "edit", .all = 1 };
	struct message_list l = MESSAGE_LIST_INIT;
	struct strvec snippets = STRVEC_INIT;
	sqlite3_stmt *s = NULL;

	q.since_ns = INT64_MIN;
	assert_int_equal(projection_search(p, &q, &l, &snippets), 0);
	strbuf_addstr(out, "search edit:\n");
	digest_list(out, &l);
	strvec_clear(&snippets);
	/* the index itself holds no more (a stale row the join hides) */
	assert_int_equal(sqlite3_prepare_v2(p->db, "SELECT count(*) FROM search"
			 " WHERE search MATCH 'edit'", -1, &s, NULL), 0);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), l.nr);
	sqlite3_finalize(s);
	message_list_release(&l);
}

static char *digest(struct projection *p)
{
	static const char *const who[][2] = {
		{ "a1", "impl" }, { "a2", "impl" }, { "a3", "review" },
		{ "a4", "impl" },
	};
	struct strbuf out = STRBUF_INIT;
	struct agent_list agents = AGENT_LIST_INIT;
	struct projection_counts c;
	size_t i, flags;

	for (i = 0; i < ARRAY_SIZE(who); i++)
		for (flags = 0; flags < 8; flags++) {
			struct inbox_query q = { 0 };
			struct message_list l = MESSAGE_LIST_INIT;

			q.me = who[i][0];
			q.role = who[i][1];
			q.all = flags & 1;
			q.unread_only = !!(flags & 2);
			q.include_deleted = !!(flags & 4);
			assert_int_equal(projection_inbox(p, &q, &l), 0);
			strbuf_addf(&out, "== %s %zu\n", q.me, flags);
			digest_list(&out, &l);
			message_list_release(&l);
		}
	assert_int_equal(projection_agents(p, &agents), 0);
	for (i = 0; i < agents.nr; i++)
		strbuf_addf(&out, "agent %s %s %s %s\n", agents.items[i].name,
			    agents.items[i].role,
			    agents.items[i].session_id ? "on" : "off",
			    agents.items[i].last_seen_at);
	agent_list_release(&agents);
	assert_int_equal(projection_counts(p, &c), 0);
	strbuf_addf(&out, "%ld messages, %ld conflicts\n", c.messages,
		    c.conflicts);
	digest_search(p, &out);
	return strbuf_detach(&out, NULL);
}

static struct projection *fresh(int n)
{
	struct projection *p;
	char dir[256];

	snprintf(dir, sizeof(dir), "%s/%d", tmpdir, n);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(projection_open(&p, dir), 0);
	return p;
}

static void test_order_independence(void **state)
{
	size_t *order = calloc(nr_lines, sizeof(*order));
	char *first = NULL;
	size_t i;
	int run;

	(void)state;
	for (run = 0; run < 50; run++) {
		struct projection *p = fresh(run);
		char *d;

		for (i = 0; i < nr_lines; i++)
			order[i] = i;
		for (i = nr_lines - 1; run && i > 0; i--) {
			size_t j = next_rand() % (i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		apply_all(p, order);
		d = digest(p);
		if (!first)
			first = d;
		else if (strcmp(first, d))
			fail_msg("order %d differs:\n%s\n---\n%s", run, first,
				 d);
		else
			free(d);
		projection_free(p);
	}
	/* the answers are not trivially empty */
	assert_non_null(strstr(first, "edit two"));
	assert_null(strstr(first, "forged"));
	assert_non_null(strstr(first, "d1"));
	assert_non_null(strstr(first, "agent a4 impl"));
	assert_non_null(strstr(first, "agent a3 review"));
	assert_non_null(strstr(first, "edit three"));
	assert_null(strstr(first, "pinned"));
	assert_non_null(strstr(first, "31 messages, 2 conflicts"));
	assert_non_null(strstr(first, "search edit:\nmsg_"));
	free(first);
	free(order);
}

static void test_duplicates_and_conflicts(void **state)
{
	struct projection *p = fresh(100);
	struct projection_counts c;
	struct event ev;
	const char *l = lines[0].text;
	struct strbuf changed = STRBUF_INIT;

	(void)state;
	assert_int_equal(event_parse(&ev, l, strlen(l), 0, NULL), 0);
	assert_int_equal(projection_apply(p, &ev, NULL,
					  event_line_hash(l, strlen(l))), 1);
	assert_int_equal(projection_apply(p, &ev, NULL,
					  event_line_hash(l, strlen(l))), 0);
	/* same id, other bytes: a conflict, first one stands */
	strbuf_addstr(&changed, l);
	changed.buf[changed.len - 1] = ' ';
	strbuf_addch(&changed, '}');
	assert_int_equal(projection_apply(p, &ev, NULL,
			 event_line_hash(changed.buf, changed.len)),
			 THRUM_ECONFLICT);
	assert_int_equal(projection_counts(p, &c), 0);
	assert_int_equal(c.events, 1);
	assert_int_equal(c.conflicts, 1);
	event_release(&ev);
	strbuf_release(&changed);
	projection_free(p);
}

static void test_prefix_lookup(void **state)
{
	struct projection *p = fresh(101);
	struct message_list l = MESSAGE_LIST_INIT;
	size_t *order = calloc(nr_lines, sizeof(*order));
	struct inbox_query q = { 0 };
	char prefix[64];
	size_t i;

	(void)state;
	for (i = 0; i < nr_lines; i++)
		order[i] = i;
	apply_all(p, order);
	q.all = 1;
	q.include_deleted = 1;
	q.me = "a1";
	assert_int_equal(projection_inbox(p, &q, &l), 0);
	assert_true(l.nr > 2);
	/* the shortest prefix of the first id that no other id shares */
	{
		const char *id = l.items[0].message_id;
		size_t need = 0, j;

		for (j = 1; j < l.nr; j++) {
			const char *o = l.items[j].message_id;
			size_t k = 0;

			while (id[k] && id[k] == o[k])
				k++;
			if (k + 1 > need)
				need = k + 1;
		}
		snprintf(prefix, sizeof(prefix), "%.*s", (int)need, id);
		assert_true(strlen(prefix) < strlen(id) ||
			    need == strlen(id));
	}
	message_list_release(&l);
	assert_int_equal(projection_message(p, prefix, "a1", &l), 0);
	assert_int_equal(l.nr, 1);
	assert_int_equal(strncmp(l.items[0].message_id, prefix,
				 strlen(prefix)), 0);
	message_list_release(&l);
	assert_int_equal(projection_message(p, "msg_", "a1", &l),
			 THRUM_EINVALID);
	assert_int_equal(projection_message(p, "msg_ZZZ", "a1", &l),
			 THRUM_ENOTFOUND);
	free(order);
	projection_free(p);
}

/* parse and apply one kept line, found in the log file of shard */
static int apply_line(struct projection *p, const char *text,
		      const char *shard)
{
	struct event ev;
	int r;

	assert_int_equal(event_parse(&ev, text, strlen(text), 0, NULL), 0);
	r = projection_apply(p, &ev, shard, event_line_hash(text,
							     strlen(text)));
	event_release(&ev);
	return r;
}

/* the last kept line, taken out of the shared history */
static char *take_last(void)
{
	char *text = lines[--nr_lines].text;

	free(lines[nr_lines].shard);
	return text;
}

static void test_anonymous_edit_delete(void **state)
{
	struct projection *p = fresh(102);
	struct message_list l = MESSAGE_LIST_INIT;
	char *id = message("a1", "a2", NULL, NULL, 0, 10);
	char *create = take_last(), *ed, *del;
	struct event ev;

	(void)state;
	/* no agent_id, and in events.jsonl: no author at all */
	fill_message(&ev, EV_MESSAGE_EDIT, id, 20);
	ev.body_content = strdup("anonymous");
	keep(&ev, NULL);
	ed = take_last();
	fill_message(&ev, EV_MESSAGE_DELETE, id, 21);
	keep(&ev, NULL);
	del = take_last();

	assert_int_equal(projection_begin(p), 0);
	assert_int_equal(apply_line(p, create, "a1"), 1);
	assert_int_equal(apply_line(p, ed, NULL), 1);
	assert_int_equal(apply_line(p, del, NULL), 1);
	assert_int_equal(projection_commit(p), 0);
	assert_int_equal(projection_message(p, id, "a1", &l), 0);
	assert_int_equal(l.nr, 1);
	assert_string_equal(l.items[0].content, id + 20);
	assert_int_equal(l.items[0].edited, 0);
	assert_int_equal(l.items[0].deleted, 0);
	message_list_release(&l);
	free(create);
	free(ed);
	free(del);
	free(id);
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
	struct strbuf cmd = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < nr_lines; i++) {
		free(lines[i].text);
		free(lines[i].shard);
	}
	free(lines);
	unit_rm_rf(tmpdir);
	strbuf_release(&cmd);
	return 0;
}

/* apply one event, written to shard, in a transaction of its own */
static void apply_one(struct projection *p, struct event *ev,
		      const char *shard)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(event_serialize(ev, &sb, 0), 0);
	assert_int_equal(projection_begin(p), 0);
	assert_int_equal(projection_apply(p, ev, shard,
					  event_line_hash(sb.buf, sb.len)), 1);
	assert_int_equal(projection_commit(p), 0);
	strbuf_release(&sb);
	event_release(ev);
}

static void create_msg(struct projection *p, const char *id,
		       const char *from)
{
	struct event ev;

	fill_message(&ev, EV_MESSAGE_CREATE, id, 0);
	ev.agent_id = strdup(from);
	ev.body_content = strdup("original");
	event_add_scope(&ev, "broadcast", "everyone");
	apply_one(p, &ev, from);
}

/* the message as a1 sees it (deleted ones included) */
static void show(struct projection *p, const char *id,
		 struct message_list *l)
{
	assert_int_equal(projection_message(p, id, "a1", l), 0);
	assert_int_equal(l->nr, 1);
}

/*
 * A delete written by someone else (in their own shard, as the original
 * writes it: no agent_id) does not delete; the author's own does.
 */
static void test_delete_by_author_only(void **state)
{
	static const char id[] = "msg_01JKM4T2YQ8M3E5X6Z7A9B0C1D";
	struct projection *p = fresh(200);
	struct message_list l = MESSAGE_LIST_INIT;
	struct event ev;

	(void)state;
	create_msg(p, id, "a1");
	fill_message(&ev, EV_MESSAGE_DELETE, id, 10);
	apply_one(p, &ev, "a2");
	fill_message(&ev, EV_MESSAGE_DELETE, id, 11);
	ev.agent_id = strdup("a2");
	apply_one(p, &ev, "a2");
	show(p, id, &l);
	assert_int_equal(l.items[0].deleted, 0);
	message_list_release(&l);

	fill_message(&ev, EV_MESSAGE_DELETE, id, 12);
	apply_one(p, &ev, "a1");
	show(p, id, &l);
	assert_int_equal(l.items[0].deleted, 1);
	message_list_release(&l);
	projection_free(p);
}

/*
 * Two edits by the author at the same instant: the greater event_id
 * wins, whichever arrives first.
 */
static void test_equal_instant_edits(void **state)
{
	static const char id[] = "msg_01JKM4T2YQ8M3E5X6Z7A9B0C1E";
	static const char *const eid[] = {
		"evt_01JKM4T2YQ8M3E5X6Z7A9B0C1F",	/* smaller */
		"evt_01JKM4T2YQ8M3E5X6Z7A9B0C1G",	/* greater */
	};
	static const char *const text[] = { "smaller id", "greater id" };
	int run, k;

	(void)state;
	for (run = 0; run < 2; run++) {
		struct projection *p = fresh(201 + run);
		struct message_list l = MESSAGE_LIST_INIT;

		create_msg(p, id, "a1");
		for (k = 0; k < 2; k++) {
			int which = run ? 1 - k : k;
			struct event ev;

			fill(&ev, EV_MESSAGE_EDIT, 20);
			free(ev.event_id);
			ev.event_id = strdup(eid[which]);
			ev.message_id = strdup(id);
			ev.agent_id = strdup("a1");
			ev.body_content = strdup(text[which]);
			apply_one(p, &ev, "a1");
		}
		show(p, id, &l);
		assert_int_equal(l.items[0].edited, 1);
		assert_string_equal(l.items[0].content, "greater id");
		message_list_release(&l);
		projection_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delete_by_author_only),
		cmocka_unit_test(test_equal_instant_edits),
		cmocka_unit_test(test_order_independence),
		cmocka_unit_test(test_duplicates_and_conflicts),
		cmocka_unit_test(test_prefix_lookup),
		cmocka_unit_test(test_anonymous_edit_delete),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

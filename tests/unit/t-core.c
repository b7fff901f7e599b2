/*
 * the domain core (core.h): messaging, groups and sessions over a real
 * store and projection in a temporary directory, with nothing printed
 * and nothing written when an operation is refused.
 */
#include "unit.h"
#include "unit-store.h"
#include "usage.h"
#include "agents.h"
#include "core.h"
#include "event.h"
#include "groups.h"
#include "identity.h"
#include "messaging.h"
#include "projection.h"
#include "repo.h"
#include "session.h"
#include "store.h"
#include "strbuf.h"
#include "wrapper.h"

static char tmpdir[] = "/tmp/t-core-XXXXXX";
static struct repo r;
static struct store s = STORE_INIT;
static struct projection *proj;
static struct identity alice, bob;
static struct core c;

/* all the lines of the log, to see that a refusal wrote nothing */
static size_t log_lines(void)
{
	const char *files[] = { "events.jsonl", "messages/alice.jsonl",
				"messages/bob.jsonl" };
	struct strbuf sb = STRBUF_INIT;
	size_t i, j, n = 0;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		char *path = path_join(r.sync_dir, files[i]);

		strbuf_reset(&sb);
		if (strbuf_read_file(&sb, path, 0) >= 0)
			for (j = 0; j < sb.len; j++)
				n += sb.buf[j] == '\n';
		free(path);
	}
	strbuf_release(&sb);
	return n;
}

static void catch_up(void)
{
	assert_int_equal(projection_update(proj, &s, NULL, NULL), 0);
	c.appended = 0;
}

static void act_as(struct identity *id)
{
	c.me = id;
	c.me_is_user = 0;
}

/* an agent.register for id, as quickstart appends it */
static void register_agent(struct identity *id, const char *name,
			   const char *role)
{
	struct event ev = EVENT_INIT;
	struct event *list[1] = { &ev };

	memset(id, 0, sizeof(*id));
	id->name = xstrdup(name);
	id->agent_id = xstrdup(name);
	id->kind = xstrdup("agent");
	id->role = xstrdup(role);
	assert_int_equal(core_new_event(&c, &ev, EV_AGENT_REGISTER), 0);
	ev.agent_id = xstrdup(name);
	ev.kind = xstrdup("agent");
	ev.name = xstrdup(name);
	ev.role = xstrdup(role);
	ev.module = xstrdup("core");
	assert_int_equal(core_append(&c, NULL, list, 1), 0);
	event_release(&ev);
}

static void test_send_and_find(void **state)
{
	struct send_request rq = { "hello bob", "@bob", "high", NULL };
	struct audience to = AUDIENCE_INIT;
	struct message_list l = MESSAGE_LIST_INIT;
	char *id = NULL, *thread = NULL, *parent = NULL, *reply = NULL;

	(void)state;
	act_as(&alice);
	assert_int_equal(message_send_request(&c, &rq, &to, &id, &thread,
					      &parent), 0);
	assert_true(c.appended);
	assert_null(parent);
	assert_int_equal(to.agents.nr, 1);
	assert_string_equal(to.agents.v[0], "bob");
	catch_up();
	assert_int_equal(message_lookup(&c, id, &l), 0);
	assert_string_equal(l.items[0].content, "hello bob");
	assert_string_equal(l.items[0].priority, "high");
	message_list_release(&l);
	audience_release(&to);

	/* bob replies: to alice, in a new thread */
	act_as(&bob);
	rq.body = "hi alice";
	rq.to = NULL;
	rq.priority = NULL;
	rq.reply_to = id;
	free(thread);
	assert_int_equal(message_send_request(&c, &rq, &to, &reply, &thread,
					      &parent), 0);
	assert_string_equal(parent, id);
	assert_non_null(thread);
	assert_int_equal(to.agents.nr, 1);
	assert_string_equal(to.agents.v[0], "alice");
	audience_release(&to);
	free(id);
	free(reply);
	free(thread);
	free(parent);
	catch_up();
}

static void test_refusals_write_nothing(void **state)
{
	struct send_request rq = { "x", "@nobody", NULL, NULL };
	struct audience to = AUDIENCE_INIT;
	char *id = NULL, *thread = NULL, *parent = NULL, *ev = NULL;
	size_t before = log_lines();
	const char *members[] = { "@alice", "@nobody" };

	(void)state;
	act_as(&alice);
	set_error_quiet(1);
	/* an unknown recipient */
	assert_int_equal(message_send_request(&c, &rq, &to, &id, &thread,
					      &parent), -1);
	audience_release(&to);
	/* a reply to a message that is not there */
	rq.to = NULL;
	rq.reply_to = "msg_nothere";
	assert_int_equal(message_send_request(&c, &rq, &to, &id, &thread,
					      &parent), -1);
	audience_release(&to);
	/* the human user cannot write */
	c.me_is_user = 1;
	rq.reply_to = NULL;
	assert_int_equal(message_send_request(&c, &rq, &to, &id, &thread,
					      &parent), -1);
	c.me_is_user = 0;
	/* one bad member: no member is added */
	assert_int_equal(group_create(&c, "leads", NULL, &id), 0);
	free(id);
	id = NULL;
	catch_up();
	before = log_lines();
	assert_int_equal(group_change_members(&c, 1, "leads", members, 2), -1);
	/* a group named like an agent */
	assert_int_equal(group_create(&c, "bob", NULL, &id), -1);
	/* only the author edits */
	assert_int_equal(message_change(&c, "msg_nothere", "b", NULL, &id,
					&ev), -1);
	/* no session to end */
	free(alice.session_id);
	alice.session_id = NULL;
	assert_int_equal(session_end(&c, NULL), -1);
	set_error_quiet(0);
	assert_int_equal(log_lines(), before);
	assert_null(id);
	assert_null(ev);
}

static void test_edit_only_by_author(void **state)
{
	struct send_request rq = { "draft", "@everyone", NULL, NULL };
	struct audience to = AUDIENCE_INIT;
	struct message_list l = MESSAGE_LIST_INIT;
	char *id, *thread, *parent, *full = NULL, *ev = NULL;

	(void)state;
	act_as(&alice);
	assert_int_equal(message_send_request(&c, &rq, &to, &id, &thread,
					      &parent), 0);
	audience_release(&to);
	catch_up();
	act_as(&bob);
	set_error_quiet(1);
	assert_int_equal(message_change(&c, id, "mine now", NULL, &full, &ev),
			 -1);
	set_error_quiet(0);
	act_as(&alice);
	assert_int_equal(message_change(&c, id, "final", NULL, &full, &ev), 0);
	assert_string_equal(full, id);
	assert_non_null(ev);
	catch_up();
	assert_int_equal(message_lookup(&c, id, &l), 0);
	assert_string_equal(l.items[0].content, "final");
	message_list_release(&l);
	free(id);
	free(thread);
	free(full);
	free(ev);
}

static void test_groups_and_sessions(void **state)
{
	const char *members[] = { "@bob", "role:reviewer" };
	struct group_list gl = GROUP_LIST_INIT;
	char *gid = NULL;
	size_t i, found = 0;

	(void)state;
	act_as(&alice);
	assert_int_equal(group_create(&c, "@team", "the team", &gid), 0);
	assert_true(!strncmp(gid, "grp_", 4));
	catch_up();
	assert_int_equal(group_change_members(&c, 1, "team", members, 2), 0);
	catch_up();
	assert_int_equal(projection_groups(proj, &gl), 0);
	for (i = 0; i < gl.nr; i++)
		if (!strcmp(gl.items[i].name, "team")) {
			found = 1;
			assert_int_equal(gl.items[i].members.nr, 2);
		}
	assert_true(found);
	group_list_release(&gl);
	assert_int_equal(group_delete(&c, "team"), 0);
	free(gid);

	/* start, start again (ends the first), end */
	assert_int_equal(session_start(&c, "review the parser"), 0);
	assert_non_null(alice.session_id);
	assert_string_equal(alice.intent, "review the parser");
	gid = xstrdup(alice.session_id);
	assert_int_equal(session_start(&c, NULL), 0);
	assert_string_not_equal(alice.session_id, gid);
	assert_int_equal(session_end(&c, "done"), 0);
	assert_null(alice.session_id);
	free(gid);
}

static size_t count_type(const char *type)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = path_join(r.sync_dir, "events.jsonl");
	const char *p;
	size_t n = 0;

	assert_true(strbuf_read_file(&sb, path, 0) >= 0);
	for (p = sb.buf; (p = strstr(p, type)); p++)
		n++;
	strbuf_release(&sb);
	free(path);
	return n;
}

static void test_quickstart(void **state)
{
	struct agent_start rq = { "carol", "tester", "ui", "check the ui",
				  "/w", "host" };
	struct identity id = IDENTITY_INIT, again = IDENTITY_INIT;
	size_t regs = count_type("\"agent.register\"");
	int updated = -1;

	(void)state;
	assert_int_equal(agent_quickstart(&c, &rq, &id, &updated), 0);
	assert_int_equal(updated, 0);
	assert_string_equal(id.intent, "check the ui");
	assert_non_null(id.session_id);
	assert_int_equal(count_type("\"agent.register\""), regs + 1);
	/* unchanged: no new agent.register, the open session restarts */
	rq.intent = NULL;
	assert_int_equal(agent_quickstart(&c, &rq, &again, &updated), 0);
	assert_int_equal(updated, 1);
	assert_int_equal(count_type("\"agent.register\""), regs + 1);
	assert_string_equal(again.intent, "check the ui");
	assert_string_not_equal(again.session_id, id.session_id);
	assert_true(count_type("\"restart\"") >= 1);
	identity_release(&id);
	identity_release(&again);
}

static int setup(void **state)
{
	(void)state;
	if (unit_store_dirs(tmpdir, &r))
		return -1;
	r.local_thrum_dir = path_join(tmpdir, "thrum");
	r.thrum_dir = xstrdup(r.local_thrum_dir);
	r.git_dir = xstrdup(tmpdir);
	r.common_dir = xstrdup(tmpdir);
	r.worktree = xstrdup(tmpdir);
	if (mkdir(r.local_thrum_dir, 0755))
		return -1;
	store_init(&s, &r);
	if (projection_open(&proj, r.var_dir) < 0)
		return -1;
	c.store = &s;
	c.proj = proj;
	c.repo = &r;
	c.origin = "d_01JKM4T2YQ8M3E5X6Z7A9B0C1D";
	register_agent(&alice, "alice", "coder");
	register_agent(&bob, "bob", "reviewer");
	catch_up();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	projection_free(proj);
	identity_release(&alice);
	identity_release(&bob);
	unit_store_cleanup(tmpdir, &r, &s);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_and_find),
		cmocka_unit_test(test_refusals_write_nothing),
		cmocka_unit_test(test_edit_only_by_author),
		cmocka_unit_test(test_groups_and_sessions),
		cmocka_unit_test(test_quickstart),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

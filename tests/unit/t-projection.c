/*
 * projection: the same set of events applied in 50 random orders gives
 * identical answers and identical tables, every one of them
 * (technical/architecture.adoc; cleanups, purges and group updates
 * included), duplicates are no-ops, conflicting
 * duplicates are counted, edits and deletes count only from the author,
 * and signed events count only when signed by the key of their name
 * (keys arrive in any order too: rotation, conflict, forgeries).
 */
#include "unit.h"
#include "unit-scratch.h"
#include "unit-tables.h"
#include "date.h"
#include "event.h"
#include "projection.h"
#include "projection-internal.h"
#include "sign.h"
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
static char *thread_probe[2];	/* messages whose threads the digest reads */
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

/* non-NULL: keep() signs what it keeps with this key */
static const struct sign_key *signing;
static struct sign_key k_s1, k_s1new, k_s2, k_evil, k_o1, k_o1new;

static void keep(struct event *ev, const char *shard)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(event_serialize_signed(ev, &sb, signing), 0);
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

/* a group event of gid by actor: create (name), add or remove, delete */
static void group_by(enum event_type type, const char *gid,
		     const char *actor, const char *value, int64_t at)
{
	struct event ev;

	fill(&ev, type, at);
	ev.group_id = strdup(gid);
	ev.actor = strdup(actor);
	if (type == EV_GROUP_CREATE) {
		ev.name = strdup(value);
	} else if (type == EV_GROUP_UPDATE) {
		ev.new_name = strdup(value);
	} else if (value) {
		ev.member_type = strdup("agent");
		ev.member_value = strdup(value);
	}
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

/* a registration of name that names key pub */
static void agent_key(const char *name, const char *role, int64_t at,
		      const struct sign_key *pub)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;

	fill(&ev, EV_AGENT_REGISTER, at);
	ev.agent_id = strdup(name);
	ev.name = strdup(name);
	ev.role = strdup(role);
	ev.module = strdup("m");
	sign_pubkey_text(pub->pk, &sb);
	ev.pubkey = strbuf_detach(&sb, NULL);
	keep(&ev, NULL);
}

/*
 * s1 and s2 sign; s1 rotates its key at 500; evil signs as both.  What
 * does not count: an unsigned edit by s1, a delete of s2's message
 * signed by evil, an unsigned receipt by s2, evil's registration of s2
 * (a key conflict), and s1's old key after the rotation: 5 events.
 * Sessions: s1's signed ses_s1 stays open and ses_sx never starts: an
 * unsigned end of ses_s1 and an unsigned start of ses_sx as s1 do not
 * count, and an end of ses_s1 signed by "ev", a name with no key,
 * counts as ev's act but ends only a session ev started.  Work contexts
 * and intents: s1's signed one for ses_s1 is shown, a newer unsigned one
 * as s1 does not count.  Groups: s1's signed sgroup with s2 in it keeps
 * s2, takes no a1 and is not deleted by unsigned lines as s1 (11 events).
 * Unsigned as s1 too, and none counts: an earlier create of grp_s and
 * of grp_f, a rename of grp_s, a cleanup of s1 and a purge of all that
 * was made before 1 s; a purge that names nobody, and one by a1, a name
 * without a key; and an update as s2 newer than all s2 did (19 events).  In the orders where they arrive
 * before s1's key, each counts until the key comes.
 */
static void work_intent(const char *who, const char *sid, const char *branch,
			const char *file, int64_t at);
static void cleanup(const char *who, int64_t at);
static void purge_as(const char *who, int64_t cutoff_ms, int64_t at);

static void signed_history(void)
{
	char *m1, *m2, *m3;

	signing = &k_s1;
	agent_key("s1", "impl", 0, &k_s1);
	signing = &k_s2;
	agent_key("s2", "review", 1, &k_s2);
	signing = &k_s1;
	m1 = message("s1", "s2", NULL, NULL, 0, 20);
	edit(m1, "s1", "signed edit", 30, 1);
	signing = &k_s2;
	m2 = message("s2", "s1", NULL, NULL, 0, 21);
	signing = NULL;
	edit(m1, "s1", "unsigned edit", 40, 1);
	receipt(m1, "s2", 50);
	signing = &k_evil;
	delete(m2, "s2", 45);
	agent_key("s2", "owned", 60, &k_evil);
	session("ev", "ses_s1", 0, 85);
	signing = &k_s1;
	session("s1", "ses_s1", 1, 70);
	work_intent("s1", "ses_s1", "real", "real.c", 72);
	signing = NULL;
	session("s1", "ses_s1", 0, 80);
	session("s1", "ses_sx", 1, 90);
	work_intent("s1", "ses_s1", "forged", "forged.c", 95);
	signing = &k_s1;
	group_by(EV_GROUP_CREATE, "grp_s", "s1", "sgroup", 100);
	group_by(EV_GROUP_MEMBER_ADD, "grp_s", "s1", "s2", 110);
	free(message("s1", NULL, NULL, "sgroup", 0, 140));
	signing = NULL;
	group_by(EV_GROUP_MEMBER_REMOVE, "grp_s", "s1", "s2", 120);
	group_by(EV_GROUP_MEMBER_ADD, "grp_s", "s1", "a1", 125);
	group_by(EV_GROUP_DELETE, "grp_s", "s1", NULL, 130);
	group_by(EV_GROUP_CREATE, "grp_s", "s1", "forgedgrp", 50);
	group_by(EV_GROUP_CREATE, "grp_f", "s1", "forgedf", 51);
	group_by(EV_GROUP_UPDATE, "grp_s", "s1", "forgedname", 135);
	cleanup("s1", 150);
	purge_as("s1", 1000, 160);
	purge_as(NULL, 1000, 170);	/* nobody's: never counts */
	purge_as("a1", 1000, 180);	/* a1 has no key: does not count */
	/* newer than s2's last act: moves its last seen in no order */
	work_intent("s2", "ses_s2x", "late", "late.c", 900);
	signing = &k_s1;
	agent_key("s1", "impl", 500, &k_s1new);
	signing = &k_s1new;
	m3 = message("s1", "s2", NULL, NULL, 0, 600);
	signing = &k_s1;
	free(message("s1", "s2", NULL, NULL, 0, 700));
	signing = NULL;
	free(m1);
	free(m2);
	free(m3);
}

/* what a vouch names the line kept last by: "<digest>:<event_id>" */
static char *last_entry(void)
{
	const char *text = lines[nr_lines - 1].text;
	char digest[SIGN_DIGEST_TEXT_MAX + 1];
	struct strbuf sb = STRBUF_INIT;
	struct event ev;

	assert_int_equal(event_parse(&ev, text, strlen(text), 0, NULL), 0);
	sign_line_digest(text, strlen(text), digest);
	strbuf_addf(&sb, "%s:%s", digest, ev.event_id);
	event_release(&ev);
	return strbuf_detach(&sb, NULL);
}

/* an agent.vouch as who of entries[0..nr) */
static void vouch(const char *who, char **entries, size_t nr, int64_t at)
{
	struct event ev;
	size_t i;

	fill(&ev, EV_AGENT_VOUCH, at);
	ev.agent_id = strdup(who);
	for (i = 0; i < nr; i++)
		assert_int_equal(event_add_vouched(&ev, entries[i]), 0);
	keep(&ev, NULL);
}

/*
 * o1, an agent of the original Thrum: an unsigned registration and
 * messages; its key at 300, and its vouch of the registration and the
 * first message at 301.  What does not count (5 events): the second
 * message, dated before the key but owned by no vouch; the third, owned
 * only by a vouch signed by evil, which does not count either; one at
 * 400 that a vouch of the key at 350 names (a vouch owns only lines
 * before it); and one at 450 that a vouch at 600 names, signed by the
 * key o1 rotated to at 500 (only the first key vouches).
 */
static char *o1_kept, *o1_unvouched, *o1_evil, *o1_late, *o1_rotated;

/* an unsigned message of o1 at msg_at, named by a vouch at vouch_at */
static char *vouched_by(const struct sign_key *key, int64_t msg_at,
			int64_t vouch_at)
{
	char *id, *entry;

	signing = NULL;
	id = message("o1", "a1", NULL, NULL, 0, msg_at);
	entry = last_entry();
	signing = key;
	vouch("o1", &entry, 1, vouch_at);
	signing = NULL;
	free(entry);
	return id;
}

static void vouched_history(void)
{
	char *ids[2];

	signing = NULL;
	agent("o1", "impl", 200);
	ids[0] = last_entry();
	o1_kept = message("o1", "a1", NULL, NULL, 0, 210);
	ids[1] = last_entry();
	o1_unvouched = message("o1", "a1", NULL, NULL, 0, 220);
	signing = &k_o1;
	agent_key("o1", "impl", 300, &k_o1);
	vouch("o1", ids, 2, 301);
	agent_key("o1", "impl", 500, &k_o1new);	/* the rotation */
	o1_evil = vouched_by(&k_evil, 230, 302);
	o1_late = vouched_by(&k_o1, 400, 350);
	o1_rotated = vouched_by(&k_o1new, 450, 600);
	free(ids[0]);
	free(ids[1]);
}

/* a message from from to agent to, with a scope and ref, answering parent */
static char *tagged(const char *from, const char *to, const char *parent,
		    const char *scope, int64_t at)
{
	struct event ev;
	char *id = ulid_new_id("msg_");

	fill(&ev, EV_MESSAGE_CREATE, at);
	ev.message_id = strdup(id);
	ev.agent_id = strdup(from);
	ev.body_content = strdup(id + 20);
	event_add_scope(&ev, "module", scope);
	event_add_ref(&ev, "issue", id + 22);
	event_add_recipient(&ev, to);
	event_add_ref(&ev, "mention", to);
	if (parent) {
		event_add_ref(&ev, "reply_to", parent);
		ev.thread_id = strdup("thr_1");
	}
	keep(&ev, from);
	return id;
}

/*
 * Threads and scopes: r1 <- r2 <- r3, r1 <- r4, a create of r1 forged
 * into another shard with other scopes (it loses), and two messages that
 * answer each other (a cycle, from a hostile log)
 */
static void make_threads(void)
{
	char *r1 = tagged("a1", "a2", NULL, "auth", 500);
	char *r2 = tagged("a2", "a1", r1, "auth", 501);
	char *r3 = tagged("a1", "a3", r2, "ui", 502);
	char *r4 = tagged("a3", "a1", r1, "db", 503);
	struct event ev;
	char *c1 = ulid_new_id("msg_"), *c2 = ulid_new_id("msg_");

	fill_message(&ev, EV_MESSAGE_CREATE, r1, 499);
	ev.agent_id = strdup("a1");
	ev.body_content = strdup("forged create");
	event_add_scope(&ev, "module", "forged");
	keep(&ev, "a2");
	receipt(r3, "a3", 600);
	fill_message(&ev, EV_MESSAGE_CREATE, c1, 510);
	ev.agent_id = strdup("a4");
	ev.body_content = strdup("cycle one");
	event_add_ref(&ev, "reply_to", c2);
	keep(&ev, "a4");
	fill_message(&ev, EV_MESSAGE_CREATE, c2, 511);
	ev.agent_id = strdup("a4");
	ev.body_content = strdup("cycle two");
	event_add_ref(&ev, "reply_to", c1);
	keep(&ev, "a4");
	thread_probe[0] = r3;
	thread_probe[1] = c1;
	free(tagged("a2", "a1", NULL, "purged", 6));	/* before the purge */
	free(r1);
	free(r2);
	free(r4);
	free(c2);
}

/* an agent.update of who's session sid: on branch, one uncommitted file */
static void work(const char *who, const char *sid, const char *branch,
		 const char *file, int64_t at)
{
	struct event ev;

	fill(&ev, EV_AGENT_UPDATE, at);
	ev.agent_id = strdup(who);
	ev.wcs = calloc(1, sizeof(*ev.wcs));
	ev.nr_wcs = 1;
	ev.wcs[0].session_id = strdup(sid);
	ev.wcs[0].branch = strdup(branch);
	event_work_context_add_file(&ev.wcs[0], 1, file);
	event_work_context_add_file(&ev.wcs[0], 0, "common.c");
	keep(&ev, NULL);
}

/* a work context of who's session sid, with an intent */
static void work_intent(const char *who, const char *sid, const char *branch,
			const char *file, int64_t at)
{
	struct event ev;

	fill(&ev, EV_AGENT_UPDATE, at);
	ev.agent_id = strdup(who);
	ev.wcs = calloc(1, sizeof(*ev.wcs));
	ev.nr_wcs = 1;
	ev.wcs[0].session_id = strdup(sid);
	ev.wcs[0].branch = strdup(branch);
	ev.wcs[0].intent = strdup(branch);
	ev.intent = strdup(branch);
	event_work_context_add_file(&ev.wcs[0], 1, file);
	keep(&ev, NULL);
}

/* agent.cleanup, purge.executed (cutoff_ms), group.update */
static void cleanup(const char *who, int64_t at)
{
	struct event ev;

	fill(&ev, EV_AGENT_CLEANUP, at);
	ev.agent_id = strdup(who);
	ev.reason = strdup("manual deletion");
	ev.method = strdup("manual");
	keep(&ev, NULL);
}

/* a purge written by who (NULL: by nobody in particular) */
static void purge_as(const char *who, int64_t cutoff_ms, int64_t at)
{
	char ts[DATE_RFC3339_LEN + 1];
	struct event ev;

	fill(&ev, EV_PURGE_EXECUTED, at);
	date_format_rfc3339(base_ns + cutoff_ms * 1000000LL, ts);
	ev.cutoff = strdup(ts);
	ev.agent_id = who ? strdup(who) : NULL;
	keep(&ev, NULL);
}

/* a purge by s2, signed with its key: only such a purge counts */
static void purge(int64_t cutoff_ms, int64_t at)
{
	const struct sign_key *was = signing;

	signing = &k_s2;
	purge_as("s2", cutoff_ms, at);
	signing = was;
}

static void group_update(const char *gid, const char *name,
			 const char *description, int64_t at)
{
	struct event ev;

	fill(&ev, EV_GROUP_UPDATE, at);
	ev.group_id = strdup(gid);
	ev.actor = strdup("a1");
	ev.new_name = name ? strdup(name) : NULL;
	ev.new_description = description ? strdup(description) : NULL;
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
	/* work contexts: the newest of each session, by (instant, id) */
	session("a1", "ses_w", 1, 12);
	session("a1", "ses_wb", 1, 12);
	work("a1", "ses_w", "old", "old.c", 13);
	work("a1", "ses_w", "new", "new.c", 20);
	work("a1", "ses_w", "same-ms", "same.c", 20);
	work("a1", "ses_wb", "other", "other.c", 15);
	work("a2", "ses_w", "forged", "forged.c", 30);	/* not a2's */
	work("a2", "ses_2", "ended", "ended.c", 30);
	work("a1", "ses_1", "purged", "purged.c", 30);	/* its session is */
	/* renamed (the newest per field wins), described, then not */
	group_update("grp_1", "chiefs", NULL, 80);
	group_update("grp_1", "elders", "old text", 75);
	group_update("grp_1", NULL, "the chiefs", 81);
	group_update("grp_2", "orphans", "before its create", 82);
	group("grp_2", "early", 83);
	/*
	 * a purge of what was made before 9 ms (which ends the sessions
	 * started by then too), and a5 deleted at 35 ms, registered again
	 * at 45: what they cover goes, whenever it arrives
	 */
	purge(9, 500);
	agent("a5", "impl", 2);
	cleanup("a5", 35);
	agent("a5", "impl", 45);
	agent("a6", "impl", 3);	/* deleted for good */
	session("a6", "ses_6", 1, 10);	/* nor last seen, in any order */
	cleanup("a6", 36);
	session("a5", "ses_4", 1, 20);
	/* an intent from before a5's cleanup is not its intent after */
	work_intent("a5", "ses_4", "stale", "stale.c", 30);
	session("a5", "ses_5", 1, 60);
	for (i = 0; i < 4; i++) {
		char *old = message(i < 2 ? "a2" : "a5", "a1", NULL, NULL, 0,
				    i < 2 ? 5 + i : 20 + 5 * i);

		edit(old, i < 2 ? "a2" : "a5", "edit gone", 600, 1);
		receipt(old, "a1", 601);
		free(old);
	}
	free(message("a5", "a1", NULL, NULL, 0, 40));	/* after: it stays */

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
	make_threads();
}

static void apply_all(struct projection *p, const size_t *order)
{
	size_t i;

	assert_int_equal(projection_begin(p), 0);
	for (i = 0; i < nr_lines; i++) {
		const struct line *l = &lines[order[i]];
		struct event ev;
		int r;

		assert_int_equal(event_parse(&ev, l->text, strlen(l->text),
					     EVENT_PARSE_VERIFY, NULL), 0);
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

		strbuf_addf(out, "%s|%s|%s|r%d e%d d%d v%d|", m->message_id,
			    m->agent_id, m->content, m->is_read, m->edited,
			    m->deleted, m->verified);
		for (j = 0; j < m->audience->nr; j++)
			strbuf_addf(out, "%s,", m->audience->v[j]);
		for (j = 0; j < m->scopes->nr; j++)
			strbuf_addf(out, "s:%s,", m->scopes->v[j]);
		for (j = 0; j < m->refs->nr; j++)
			strbuf_addf(out, "r:%s,", m->refs->v[j]);
		for (j = 0; m->resolved && j < m->resolved->nr; j++)
			strbuf_addf(out, "%s=%d,", m->resolved->v[j],
				    m->resolved_read[j]);
		strbuf_addch(out, '\n');
	}
}

/* what the reading commands see: sent, threads, an inbox by thread */
static void digest_read(struct projection *p, struct strbuf *out,
			const char *me, const char *role)
{
	struct sent_query sq = { me, NULL, 0, 0 };
	struct inbox_query q = { 0 };
	struct message_list l = MESSAGE_LIST_INIT, in = MESSAGE_LIST_INIT;
	int *depth = NULL;
	size_t i, k;

	assert_int_equal(projection_sent(p, &sq, &l), 0);
	strbuf_addf(out, "== sent %s\n", me);
	digest_list(out, &l);
	message_list_release(&l);
	for (k = 0; k < ARRAY_SIZE(thread_probe); k++) {
		assert_int_equal(projection_thread(p, thread_probe[k], me, &l,
						   &depth), 0);
		strbuf_addf(out, "== thread %zu %s\n", k, me);
		for (i = 0; i < l.nr; i++)
			strbuf_addf(out, "%d ", depth[i]);
		digest_list(out, &l);
		message_list_release(&l);
		free(depth);
	}
	q.me = me;
	q.role = role;
	assert_int_equal(projection_inbox(p, &q, &in), 0);
	assert_int_equal(projection_fold_threads(p, me, &in, &l, &depth), 0);
	strbuf_addf(out, "== threads %s\n", me);
	for (i = 0; i < l.nr; i++)
		strbuf_addf(out, "%d ", depth[i]);
	digest_list(out, &l);
	message_list_release(&l);
	free(depth);
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
		{ "a4", "impl" }, { "s1", "impl" }, { "s2", "review" },
	};
	struct strbuf out = STRBUF_INIT;
	struct agent_list agents = AGENT_LIST_INIT;
	struct work_list wl = WORK_LIST_INIT;
	struct group_list groups = GROUP_LIST_INIT;
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
	for (i = 0; i < ARRAY_SIZE(who); i++)
		digest_read(p, &out, who[i][0], who[i][1]);
	assert_int_equal(projection_agents(p, &agents), 0);
	for (i = 0; i < agents.nr; i++)
		strbuf_addf(&out, "agent %s %s %s %s %s\n",
			    agents.items[i].name, agents.items[i].role,
			    agents.items[i].session_id ? "on" : "off",
			    agents.items[i].last_seen_at,
			    agents.items[i].intent ? agents.items[i].intent
						   : "-");
	agent_list_release(&agents);
	assert_int_equal(projection_groups(p, &groups), 0);
	for (i = 0; i < groups.nr; i++) {
		strbuf_addf(&out, "group %s:", groups.items[i].name);
		for (flags = 0; flags < groups.items[i].members.nr; flags++)
			strbuf_addf(&out, " %s",
				    groups.items[i].members.v[flags]);
		strbuf_addch(&out, '\n');
	}
	group_list_release(&groups);
	assert_int_equal(projection_work_contexts(p, &wl), 0);
	for (i = 0; i < wl.nr; i++) {
		const struct event_work_context *wc = &wl.items[i].wc;

		strbuf_addf(&out, "work %s %s %s", wl.items[i].agent_id,
			    wc->session_id, wc->branch);
		for (flags = 0; flags < wc->nr_changed; flags++)
			strbuf_addf(&out, " c:%s", wc->changed_files[flags]);
		for (flags = 0; flags < wc->nr_uncommitted; flags++)
			strbuf_addf(&out, " u:%s", wc->uncommitted_files[flags]);
		strbuf_addch(&out, '\n');
	}
	work_list_release(&wl);
	assert_int_equal(projection_counts(p, &c), 0);
	strbuf_addf(&out, "%ld messages, %ld conflicts\n", c.messages,
		    c.conflicts);
	strbuf_addf(&out, "%d do not count\n",
		    projection_sig_problems(p, NULL, NULL, NULL));
	digest_search(p, &out);
	strbuf_addstr(&out, "== tables\n");
	unit_dump_tables(p->db, &out);
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

static int64_t count(struct projection *p, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(p->db, sql, -1, &s, NULL), 0);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* what the purge (before 9 ms) and a5's cleanup (at 35 ms) removed */
static void check_removed(struct projection *p)
{
	static const char *const none[] = {
		"SELECT COUNT(*) FROM messages"
		" WHERE created_ns < 1770112800009000000",
		"SELECT COUNT(*) FROM messages WHERE agent_id = 'a5'"
		" AND created_ns <= 1770112800035000000",
		"SELECT COUNT(*) FROM messages WHERE content = 'edit gone'",
		/* set aside whole, shown nowhere */
		"SELECT COUNT(*) FROM messages WHERE message_id IN"
		" (SELECT message_id FROM purged_messages)",
		"SELECT COUNT(*) FROM sessions"
		" WHERE session_id NOT IN ('ses_5', 'ses_w', 'ses_wb',"
		" 'ses_s1')",
		"SELECT COUNT(*) FROM sessions WHERE session_id IN"
		" (SELECT session_id FROM purged_sessions)",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(none); i++)
		if (count(p, none[i]))
			fail_msg("not removed: %s", none[i]);
	/*
	 * the four old ones, a tagged one, and m[1], claimed at 0 ms in
	 * another shard
	 */
	assert_int_equal(count(p, "SELECT COUNT(*) FROM purged_messages"), 6);
	assert_int_equal(count(p, "SELECT COUNT(*) FROM messages"
			       " WHERE agent_id = 'a5'"), 1);
	assert_int_equal(count(p, "SELECT COUNT(*) FROM purged_sessions"), 4);
	assert_int_equal(count(p, "SELECT COUNT(*) FROM agent_seen"
			       " WHERE agent_id = 'a6'"), 0);
}

static void test_order_independence(void **state)
{
	size_t *order = calloc(nr_lines, sizeof(*order));
	char *first = NULL, *sx;
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
		check_removed(p);
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
	assert_non_null(strstr(first, "grp_1|chiefs|the chiefs|a1|"));
	assert_non_null(strstr(first, "grp_2|orphans|before its create|"));
	assert_non_null(strstr(first, "== agent_cleanups 3\na5|"));
	assert_null(strstr(first, "agent a6"));
	/* a session ends only by its agent's end that counts */
	assert_non_null(sx = strstr(first, "\nses_s1|s1|"));
	assert_non_null(strstr(sx, "|NULL|NULL\n"));
	assert_true(strstr(sx, "|NULL|NULL\n") < strchr(sx + 1, '\n') + 1);
	assert_null(strstr(first, "\nses_sx|"));
	*strstr(first, "== tables\n") = '\0';
	assert_non_null(strstr(first, "edit two"));
	assert_null(strstr(first, "forged"));
	assert_non_null(strstr(first, "d1"));
	assert_non_null(strstr(first, "agent a4 impl"));
	assert_non_null(strstr(first, "agent a3 review"));
	assert_non_null(strstr(first, "edit three"));
	assert_null(strstr(first, "pinned"));
	assert_non_null(strstr(first, "47 messages, 3 conflicts"));
	/* threads: r1 <- r2 <- r3 and r1 <- r4; a cycle has a root too */
	assert_non_null(strstr(first, "== thread 0 a1\n0 1 2 1 msg_"));
	assert_non_null(strstr(first, "== thread 1 a1\n0 1 msg_"));
	assert_non_null(strstr(first, "s:module:auth,r:issue:"));
	assert_null(strstr(first, "s:module:forged"));
	assert_non_null(strstr(first, "a3=1,"));
	assert_non_null(strstr(first, "a2=0,"));
	/* one context per open session of its own agent, the newest */
	assert_non_null(strstr(first,
		"work a1 ses_w same-ms c:common.c u:same.c\n"
		"work a1 ses_wb other c:common.c u:other.c\n"));
	assert_null(strstr(first, "ended"));
	assert_null(strstr(first, "purged.c"));
	assert_null(strstr(first, "stale"));
	assert_null(strstr(first, "old.c"));
	assert_non_null(strstr(first, "search edit:\nmsg_"));
	/* signed: the rotation holds, the forgeries do not count */
	assert_non_null(strstr(first, "24 do not count"));
	assert_non_null(strstr(first, "group sgroup: @s2\n"));
	assert_non_null(strstr(first, "work s1 ses_s1 real u:real.c\n"));
	assert_non_null(strstr(first, "agent s1 impl on "));
	assert_non_null(strstr(strstr(first, "agent s1 impl on "),
			       " real\n"));
	assert_non_null(strstr(first, "signed edit|r0 e1 d0 v1|"));
	assert_null(strstr(first, "unsigned edit"));
	assert_non_null(strstr(first, "agent s2 review"));
	assert_null(strstr(first, "owned"));
	assert_non_null(strstr(first, "v-1"));
	/* o1's line from before its key counts, owned by its vouch */
	assert_non_null(strstr(first, o1_kept + 20));
	assert_null(strstr(first, o1_unvouched + 20));
	assert_null(strstr(first, o1_evil + 20));
	assert_null(strstr(first, o1_late + 20));
	assert_null(strstr(first, o1_rotated + 20));
	free(first);
	free(order);
}

/*
 * thrum.allowedSigners re-judges every name: an agent an agent.cleanup
 * deleted (a6, registered at 3, cleaned up at 36) stays deleted, and
 * what the cleanups and the purge removed stays removed.
 */
static void test_signers_keep_cleanups(void **state)
{
	struct projection *p = fresh(104);
	size_t *order = calloc(nr_lines, sizeof(*order));
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	FILE *f;
	size_t i;

	(void)state;
	for (i = 0; i < nr_lines; i++)
		order[i] = i;
	apply_all(p, order);
	assert_int_equal(count(p, "SELECT COUNT(*) FROM agents"
			       " WHERE agent_id = 'a6'"), 0);
	assert_int_equal(count(p, "SELECT COUNT(*) FROM agents"
			       " WHERE agent_id = 'a5'"), 1);
	strbuf_addf(&path, "%s/signers-104", tmpdir);
	strbuf_addstr(&text, "s1 ");
	sign_pubkey_text(k_s1.pk, &text);
	strbuf_addstr(&text, "\ns1 ");
	sign_pubkey_text(k_s1new.pk, &text);
	strbuf_addstr(&text, "\ns2 ");
	sign_pubkey_text(k_s2.pk, &text);
	strbuf_addch(&text, '\n');
	assert_non_null(f = fopen(path.buf, "w"));
	assert_int_equal(fputs(text.buf, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(projection_set_signers(p, path.buf), 0);
	/* every name was judged again: s1's keys are the file's now */
	assert_int_equal(count(p, "SELECT COUNT(*) FROM agent_keys"
			       " WHERE agent_id = 's1'"
			       " AND since_ns IS NULL"), 2);
	assert_int_equal(count(p, "SELECT COUNT(*) FROM agents"
			       " WHERE agent_id = 'a6'"), 0);
	assert_int_equal(count(p, "SELECT reg_ns FROM agents"
			       " WHERE agent_id = 'a5'"),
			 base_ns + 45 * 1000000LL);
	check_removed(p);
	strbuf_release(&path);
	strbuf_release(&text);
	free(order);
	projection_free(p);
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

	assert_int_equal(event_parse(&ev, text, strlen(text),
				     EVENT_PARSE_VERIFY, NULL), 0);
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

/*
 * A purge whose cutoff is in 2261 drops nothing made more than a day
 * after the purge itself.
 */
static void test_purge_far_future(void **state)
{
	struct projection *p = fresh(103);
	char *now = message("a1", NULL, NULL, NULL, 1, 0);
	char *now_line = take_last();
	char *later = message("a1", NULL, NULL, NULL, 1, 3 * 86400000LL);
	char *later_line = take_last(), *purge_line, *key_line;

	(void)state;
	signing = &k_s2;
	agent_key("s2", "review", 0, &k_s2);
	signing = NULL;
	key_line = take_last();
	purge(FAR_FUTURE_MS, 0);	/* after the key: a later event_id */
	purge_line = take_last();
	assert_int_equal(projection_begin(p), 0);
	assert_int_equal(apply_line(p, key_line, NULL), 1);
	assert_int_equal(apply_line(p, now_line, "a1"), 1);
	assert_int_equal(apply_line(p, later_line, "a1"), 1);
	assert_int_equal(apply_line(p, purge_line, NULL), 1);
	assert_int_equal(projection_commit(p), 0);
	assert_int_equal(count(p, "SELECT COUNT(*) FROM purged_messages"), 1);
	assert_int_equal(count(p, "SELECT COUNT(*) FROM messages"), 1);
	free(now);
	free(later);
	free(now_line);
	free(later_line);
	free(purge_line);
	free(key_line);
	projection_free(p);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir) || setenv("THRUM_TEST_NOW", TEST_NOW, 1))
		return -1;
	if (sign_keygen(&k_s1) || sign_keygen(&k_s1new) ||
	    sign_keygen(&k_s2) || sign_keygen(&k_evil) ||
	    sign_keygen(&k_o1) || sign_keygen(&k_o1new))
		return -1;
	make_history();
	signed_history();
	vouched_history();
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
	for (i = 0; i < ARRAY_SIZE(thread_probe); i++)
		free(thread_probe[i]);
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
		cmocka_unit_test(test_signers_keep_cleanups),
		cmocka_unit_test(test_duplicates_and_conflicts),
		cmocka_unit_test(test_prefix_lookup),
		cmocka_unit_test(test_anonymous_edit_delete),
		cmocka_unit_test(test_purge_far_future),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

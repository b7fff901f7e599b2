/*
 * gen-history: write a realistic, deterministic a-sync log for benchmarks.
 *
 *   gen-history [--agents N] [--events E] [--seed S] [--start UNIX-SECONDS]
 *               [--topics T] [--append] [--signed] <dir>
 *
 * writes <dir>/events.jsonl (agent.register and session starts) and
 * the segments of <dir>/messages/<agent>.jsonl (see store.h): E events in all, in time order, with the
 * mix a team of agents produces — messages to one agent, to a group, to
 * everyone, replies in threads, read receipts from their readers, a few
 * edits and deletes.  Lines are serialised by the same codec as `send`, so
 * they are exactly what git-thrum would have written; the same seed always
 * gives the same bytes.  Simulated time starts at --start (default
 * 2026-01-01) and advances 1-20 s per event.  --append adds E events of
 * the same agents to the files already there (a later --start keeps each
 * file in time order), as a batch that arrives from another clone.
 * --topics T ends each body with one word of T more ("topic<k>"), as
 * the names of issues, files and functions make real text far richer
 * than the small vocabulary: what a full-text search looks for.
 * --signed gives each agent a key (made from its index alone, so that an
 * --append batch of any seed is signed by the keys its history named) and
 * signs every line with it, its registration naming it, as git-thrum
 * writes them.
 *
 * The files are written with stdio, not store_append(): a benchmark
 * history of a million events must be made in seconds, and the log lock
 * and one fsync per line would make it hours.
 */
#include "thrum.h"
#include "date.h"
#include "event.h"
#include <sodium.h>
#include "repo.h"
#include "sign.h"
#include "store.h"
#include "strbuf.h"
#include "ulid.h"
#include "usage.h"
#include "wrapper.h"

#define RECENT 512

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: small, fast and the same everywhere */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rng() % n);
}

static uint64_t sim_ms;

static uint64_t sim_clock(void *payload)
{
	return sim_ms;
}

static int sim_random(uint8_t *buf, size_t len, void *payload)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(rng() >> 56);
	return 0;
}

struct agent {
	char name[32];
	char origin[40];
	char session[40];
	FILE *f;
	unsigned segment;	/* which file of the shard f is (store.h) */
	size_t bytes;		/* its size */
	struct sign_key key;	/* --signed */
};

static int signed_mode;
/* the key of the agent of the event being made (--signed), or NULL */
static const struct sign_key *current_key;

static const char *out_dir;

static void open_segment(struct agent *a, const char *mode)
{
	char *rel = store_segment_path(a->name, a->segment);
	char *path = path_join(out_dir, rel);
	struct stat st;

	a->f = fopen(path, mode);
	if (!a->f)
		die_errno("cannot create '%s'", path);
	a->bytes = fstat(fileno(a->f), &st) < 0 ? 0 : (size_t)st.st_size;
	free(path);
	free(rel);
}

/* append mode: the segment that store_append() would write to */
static void find_segment(struct agent *a)
{
	char *cur = store_current_segment(out_dir, a->name);

	for (a->segment = 0;; a->segment++) {
		char *rel = store_segment_path(a->name, a->segment);
		int same = !strcmp(rel, cur);

		free(rel);
		if (same)
			break;
	}
	free(cur);
}

struct recent {
	char *message_id;
	char *thread_id;
	unsigned author;
	unsigned to;		/* an agent index, or -1u for a group/everyone */
};

static const char *const roles[] = {
	"implementer", "reviewer", "planner", "tester",
};

static const char *const words[] = {
	"the", "auth", "module", "test", "fails", "on", "main", "after",
	"merge", "please", "review", "PR", "ready", "rebase", "done", "I",
	"took", "the", "parser", "cache", "lock", "timeout", "retry", "daemon",
	"sync", "branch", "fixed", "in", "commit", "benchmark", "is", "slower",
	"than", "before", "can", "you", "look", "at", "`src/sync.c`", "line",
	"42", "—", "thanks", "blocked", "by", "migration", "schema", "v2",
};

static long nr_topics;

static void body(struct strbuf *sb)
{
	size_t target = 20 + pick(280);

	strbuf_reset(sb);
	while (sb->len < target) {
		if (sb->len)
			strbuf_addch(sb, ' ');
		strbuf_addstr(sb, words[pick(ARRAY_SIZE(words))]);
	}
	if (nr_topics)
		strbuf_addf(sb, " topic%u", pick((unsigned)nr_topics));
}

static void stamp(struct event *ev)
{
	char ts[DATE_RFC3339_LEN + 1];

	/* sub-millisecond digits too, as a real clock gives */
	ev->ts_ns = (int64_t)sim_ms * 1000000 + pick(1000000);
	date_format_rfc3339(ev->ts_ns, ts);
	free(ev->timestamp);
	ev->timestamp = xstrdup(ts);
}

/* a new event of agent a, at the simulated time */
static void new_event(struct event *ev, enum event_type type,
		      const struct agent *a)
{
	event_init_new(ev, type, a->origin);
	stamp(ev);
	ev->agent_id = xstrdup(a->name);
	current_key = signed_mode ? &a->key : NULL;
}

/* a body of random words; text is the scratch buffer */
static void set_body(struct event *ev, struct strbuf *text)
{
	body(text);
	ev->body_format = xstrdup("markdown");
	ev->body_content = xstrdup(text->buf);
}

static void emit(FILE *f, struct event *ev, struct strbuf *line)
{
	strbuf_reset(line);
	if (event_serialize_signed(ev, line, current_key) < 0)
		die("cannot serialise a %s event", ev->type_name);
	strbuf_addch(line, '\n');
	if (fwrite(line->buf, 1, line->len, f) != line->len)
		die_errno("cannot write the history");
	event_release(ev);
}

/* an agent's line, into its shard's segments as store_append() would */
static void emit_shard(struct agent *a, struct event *ev, struct strbuf *line)
{
	emit(a->f, ev, line);
	a->bytes += line->len;
	if (a->bytes >= store_segment_bytes()) {
		if (fclose(a->f))
			die_errno("cannot write the history");
		a->segment++;
		open_segment(a, "w");
	}
}

static void usage_exit(void)
{
	fprintf(stderr, "usage: gen-history [--agents N] [--events E] "
		"[--seed S] [--start UNIX-SECONDS] [--topics T] [--append] "
		"[--signed] "
		"<dir>\n");
	exit(129);
}

int main(int argc, char **argv)
{
	long nr_agents = 20, nr_events = 100000, seed = 1;
	long start = 1767225600;	/* 2026-01-01T00:00:00Z */
	struct ulid_gen *gen = ulid_default_gen();
	struct strbuf line = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf path = STRBUF_INIT;
	struct recent recent[RECENT];
	struct agent *agents;
	unsigned nr_recent = 0, next_recent = 0;
	const char *dir = NULL, *mode = "w";
	FILE *events;
	long n, i;

	for (i = 1; i < argc; i++) {
		long *v = NULL;

		if (!strcmp(argv[i], "--agents"))
			v = &nr_agents;
		else if (!strcmp(argv[i], "--events"))
			v = &nr_events;
		else if (!strcmp(argv[i], "--seed"))
			v = &seed;
		else if (!strcmp(argv[i], "--start"))
			v = &start;
		else if (!strcmp(argv[i], "--topics"))
			v = &nr_topics;
		else if (!strcmp(argv[i], "--append"))
			mode = "a";
		else if (!strcmp(argv[i], "--signed"))
			signed_mode = 1;
		else if (argv[i][0] == '-' || dir)
			usage_exit();
		else
			dir = argv[i];
		if (v && (i + 1 >= argc ||
			  thrum_parse_long(argv[++i], 0, LONG_MAX, v)))
			usage_exit();
	}
	if (!dir || nr_agents < 2 || nr_agents > 1000 || nr_topics > 100000000)
		usage_exit();
	out_dir = dir;

	rng_state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)seed;
	sim_ms = (uint64_t)start * 1000;
	gen->clock = sim_clock;
	gen->random = sim_random;

	strbuf_addf(&path, "%s/messages", dir);
	if (mkdir_p(path.buf, 0777) < 0)
		die_errno("cannot create '%s'", path.buf);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/events.jsonl", dir);
	events = fopen(path.buf, mode);
	if (!events)
		die_errno("cannot create '%s'", path.buf);

	agents = xcalloc(nr_agents, sizeof(*agents));
	memset(recent, 0, sizeof(recent));
	n = 0;
	for (i = 0; i < nr_agents; i++) {
		struct agent *a = &agents[i];
		struct event ev;
		char *id;

		snprintf(a->name, sizeof(a->name), "agent%03ld", i);
		if (signed_mode) {
			unsigned char kseed[crypto_sign_SEEDBYTES];
			size_t k;

			for (k = 0; k < sizeof(kseed); k++)
				kseed[k] = (unsigned char)(31 + i * 7 + k);
			if (sign_init() < 0 ||
			    crypto_sign_seed_keypair(a->key.pk, a->key.sk, kseed))
				die("cannot make the key of %s", a->name);
		}
		id = ulid_new_id("d_");
		snprintf(a->origin, sizeof(a->origin), "%s", id);
		free(id);
		if (*mode == 'a')
			find_segment(a);
		open_segment(a, mode);

		sim_ms += 1 + pick(2000);
		if (*mode == 'a') {
			/* the agents are known: a session of theirs goes on */
			id = ulid_new_id("ses_");
			snprintf(a->session, sizeof(a->session), "%s", id);
			free(id);
			continue;
		}
		new_event(&ev, EV_AGENT_REGISTER, a);
		ev.kind = xstrdup("agent");
		ev.name = xstrdup(a->name);
		ev.role = xstrdup(roles[i % ARRAY_SIZE(roles)]);
		ev.module = xstrdup(i % 2 ? "core" : "cli");
		if (signed_mode) {
			struct strbuf pk = STRBUF_INIT;

			sign_pubkey_text(a->key.pk, &pk);
			ev.pubkey = strbuf_detach(&pk, NULL);
		}
		emit(events, &ev, &line);

		new_event(&ev, EV_AGENT_SESSION_START, a);
		ev.session_id = ulid_new_id("ses_");
		snprintf(a->session, sizeof(a->session), "%s", ev.session_id);
		emit(events, &ev, &line);
		n += 2;
	}

	for (; n < nr_events; n++) {
		unsigned roll = pick(100), who = pick(nr_agents);
		struct agent *a = &agents[who];
		struct event ev;

		sim_ms += 1000 + pick(19000);
		if (roll < 60 || nr_recent == 0) {
			/* a message: to one agent, a role, or everyone; often a reply */
			struct recent *parent = NULL, *r;
			unsigned to = pick(nr_agents);

			new_event(&ev, EV_MESSAGE_CREATE, a);
			ev.message_id = ulid_new_id("msg_");
			ev.session_id = xstrdup(a->session);
			set_body(&ev, &text);
			if (nr_recent && pick(100) < 30)
				parent = &recent[pick(nr_recent)];
			if (parent && parent->author != who) {
				to = parent->author;
				event_add_recipient(&ev, agents[to].name);
				event_add_ref(&ev, "mention", agents[to].name);
				event_add_ref(&ev, "reply_to", parent->message_id);
				ev.thread_id = parent->thread_id
					? xstrdup(parent->thread_id)
					: ulid_new_id("thr_");
			} else if (roll < 45 && to != who) {
				event_add_recipient(&ev, agents[to].name);
				event_add_ref(&ev, "mention", agents[to].name);
			} else if (roll < 55) {
				to = -1u;
				event_add_ref(&ev, "mention",
					      roles[pick(ARRAY_SIZE(roles))]);
			} else {
				to = -1u;
				event_add_ref(&ev, "broadcast", "everyone");
				event_add_scope(&ev, "broadcast", "everyone");
			}
			if (pick(100) < 5)
				ev.priority = xstrdup("high");
			r = &recent[next_recent];
			free(r->message_id);
			free(r->thread_id);
			r->message_id = xstrdup(ev.message_id);
			r->thread_id = xstrdup_or_null(ev.thread_id);
			r->author = who;
			r->to = to;
			next_recent = (next_recent + 1) % RECENT;
			if (nr_recent < RECENT)
				nr_recent++;
		} else if (roll < 93) {
			/* a read receipt, in the reader's file */
			struct recent *r = &recent[pick(nr_recent)];
			unsigned reader = r->to != -1u ? r->to : who;

			if (reader == r->author)
				reader = (reader + 1) % nr_agents;
			a = &agents[reader];
			new_event(&ev, EV_MESSAGE_RECEIPT, a);
			ev.message_id = xstrdup(r->message_id);
			ev.session_id = xstrdup(a->session);
			ev.receipt_type = xstrdup("read");
		} else if (roll < 99) {
			/* the author fixes a recent message */
			struct recent *r = &recent[pick(nr_recent)];

			a = &agents[r->author];
			new_event(&ev, EV_MESSAGE_EDIT, a);
			ev.message_id = xstrdup(r->message_id);
			set_body(&ev, &text);
		} else {
			struct recent *r = &recent[pick(nr_recent)];

			a = &agents[r->author];
			new_event(&ev, EV_MESSAGE_DELETE, a);
			ev.message_id = xstrdup(r->message_id);
			ev.reason = xstrdup("obsolete");
		}
		emit_shard(a, &ev, &line);
	}

	for (i = 0; i < nr_agents; i++)
		if (fclose(agents[i].f))
			die_errno("cannot write the history");
	if (fclose(events))
		die_errno("cannot write the history");
	for (i = 0; i < RECENT; i++) {
		free(recent[i].message_id);
		free(recent[i].thread_id);
	}
	free(agents);
	strbuf_release(&line);
	strbuf_release(&text);
	strbuf_release(&path);
	printf("%ld events, %ld agents\n", n, nr_agents);
	return 0;
}

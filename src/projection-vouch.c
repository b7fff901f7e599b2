/*
 * projection-vouch.c: the tables of signed events (projection-sign.c
 * judges with them), and vouches (Documentation/security.adoc, "Lines
 * from before a key").  An agent.vouch, signed by the key a name got
 * when it had none, lists the ids of the name's unsigned events it holds
 * as its own; such an event counts, however unsigned, while that vouch
 * counts.  Any other unsigned line in a name with a key does not: one
 * dated before the key, written by anyone who can push, is no longer
 * taken for the agent's.  agent_vouches keeps one row per (vouched
 * event, vouch); the vouch's own signature is judged with the keys
 * (PROJ_VOUCHED), so that it holds in any order of arrival.
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "event.h"
#include "sign.h"
#include "strvec.h"
#include "wrapper.h"

/*
 * each event's signature, the keys registrations name, which key speaks
 * for a name and from when to when, thrum.allowedSigners as last read,
 * what does not count, and the events each vouch owns
 */
const char proj_sign_schema_sql[] =
	"CREATE TABLE IF NOT EXISTS event_sigs("
	"  event_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL,"
	"  ts INTEGER NOT NULL, state INTEGER NOT NULL, signer TEXT,"
	"  type TEXT, message_id TEXT, receipt_type TEXT, digest TEXT)"
	"  WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS event_sigs_by_agent"
	"  ON event_sigs(agent_id);"
	"CREATE TABLE IF NOT EXISTS agent_regs("
	"  event_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL,"
	"  ts INTEGER NOT NULL, state INTEGER NOT NULL, signer TEXT,"
	"  pubkey TEXT, name TEXT, kind TEXT, role TEXT, module TEXT,"
	"  worktree TEXT, display TEXT, hostname TEXT) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS agent_regs_by_agent"
	"  ON agent_regs(agent_id);"
	"CREATE TABLE IF NOT EXISTS agent_keys("
	"  agent_id TEXT NOT NULL, pubkey TEXT NOT NULL,"
	"  since_ns INTEGER, since_eid TEXT, until_ns INTEGER,"
	"  until_eid TEXT, PRIMARY KEY(agent_id, pubkey)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS key_conflicts("
	"  event_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS allowed_signers("
	"  agent_id TEXT NOT NULL, pubkey TEXT NOT NULL,"
	"  PRIMARY KEY(agent_id, pubkey)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS sig_rejects("
	"  event_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL,"
	"  why TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS sig_rejects_by_agent"
	"  ON sig_rejects(agent_id);"
	"CREATE TABLE IF NOT EXISTS agent_vouches("
	"  event_id TEXT NOT NULL, digest TEXT NOT NULL,"
	"  vouch_id TEXT NOT NULL, agent_id TEXT NOT NULL,"
	"  PRIMARY KEY(event_id, vouch_id)) WITHOUT ROWID;";

static const char vouch_add_sql[] =
	"INSERT OR IGNORE INTO agent_vouches(event_id, digest, vouch_id,"
	" agent_id) VALUES(:event_id, :digest, :vouch_id, :who)";

/* each "<digest>:<event_id>" of a vouch whose signature verifies */
int proj_vouch_record(struct projection *p, const struct event *ev,
		      const char *who)
{
	size_t i;

	for (i = 0; i < ev->nr_vouched; i++) {
		sqlite3_stmt *s = proj_stmt(p, ST_VOUCH_ADD, vouch_add_sql);
		const char *entry = ev->vouched[i];

		proj_bind_text(s, ":event_id", entry + SIGN_DIGEST_TEXT_MAX + 1);
		proj_bind_textn(s, ":digest", entry, SIGN_DIGEST_TEXT_MAX);
		proj_bind_text(s, ":vouch_id", ev->event_id);
		proj_bind_text(s, ":who", who);
		if (proj_run(p, s, "cannot store a vouch") < 0)
			return -1;
	}
	return 0;
}

/*
 * What a first key may own: only while the name has no key, its
 * unsigned lines that count, each as "<digest>:<event_id>"
 */
static const char vouchable_sql[] =
	"SELECT digest || ':' || event_id FROM event_sigs e"
	" WHERE agent_id = :who AND state = 0 AND digest IS NOT NULL"
	" AND NOT EXISTS (SELECT 1 FROM agent_keys k WHERE k.agent_id = :who)"
	" AND" PROJ_SIG_COUNTS("e.event_id")
	" ORDER BY ts, event_id";

int projection_vouchable(struct projection *p, const char *who,
			 struct strvec *out)
{
	sqlite3_stmt *s = proj_stmt(p, ST_VOUCH_UNSIGNED, vouchable_sql);
	int rc;

	proj_bind_text(s, ":who", who);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		strvec_push(out, (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : proj_db_error(p, "cannot read events");
}

void proj_vouch_due(struct projection *p, const char *who)
{
	size_t i;

	for (i = 0; i < p->nr_sign_due; i++)
		if (!strcmp(p->sign_due[i], who))
			return;
	ALLOC_GROW(p->sign_due, p->nr_sign_due + 1, p->alloc_sign_due);
	p->sign_due[p->nr_sign_due++] = xstrdup(who);
}

void proj_sign_drop(struct projection *p)
{
	size_t i;

	for (i = 0; i < p->nr_sign_due; i++)
		free(p->sign_due[i]);
	free(p->sign_due);
	p->sign_due = NULL;
	p->nr_sign_due = p->alloc_sign_due = 0;
}

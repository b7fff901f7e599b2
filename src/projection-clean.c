/*
 * projection-clean.c: what takes things out of the projection, as the
 * original projects it: agent.cleanup (an agent's messages, sessions and
 * registration made up to the cleanup's instant) and purge.executed
 * (messages created and sessions started before its cutoff).  The log
 * keeps every line.
 *
 * Only a cleanup or a purge that counts by its signature removes
 * anything (Documentation/security.adoc, "Cleanups and purges"), and
 * whether one counts can change after it arrived: a registration that
 * gives its name a key rejects an unsigned one that counted until then.
 * So nothing is thrown away: cleanups and purges are facts (purges,
 * agent_cleanups); a removed message's row is moved aside whole
 * (purged_messages) and what hangs off it stays; a removed session is
 * one of purged_sessions, derived from its starts; an agent's row, its
 * last seen and its intent are derived from its own facts by
 * projection-sign.c, which skips what a cleanup that counts covers.
 * resweep() puts every row where the facts that count say, both ways,
 * whenever those facts may have changed: a cleanup or purge arrives, or
 * a registration re-judges the name one speaks for.  A message_id is
 * removed when any create of it is covered; the creates of a message_id
 * claimed twice are listed (contested_creates) so that a later purge
 * finds the loser too.  Any order of arrival gives the same rows.
 *
 * A purge removes nothing from more than a day after the purge itself
 * (its clamped instant): a line claiming a cutoff in 2261 cannot empty
 * the projection for ever.
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "event.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

#define PURGE_AHEAD_NS (86400LL * 1000000000)	/* one day */

/* the columns of messages, which purged_messages has too */
#define MSG_COLS \
	" message_id, event_id, thread_id, agent_id, session_id, created_ns," \
	" created_at, format, content, structured, priority, reply_to," \
	" cur_format, cur_content, deleted, own"

/*
 * the same, put aside as its create alone: its edits and deletes are
 * applied again when it comes back (so the row does not depend on
 * whether they arrived before it was removed)
 */
#define MSG_COLS_ASIDE \
	" message_id, event_id, thread_id, agent_id, session_id, created_ns," \
	" created_at, format, content, structured, priority, reply_to," \
	" NULL, NULL, 0, own"

/*
 * Something agent a made at t is covered by a purge or a cleanup that
 * counts: a purge whose cutoff is after t, or a cleanup of a at t or
 * later.
 */
#define COVERED(a, t) \
	" (EXISTS (SELECT 1 FROM purges pu WHERE pu.cutoff_ns > " t " AND" \
	PROJ_SIG_COUNTS("pu.event_id") ") OR" PROJ_CLEANED(a, t) ")"

/* message row m is removed: it, or another create of its id, is covered */
#define REMOVED(m) \
	" (" COVERED(m ".agent_id", m ".created_ns") \
	"  OR EXISTS (SELECT 1 FROM contested_creates k" \
	"   WHERE k.message_id = " m ".message_id AND" \
	COVERED("k.agent_id", "k.created_ns") "))"

/* run sql (prepared here: these are rare), binding the named values */
static int run_sql(struct projection *p, const char *sql, const char *what,
		   const char *id, int64_t ns)
{
	sqlite3_stmt *s = NULL;
	int ret = -1;

	if (sqlite3_prepare_v2(p->db, sql, -1, &s, NULL)) {
		proj_db_error(p, what);
		goto out;
	}
	if (sqlite3_bind_parameter_index(s, ":id"))
		proj_bind_text(s, ":id", id);
	if (sqlite3_bind_parameter_index(s, ":ns"))
		proj_bind_int(s, ":ns", ns);
	ret = proj_run(p, s, what);
out:
	sqlite3_finalize(s);
	return ret;
}

/* fn on the first column of every row of sql (prepared here: rare) */
static int each_id(struct projection *p, const char *sql, proj_text_fn fn)
{
	sqlite3_stmt *s = NULL;
	int ret;

	if (sqlite3_prepare_v2(p->db, sql, -1, &s, NULL))
		return proj_db_error(p, "cannot read what was removed");
	ret = proj_each_text(p, s, "cannot read what was removed", fn);
	sqlite3_finalize(s);
	return ret;
}

/*
 * Are there cleanups or purges at all?  Most projections have none, and
 * then an event costs no look-up here; known again at each batch.
 */
static int have_facts(struct projection *p)
{
	sqlite3_stmt *s;
	int rc;

	if (p->clean_facts)
		return p->clean_facts > 1;
	s = proj_stmt(p, ST_CLEAN_ANY,
		      "SELECT EXISTS (SELECT 1 FROM purges)"
		      " OR EXISTS (SELECT 1 FROM agent_cleanups)");
	rc = sqlite3_step(s);
	p->clean_facts = rc == SQLITE_ROW && sqlite3_column_int(s, 0) ? 2 : 1;
	sqlite3_reset(s);
	return p->clean_facts > 1;
}

/* move removed message rows aside (only message id, unless NULL) */
static int put_aside(struct projection *p, const char *id)
{
	const char *which = id ? " AND m.message_id = :id" : "";
	struct strbuf sql = STRBUF_INIT;
	int ret;

	strbuf_addf(&sql, "INSERT OR REPLACE INTO purged_messages(" MSG_COLS
		    ") SELECT" MSG_COLS_ASIDE " FROM messages m WHERE"
		    REMOVED("m") "%s", which);
	ret = run_sql(p, sql.buf, "cannot remove a message", id, 0);
	if (!ret)
		ret = run_sql(p, id ? "DELETE FROM messages WHERE message_id"
			      " = :id AND message_id IN (SELECT message_id"
			      " FROM purged_messages)"
			      : "DELETE FROM messages WHERE message_id IN"
			      " (SELECT message_id FROM purged_messages)",
			      "cannot remove a message", id, 0);
	strbuf_release(&sql);
	return ret;
}

/* message id back from aside; its edits and deletes may have changed */
static int bring_back(struct projection *p, const char *id, int refresh)
{
	if (run_sql(p, "INSERT INTO messages(" MSG_COLS ") SELECT" MSG_COLS
		    " FROM purged_messages WHERE message_id = :id",
		    "cannot restore a message", id, 0) < 0 ||
	    run_sql(p, "DELETE FROM purged_messages WHERE message_id = :id",
		    "cannot restore a message", id, 0) < 0)
		return -1;
	/* a rebuild refreshes every edited message at its end */
	if (!refresh || p->bulk)
		return 0;
	return run_sql(p, "UPDATE messages SET " PROJ_MSG_REFRESH_SET
		       " WHERE message_id = :id", "cannot restore a message",
		       id, 0);
}

static int bring_back_refreshed(struct projection *p, const char *id)
{
	return bring_back(p, id, 1);
}

/*
 * Every row where the facts that count say: removed messages aside, the
 * others back; the removed sessions; the rows of each agent a cleanup
 * names.
 */
static int sweep_all(struct projection *p)
{
	if (put_aside(p, NULL) < 0 ||
	    each_id(p, "SELECT message_id FROM purged_messages g WHERE NOT"
		    REMOVED("g"), bring_back_refreshed) < 0 ||
	    proj_exec(p, "DELETE FROM purged_sessions") < 0 ||
	    proj_exec(p, "INSERT OR IGNORE INTO purged_sessions(session_id)"
		      " SELECT session_id FROM session_events f WHERE f.start"
		      " AND" COVERED("f.agent_id", "f.ns")) < 0 ||
	    proj_sign_sessions(p, NULL) < 0 ||
	    each_id(p, "SELECT DISTINCT agent_id FROM agent_cleanups",
		    proj_sign_agent_rows) < 0)
		return -1;
	return 0;
}

/*
 * A rebuild sweeps once, at its end (proj_clean_finish()): each sweep
 * reads every message, and a rebuild may meet many cleanups; until then
 * a create is still checked on arrival (put_aside() of its id).
 */
static int resweep(struct projection *p)
{
	if (p->bulk) {
		p->clean_resweep = 1;
		return 0;
	}
	return sweep_all(p);
}

/* has a cleanup of agent that counts happened at or after ns?  1, 0, -1 */
static int cleaned_after(struct projection *p, const char *agent, int64_t ns)
{
	sqlite3_stmt *s;
	int rc;

	if (!agent || !have_facts(p))
		return 0;
	s = proj_stmt(p, ST_CLEAN_AFTER,
		      "SELECT" PROJ_CLEANED(":agent_id", ":ns"));
	proj_bind_text(s, ":agent_id", agent);
	proj_bind_int(s, ":ns", ns);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = sqlite3_column_int(s, 0) ? SQLITE_ROW : SQLITE_DONE;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot read the cleanups");
	return rc == SQLITE_ROW;
}

int proj_clean_contested(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s = proj_stmt(p, ST_CLEAN_CONTEST,
		"INSERT OR IGNORE INTO contested_creates(event_id,"
		" message_id, agent_id, created_ns)"
		" SELECT event_id, message_id, agent_id, created_ns"
		" FROM messages WHERE message_id = :message_id"
		" UNION ALL SELECT event_id, message_id, agent_id, created_ns"
		" FROM purged_messages WHERE message_id = :message_id"
		" UNION ALL SELECT :event_id, :message_id, :agent_id, :ts_ns");

	proj_bind_text(s, ":message_id", ev->message_id);
	proj_bind_text(s, ":event_id", ev->event_id);
	proj_bind_text(s, ":agent_id", ev->agent_id);
	proj_bind_int(s, ":ts_ns", ev->ts_ns);
	return proj_run(p, s, "cannot record a contested create");
}

/* a session start covered by a purge or its agent's cleanup */
static int session_start(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s;

	if (!ev->session_id)
		return 0;
	s = proj_stmt(p, ST_CLEAN_SES_START,
		      "INSERT OR IGNORE INTO purged_sessions(session_id)"
		      " SELECT :session_id WHERE"
		      COVERED(":agent_id", ":ts_ns"));
	proj_bind_text(s, ":session_id", ev->session_id);
	proj_bind_text(s, ":agent_id", ev->agent_id);
	proj_bind_int(s, ":ts_ns", ev->ts_ns);
	return proj_run(p, s, "cannot remove a session");
}

int proj_clean_before(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s;
	int rc;

	if (!have_facts(p))
		return 0;
	if (ev->type == EV_AGENT_SESSION_START)
		return session_start(p, ev);
	if (ev->type != EV_MESSAGE_CREATE)
		return 0;
	/* another create of a removed message ranks against its row */
	s = proj_stmt(p, ST_CLEAN_MSG_GONE,
		      "SELECT 1 FROM purged_messages WHERE message_id = :id");
	proj_bind_text(s, ":id", ev->message_id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot read what was removed");
	return rc == SQLITE_ROW ? bring_back(p, ev->message_id, 0) : 0;
}

int proj_clean_after_create(struct projection *p, const struct event *ev)
{
	if (!have_facts(p))
		return 0;
	return put_aside(p, ev->message_id);
}

int proj_clean_seen_blocked(struct projection *p, const char *agent,
			    int64_t ns)
{
	return cleaned_after(p, agent, ns);
}

/* a cleanup or purge whose name was judged again may count otherwise */
int proj_clean_rejudge(struct projection *p, const char *who)
{
	sqlite3_stmt *s;
	int rc;

	if (!have_facts(p))
		return 0;
	s = proj_stmt(p, ST_CLEAN_SPEAKS,
		      "SELECT 1 FROM event_sigs WHERE agent_id = :who"
		      " AND type IN ('agent.cleanup', 'purge.executed')"
		      " LIMIT 1");
	proj_bind_text(s, ":who", who);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot read the cleanups");
	return rc == SQLITE_ROW ? resweep(p) : 0;
}

/* a purge: its cutoff, at most a day after its own (clamped) instant */
static int apply_purge(struct projection *p, const struct event *ev)
{
	int64_t cutoff = ev->cutoff_ns;
	sqlite3_stmt *s;

	if (cutoff > ev->ts_ns + PURGE_AHEAD_NS)
		cutoff = ev->ts_ns + PURGE_AHEAD_NS;
	s = proj_stmt(p, ST_CLEAN_PURGE_ADD,
		      "INSERT OR IGNORE INTO purges(event_id, cutoff_ns, cutoff)"
		      " VALUES(:event_id, :cutoff_ns, :cutoff)");
	proj_bind_text(s, ":event_id", ev->event_id);
	proj_bind_int(s, ":cutoff_ns", cutoff);
	proj_bind_text(s, ":cutoff", ev->cutoff);
	if (proj_run(p, s, "cannot store a purge") < 0)
		return -1;
	p->clean_facts = 2;
	return resweep(p);
}

/* a cleanup: the agent's messages, sessions and rows up to its instant */
static int apply_cleanup(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s;

	s = proj_stmt(p, ST_CLEAN_AGENT_ADD,
		      "INSERT OR IGNORE INTO agent_cleanups(agent_id, ns,"
		      " event_id, reason, method)"
		      " VALUES(:agent_id, :ts_ns, :event_id, :reason, :method)");
	proj_bind_text(s, ":agent_id", ev->agent_id);
	proj_bind_int(s, ":ts_ns", ev->ts_ns);
	proj_bind_text(s, ":event_id", ev->event_id);
	proj_bind_text(s, ":reason", ev->reason);
	proj_bind_text(s, ":method", ev->method);
	if (proj_run(p, s, "cannot store a cleanup") < 0)
		return -1;
	p->clean_facts = 2;
	return resweep(p);
}

int proj_clean_apply(struct projection *p, const struct event *ev)
{
	switch (ev->type) {
	case EV_PURGE_EXECUTED:
		return apply_purge(p, ev);
	case EV_AGENT_CLEANUP:
		return apply_cleanup(p, ev);
	default:
		BUG("not a cleanup event: %d", ev->type);
	}
}

int projection_purge_counts(struct projection *p, int64_t cutoff_ns,
			    long *messages, long *sessions)
{
	sqlite3_stmt *s = proj_stmt(p, ST_CLEAN_COUNTS,
		"SELECT (SELECT COUNT(*) FROM messages WHERE created_ns < :ns),"
		" (SELECT COUNT(*) FROM sessions WHERE started_ns < :ns)");
	int rc;

	proj_bind_int(s, ":ns", cutoff_ns);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*messages = (long)sqlite3_column_int64(s, 0);
		*sessions = (long)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : proj_db_error(p, "cannot count");
}

int proj_clean_finish(struct projection *p)
{
	if (!p->clean_resweep)
		return 0;
	p->clean_resweep = 0;
	return sweep_all(p);
}

void proj_clean_begin(struct projection *p)
{
	p->clean_facts = 0;
}

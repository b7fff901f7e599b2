/*
 * projection-clean.c: what takes things out of the projection, as the
 * original projects it: agent.cleanup (an agent's messages, sessions and
 * registration made up to the cleanup's instant), purge.executed
 * (messages created and sessions started before its cutoff), and
 * group.update (a group's name and description, newest by (instant,
 * event_id) per field).  The log keeps every line.
 *
 * Order independence: cleanups and purges are stored as facts, and what
 * they removed is remembered (purged_messages, purged_sessions), so that
 * an event arriving later is checked against them: a create made before
 * a cutoff that arrives after the purge is removed too, an edit or
 * receipt of a removed message is not stored, a registration made before
 * its agent's cleanup is not kept.  A message_id is removed when any
 * create of it is removed; the creates of a message_id claimed twice are
 * listed (contested_creates) so that a later purge finds the loser too,
 * and a removed message keeps the rank of its best create, so that the
 * conflicts recorded are those of any other order.
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

/*
 * The tables whose rows belong to one message (by message_id), one
 * session (by session_id) or one agent (by agent_id, with the instant
 * column a cleanup compares): a table added to the projection that hangs
 * off a message, a session or an agent is one line here.
 */
static const char *const message_tables[] = {
	"audience", "edits", "deletes", "receipts", "message_tags",
};

static const char *const session_tables[] = {
	"sessions", "work_contexts", "work_files",
};

static const struct {
	const char *table, *ns_column;
} agent_tables[] = {
	{ "agent_intent", "ns" },
	{ "agent_seen", "last_ns" },
	{ "agents", "reg_ns" },
};

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

/*
 * Remove message id (NULL: every message of purged_messages) with the
 * rows that hang off it.
 */
static int sweep_messages(struct projection *p, const char *id)
{
	const char *where = id ? "message_id = :id"
			       : "message_id IN (SELECT message_id"
				 " FROM purged_messages)";
	struct strbuf sql = STRBUF_INIT;
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i <= ARRAY_SIZE(message_tables); i++) {
		strbuf_reset(&sql);
		/* the table names are ours, from the list above */
		strbuf_addf(&sql, "DELETE FROM %s WHERE %s",
			    i < ARRAY_SIZE(message_tables) ? message_tables[i]
							   : "messages",
			    where);
		ret = run_sql(p, sql.buf, "cannot remove a message", id, 0);
	}
	strbuf_release(&sql);
	return ret;
}

/* mark message_id removed (keeping its best create's rank), and remove it */
static int remove_message(struct projection *p, const char *id)
{
	if (run_sql(p, "INSERT OR IGNORE INTO purged_messages(message_id,"
		    " event_id, agent_id, created_ns, own)"
		    " SELECT message_id, event_id, agent_id, created_ns, own"
		    " FROM messages WHERE message_id = :id",
		    "cannot remove a message", id, 0) < 0)
		return -1;
	return sweep_messages(p, id);
}

/* remove the sessions of purged_sessions, and what hangs off them */
static int sweep_sessions(struct projection *p)
{
	struct strbuf sql = STRBUF_INIT;
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < ARRAY_SIZE(session_tables); i++) {
		strbuf_reset(&sql);
		strbuf_addf(&sql, "DELETE FROM %s WHERE session_id IN"
			    " (SELECT session_id FROM purged_sessions)",
			    session_tables[i]);
		ret = run_sql(p, sql.buf, "cannot remove a session", NULL, 0);
	}
	strbuf_release(&sql);
	return ret;
}

/* has a cleanup of agent happened at or after ns?  1, 0 or -1 */
static int cleaned_after(struct projection *p, const char *agent, int64_t ns)
{
	sqlite3_stmt *s;
	int rc;

	if (!agent || !have_facts(p))
		return 0;
	s = proj_stmt(p, ST_CLEAN_AFTER,
		      "SELECT 1 FROM agent_cleanups"
		      " WHERE agent_id = :agent_id AND ns >= :ns LIMIT 1");
	proj_bind_text(s, ":agent_id", agent);
	proj_bind_int(s, ":ns", ns);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot read the cleanups");
	return rc == SQLITE_ROW;
}

/* is something made at ns before a purge's cutoff?  1, 0 or -1 */
static int purged_at(struct projection *p, int64_t ns)
{
	sqlite3_stmt *s;
	int rc, ret;

	if (!have_facts(p))
		return 0;
	s = proj_stmt(p, ST_CLEAN_PURGED,
		      "SELECT 1 FROM purges WHERE cutoff_ns > :ns LIMIT 1");
	proj_bind_int(s, ":ns", ns);
	rc = sqlite3_step(s);
	ret = rc == SQLITE_ROW;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot read the purges");
	return ret;
}

static int is_removed(struct projection *p, enum stmt_id id, const char *sql,
		      const char *key)
{
	sqlite3_stmt *s;
	int rc;

	if (!key || !have_facts(p))
		return 0;
	s = proj_stmt(p, id, sql);
	proj_bind_text(s, ":id", key);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot read what was removed");
	return rc == SQLITE_ROW;
}

static int message_removed(struct projection *p, const char *id)
{
	return is_removed(p, ST_CLEAN_MSG_GONE,
			  "SELECT 1 FROM purged_messages WHERE message_id = :id",
			  id);
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

/*
 * A create of a removed message: ranked against the best create it had
 * (projection_create_cmp()), the loser recorded as a conflict as
 * second_create() does; nothing comes back.
 */
static int create_of_removed(struct projection *p, const struct event *ev,
			     int own, uint64_t hash)
{
	sqlite3_stmt *s;
	int r;

	if (proj_clean_contested(p, ev) < 0)
		return -1;
	s = proj_stmt(p, ST_CLEAN_MSG_RANK,
		      "SELECT own, created_ns, event_id FROM purged_messages"
		      " WHERE message_id = :id");
	proj_bind_text(s, ":id", ev->message_id);
	r = proj_rank_create(p, s, ev, own, hash);
	if (r)
		return r < 0 ? -1 : THRUM_ECONFLICT;
	s = proj_stmt(p, ST_CLEAN_MSG_RERANK,
		      "UPDATE purged_messages SET event_id = :event_id,"
		      " agent_id = :agent_id, created_ns = :ts_ns, own = :own"
		      " WHERE message_id = :message_id");
	proj_bind_text(s, ":event_id", ev->event_id);
	proj_bind_text(s, ":agent_id", ev->agent_id);
	proj_bind_int(s, ":ts_ns", ev->ts_ns);
	proj_bind_int(s, ":own", own);
	proj_bind_text(s, ":message_id", ev->message_id);
	if (proj_run(p, s, "cannot rank a removed message") < 0 ||
	    proj_seen_agent(p, ev->agent_id, ev->ts_ns) < 0)
		return -1;
	return THRUM_ECONFLICT;
}

/* a session start made before a purge's cutoff or its agent's cleanup */
static int session_start_removed(struct projection *p, const struct event *ev)
{
	int r = purged_at(p, ev->ts_ns);

	if (!r)
		r = cleaned_after(p, ev->agent_id, ev->ts_ns);
	if (r <= 0)
		return r;
	if (run_sql(p, "INSERT OR IGNORE INTO purged_sessions(session_id)"
		    " VALUES(:id)", "cannot remove a session",
		    ev->session_id, 0) < 0 ||
	    sweep_sessions(p) < 0)
		return -1;
	return 1;
}

int proj_clean_before(struct projection *p, const struct event *ev,
		      const char *shard, uint64_t hash)
{
	int r;

	switch (ev->type) {
	case EV_MESSAGE_CREATE:
		if ((r = message_removed(p, ev->message_id)) <= 0)
			return r;
		return create_of_removed(p, ev, shard && !strcmp(shard,
							ev->agent_id), hash);
	case EV_MESSAGE_EDIT:
	case EV_MESSAGE_DELETE:
	case EV_MESSAGE_RECEIPT:
		return message_removed(p, ev->message_id);
	case EV_AGENT_REGISTER:
	case EV_AGENT_UPDATE:
		return cleaned_after(p, ev->agent_id, ev->ts_ns);
	case EV_AGENT_SESSION_START:
	case EV_AGENT_SESSION_END:
		r = is_removed(p, ST_CLEAN_SES_GONE,
			       "SELECT 1 FROM purged_sessions"
			       " WHERE session_id = :id", ev->session_id);
		if (r || ev->type == EV_AGENT_SESSION_END)
			return r;
		return session_start_removed(p, ev);
	default:
		return 0;
	}
}

int proj_clean_after_create(struct projection *p, const struct event *ev)
{
	int r = purged_at(p, ev->ts_ns);

	if (!r)
		r = cleaned_after(p, ev->agent_id, ev->ts_ns);
	if (r <= 0)
		return r;
	return remove_message(p, ev->message_id);
}

int proj_clean_seen_blocked(struct projection *p, const char *agent,
			    int64_t ns)
{
	return cleaned_after(p, agent, ns);
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
	if (run_sql(p, "INSERT OR IGNORE INTO purged_messages(message_id,"
		    " event_id, agent_id, created_ns, own)"
		    " SELECT message_id, event_id, agent_id, created_ns, own"
		    " FROM messages WHERE created_ns < :ns OR message_id IN"
		    " (SELECT message_id FROM contested_creates"
		    "  WHERE created_ns < :ns)",
		    "cannot purge messages", NULL, cutoff) < 0 ||
	    sweep_messages(p, NULL) < 0 ||
	    run_sql(p, "INSERT OR IGNORE INTO purged_sessions(session_id)"
		    " SELECT session_id FROM sessions WHERE started_ns < :ns"
		    /* and every start before it, counting or not */
		    " UNION SELECT session_id FROM session_events"
		    " WHERE start AND ns < :ns",
		    "cannot purge sessions", NULL, cutoff) < 0 ||
	    sweep_sessions(p) < 0)
		return -1;
	return 0;
}

/* a cleanup: the agent's messages, sessions and rows up to its instant */
static int apply_cleanup(struct projection *p, const struct event *ev)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *s;
	size_t i;
	int ret = -1;

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
		goto out;
	p->clean_facts = 2;
	if (run_sql(p, "INSERT OR IGNORE INTO purged_messages(message_id,"
		    " event_id, agent_id, created_ns, own)"
		    " SELECT message_id, event_id, agent_id, created_ns, own"
		    " FROM messages WHERE (agent_id = :id AND created_ns <= :ns)"
		    " OR message_id IN (SELECT message_id FROM contested_creates"
		    "  WHERE agent_id = :id AND created_ns <= :ns)",
		    "cannot remove messages", ev->agent_id, ev->ts_ns) < 0 ||
	    sweep_messages(p, NULL) < 0 ||
	    run_sql(p, "INSERT OR IGNORE INTO purged_sessions(session_id)"
		    " SELECT session_id FROM sessions WHERE agent_id = :id"
		    " AND started_ns <= :ns UNION SELECT session_id"
		    " FROM session_events WHERE start AND agent_id = :id"
		    " AND ns <= :ns", "cannot remove sessions",
		    ev->agent_id, ev->ts_ns) < 0 ||
	    sweep_sessions(p) < 0)
		goto out;
	for (i = 0; i < ARRAY_SIZE(agent_tables); i++) {
		strbuf_reset(&sql);
		strbuf_addf(&sql, "DELETE FROM %s WHERE agent_id = :id"
			    " AND %s <= :ns", agent_tables[i].table,
			    agent_tables[i].ns_column);
		if (run_sql(p, sql.buf, "cannot remove an agent",
			    ev->agent_id, ev->ts_ns) < 0)
			goto out;
	}
	ret = 0;
out:
	strbuf_release(&sql);
	return ret;
}

/* the name and description a group shows: its newest update's, per field */
int proj_clean_group_refresh(struct projection *p, const char *group_id)
{
	sqlite3_stmt *s = proj_stmt(p, ST_CLEAN_GROUP_REFRESH,
		"UPDATE groups SET"
		" name = COALESCE((SELECT value FROM group_updates u"
		"  WHERE u.group_id = groups.group_id AND field = 'name'),"
		"  name),"
		" description = CASE WHEN EXISTS (SELECT 1 FROM group_updates u"
		"  WHERE u.group_id = groups.group_id"
		"  AND field = 'description')"
		"  THEN (SELECT value FROM group_updates u"
		"  WHERE u.group_id = groups.group_id"
		"  AND field = 'description') ELSE description END"
		" WHERE group_id = :group_id");

	proj_bind_text(s, ":group_id", group_id);
	return proj_run(p, s, "cannot update a group");
}

static int apply_group_update(struct projection *p, const struct event *ev)
{
	const char *field[2] = { "name", "description" };
	const char *value[2] = { ev->new_name, ev->new_description };
	int i;

	/* a name nobody could address is not taken */
	if (value[0] && !event_valid_name(value[0], NULL))
		value[0] = NULL;
	for (i = 0; i < 2; i++) {
		sqlite3_stmt *s;

		if (!value[i])
			continue;
		s = proj_stmt(p, ST_CLEAN_GROUP_FIELD,
			"INSERT INTO group_updates(group_id, field, value, ns,"
			" eid) VALUES(:group_id, :field, :value, :ts_ns,"
			" :event_id)"
			" ON CONFLICT(group_id, field) DO UPDATE SET"
			" value = excluded.value, ns = excluded.ns,"
			" eid = excluded.eid"
			" WHERE (excluded.ns, excluded.eid)"
			"  > (group_updates.ns, group_updates.eid)");
		proj_bind_text(s, ":group_id", ev->group_id);
		proj_bind_text(s, ":field", field[i]);
		/* an empty description clears it, as the original does */
		proj_bind_text(s, ":value", *value[i] ? value[i] : NULL);
		proj_bind_int(s, ":ts_ns", ev->ts_ns);
		proj_bind_text(s, ":event_id", ev->event_id);
		if (proj_run(p, s, "cannot store a group update") < 0)
			return -1;
	}
	return proj_clean_group_refresh(p, ev->group_id);
}

int proj_clean_apply(struct projection *p, const struct event *ev)
{
	switch (ev->type) {
	case EV_PURGE_EXECUTED:
		return apply_purge(p, ev);
	case EV_AGENT_CLEANUP:
		return apply_cleanup(p, ev);
	case EV_GROUP_UPDATE:
		return apply_group_update(p, ev);
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

void proj_clean_begin(struct projection *p)
{
	p->clean_facts = 0;
}

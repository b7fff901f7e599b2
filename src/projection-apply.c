/*
 * projection-apply.c: one event into the projection.  Each event is
 * stored as a fact (edits, deletes, receipts, memberships in their own
 * tables) so that any order of arrival gives the same answers (see
 * projection.c for the rules); an event from the far future is ordered
 * at the clock that first saw it plus a day.
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "date.h"
#include "event.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

#define CLAMP_AHEAD_NS (86400LL * 1000000000)	/* one day */

int projection_create_cmp(int own_a, int64_t ts_a, const char *id_a,
			  int own_b, int64_t ts_b, const char *id_b)
{
	if (own_a != own_b)
		return own_a ? -1 : 1;
	return event_order_cmp(ts_a, id_a, ts_b, id_b);
}

static const char aud_add_sql[] =
	"INSERT OR IGNORE INTO audience(message_id, kind, value)"
	" VALUES(:message_id, :kind, :value)";

static int add_audience(struct projection *p, const char *msg,
			const char *kind, const char *value)
{
	sqlite3_stmt *s = proj_stmt(p, ST_AUD_ADD, aud_add_sql);

	proj_bind_text(s, ":message_id", msg);
	proj_bind_text(s, ":kind", kind);
	proj_bind_text(s, ":value", value);
	return proj_run(p, s, "cannot store audience");
}

#define MSG_REFRESH "UPDATE messages SET " PROJ_MSG_REFRESH_SET

static const char msg_refresh_sql[] =
	MSG_REFRESH " WHERE message_id = :message_id";

/*
 * A rebuild refreshes each message once, at the end (see
 * proj_refresh_edited()): until then a message reads as its create
 * alone, which is what the refresh gives one without edits or deletes.
 */
static int refresh_message(struct projection *p, const char *msg)
{
	if (p->bulk)
		return 0;
	return proj_run_text(p, ST_MSG_REFRESH, msg_refresh_sql, ":message_id",
			     msg, "cannot refresh message");
}

int proj_refresh_edited(struct projection *p)
{
	return proj_exec(p, MSG_REFRESH " WHERE message_id IN"
			 " (SELECT message_id FROM edits"
			 "  UNION SELECT message_id FROM deletes)");
}

/*
 * The event fields a statement may take, each bound to the parameter of
 * its name (":ts_ns" takes ev->ts_ns): the SQL says which fields it
 * stores, bind_event() binds them.  Other parameters (":who", ":own", a
 * field with a default) the caller binds after.
 */
struct ev_field {
	const char *param;
	size_t off;
	int is_int;		/* int64_t, else a string (or NULL) */
};
#define EV_TEXT(f) { ":" #f, offsetof(struct event, f), 0 }
#define EV_INT(f) { ":" #f, offsetof(struct event, f), 1 }

static const struct ev_field ev_fields[] = {
	EV_TEXT(event_id), EV_INT(ts_ns), EV_TEXT(timestamp),
	EV_TEXT(agent_id), EV_TEXT(session_id), EV_TEXT(reason),
	EV_TEXT(message_id), EV_TEXT(thread_id), EV_TEXT(priority),
	EV_TEXT(body_format), EV_TEXT(body_content), EV_TEXT(body_structured),
	EV_TEXT(name), EV_TEXT(role), EV_TEXT(module), EV_TEXT(worktree),
	EV_TEXT(display), EV_TEXT(hostname), EV_TEXT(intent),
	EV_TEXT(group_id), EV_TEXT(description), EV_TEXT(actor),
	EV_TEXT(member_type), EV_TEXT(member_value),
};

/* every parameter of s that names a field of ev, bound to that field */
static void bind_event(sqlite3_stmt *s, const struct event *ev)
{
	const char *base = (const char *)ev;
	int i, nr = sqlite3_bind_parameter_count(s);
	size_t j;

	for (i = 1; i <= nr; i++) {
		const char *name = sqlite3_bind_parameter_name(s, i);
		const struct ev_field *f = NULL;

		for (j = 0; name && !f && j < ARRAY_SIZE(ev_fields); j++)
			if (!strcmp(ev_fields[j].param, name))
				f = &ev_fields[j];
		if (!f)
			continue;
		/* by its index: a second look-up by name costs per event */
		if (f->is_int) {
			sqlite3_bind_int64(s, i,
					   *(const int64_t *)(base + f->off));
		} else {
			const char *v = *(char *const *)(base + f->off);

			if (v)
				sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(s, i);
		}
	}
}

/* ev by the statement id (sql), all its parameters from ev's fields */
static int store_event(struct projection *p, enum stmt_id id, const char *sql,
		       const struct event *ev, const char *what)
{
	sqlite3_stmt *s = proj_stmt(p, id, sql);

	bind_event(s, ev);
	return proj_run(p, s, what);
}

static const char seen_agent_sql[] =
	"INSERT INTO agent_seen(agent_id, last_ns) VALUES(:agent_id, :last_ns)"
	" ON CONFLICT(agent_id) DO UPDATE SET"
	" last_ns = MAX(last_ns, excluded.last_ns)";

static int seen_agent(struct projection *p, const char *agent, int64_t ns)
{
	sqlite3_stmt *s;
	int r;

	if (!agent)
		return 0;
	if ((r = proj_clean_seen_blocked(p, agent, ns)))
		return r < 0 ? -1 : 0;
	s = proj_stmt(p, ST_SEEN_AGENT, seen_agent_sql);
	proj_bind_text(s, ":agent_id", agent);
	proj_bind_int(s, ":last_ns", ns);
	return proj_run(p, s, "cannot store last seen");
}

static void bind_create(sqlite3_stmt *s, const struct event *ev, int own)
{
	const char *reply_to = NULL;
	size_t i;

	for (i = 0; i < ev->nr_refs; i++)
		if (!strcmp(ev->refs[i].type, "reply_to") && !reply_to)
			reply_to = ev->refs[i].value;
	bind_event(s, ev);
	proj_bind_text(s, ":reply_to", reply_to);
	proj_bind_int(s, ":own", own);
}

static const char conflict_add_sql[] =
	"INSERT OR IGNORE INTO conflicts(event_id, hash)"
	" VALUES(:event_id, :hash)";

static int record_conflict(struct projection *p, const char *event_id,
			   uint64_t hash)
{
	sqlite3_stmt *s = proj_stmt(p, ST_CONFLICT_ADD, conflict_add_sql);

	proj_bind_text(s, ":event_id", event_id);
	proj_bind_int(s, ":hash", (int64_t)hash);
	return proj_run(p, s, "cannot record conflict");
}

static const char msg_rank_sql[] =
	"SELECT own, created_ns, event_id FROM messages"
	" WHERE message_id = :message_id";

/* the create that lost is a conflict; the winner is not */
static const char conflict_loser_sql[] =
	"INSERT OR IGNORE INTO conflicts(event_id, hash)"
	" SELECT event_id, hash FROM events_seen WHERE event_id = :event_id";

static const char msg_replace_sql[] =
	"UPDATE messages SET event_id = :event_id, thread_id = :thread_id,"
	" agent_id = :agent_id, session_id = :session_id,"
	" created_ns = :ts_ns, created_at = :timestamp,"
	" format = :body_format, content = :body_content, structured = :body_structured,"
	" priority = :priority, reply_to = :reply_to, own = :own"
	" WHERE message_id = :message_id";

/*
 * A create of a message_id already projected: the better of the two by
 * projection_create_cmp() stays in messages, the other is a conflict.
 * Returns 1 when ev replaced the row, 0 when it lost, -1 on error.
 */
int proj_rank_create(struct projection *p, sqlite3_stmt *s,
		     const struct event *ev, int own, uint64_t hash)
{
	char *old_id = NULL;
	int64_t old_ns = 0;
	int old_own = 0, rc, ret = -1;

	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		old_own = sqlite3_column_int(s, 0);
		old_ns = sqlite3_column_int64(s, 1);
		old_id = proj_col_text(s, 2);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		proj_db_error(p, "cannot read the create of a message");
		goto out;
	}
	if (projection_create_cmp(own, ev->ts_ns, ev->event_id, old_own,
				  old_ns, old_id) > 0) {
		ret = record_conflict(p, ev->event_id, hash) < 0 ? -1 : 1;
		goto out;
	}
	ret = proj_run_text(p, ST_CONFLICT_LOSER, conflict_loser_sql,
			    ":event_id", old_id, "cannot record conflict");
out:
	free(old_id);
	return ret;
}

static int second_create(struct projection *p, const struct event *ev,
			 int own, uint64_t hash)
{
	sqlite3_stmt *s = proj_stmt(p, ST_MSG_RANK, msg_rank_sql);
	int r;

	proj_bind_text(s, ":message_id", ev->message_id);
	r = proj_rank_create(p, s, ev, own, hash);
	if (r)
		return r < 0 ? -1 : 0;
	s = proj_stmt(p, ST_MSG_REPLACE, msg_replace_sql);
	bind_create(s, ev, own);
	return proj_run(p, s, "cannot store message") < 0 ? -1 : 1;
}

/* a second create of the id: see projection_create_cmp() */
static const char msg_insert_sql[] =
	"INSERT OR IGNORE INTO messages(message_id, event_id,"
	" thread_id, agent_id, session_id, created_ns, created_at,"
	" format, content, structured, priority, reply_to, own)"
	" VALUES(:message_id, :event_id, :thread_id, :agent_id,"
	" :session_id, :ts_ns, :timestamp, :body_format, :body_content,"
	" :body_structured, :priority, :reply_to, :own)";

static const char aud_clear_sql[] =
	"DELETE FROM audience WHERE message_id = :message_id";

/* 1 when new, THRUM_ECONFLICT when another create of its id exists */
static int apply_create(struct projection *p, const struct event *ev,
			const char *shard, uint64_t hash)
{
	int own = shard && !strcmp(shard, ev->agent_id);
	int ret = 1, r;
	sqlite3_stmt *s;
	size_t i, added = 0;

	s = proj_stmt(p, ST_MSG_INSERT, msg_insert_sql);
	bind_create(s, ev, own);
	if (proj_run(p, s, "cannot store message") < 0)
		return -1;
	if (!sqlite3_changes(p->db)) {
		if (proj_clean_contested(p, ev) < 0)
			return -1;
		r = second_create(p, ev, own, hash);
		if (r <= 0)
			return r < 0 ? -1 : THRUM_ECONFLICT;
		ret = THRUM_ECONFLICT;
	}

	if (proj_run_text(p, ST_AUD_CLEAR, aud_clear_sql, ":message_id",
			  ev->message_id, "cannot store audience") < 0)
		return -1;
	if (proj_store_tags(p, ev) < 0)
		return -1;
	for (i = 0; i < ev->nr_recipients; i++, added++)
		if (add_audience(p, ev->message_id, "to",
				 ev->recipients[i]) < 0)
			return -1;
	for (i = 0; i < ev->nr_refs; i++) {
		const char *t = ev->refs[i].type, *kind = NULL;

		if (!strcmp(t, "mention"))
			kind = "mention";
		else if (!strcmp(t, "group"))
			kind = "group";
		else if (!strcmp(t, "broadcast"))
			kind = "broadcast";
		if (kind && add_audience(p, ev->message_id, kind,
					 ev->refs[i].value) < 0)
			return -1;
		added += !!kind;
	}
	for (i = 0; i < ev->nr_scopes; i++)
		if (!strcmp(ev->scopes[i].type, "broadcast")) {
			if (add_audience(p, ev->message_id, "broadcast",
					 ev->scopes[i].value) < 0)
				return -1;
			added++;
		}
	/* a message addressed to nobody in particular is for everyone */
	if (!added &&
	    add_audience(p, ev->message_id, "broadcast", "everyone") < 0)
		return -1;
	if (refresh_message(p, ev->message_id) < 0)
		return -1;
	return ret;
}

static const char edit_add_sql[] =
	"INSERT OR IGNORE INTO edits(event_id, message_id, ts, editor,"
	" format, content)"
	" VALUES(:event_id, :message_id, :ts_ns, :who, :body_format, :body_content)";

static const char delete_add_sql[] =
	"INSERT OR IGNORE INTO deletes(event_id, message_id, ts, actor,"
	" reason) VALUES(:event_id, :message_id, :ts_ns, :who, :reason)";

static int apply_edit_or_delete(struct projection *p, const struct event *ev,
				const char *shard)
{
	const char *who = ev->agent_id ? ev->agent_id : shard;
	sqlite3_stmt *s;

	if (ev->type == EV_MESSAGE_EDIT)
		s = proj_stmt(p, ST_EDIT_ADD, edit_add_sql);
	else
		s = proj_stmt(p, ST_DELETE_ADD, delete_add_sql);
	bind_event(s, ev);
	proj_bind_text(s, ":who", who);
	if (proj_run(p, s, "cannot store edit") < 0)
		return -1;
	return refresh_message(p, ev->message_id);
}

static const char receipt_add_sql[] =
	"INSERT OR IGNORE INTO receipts(message_id, agent_id,"
	" receipt_type) VALUES(:message_id, :agent_id, :receipt_type)";

static int apply_receipt(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s = proj_stmt(p, ST_RECEIPT_ADD, receipt_add_sql);

	bind_event(s, ev);
	proj_bind_text(s, ":receipt_type",
		       ev->receipt_type ? ev->receipt_type : "read");
	return proj_run(p, s, "cannot store receipt");
}

/* last registration by (instant, event_id) wins */
static const char agent_upsert_sql[] =
	"INSERT INTO agents(agent_id, name, kind, role, module, worktree,"
	" display, hostname, reg_ns, reg_eid)"
	" VALUES(:agent_id, :name, :kind, :role, :module, :worktree,"
	" :display, :hostname, :ts_ns, :event_id)"
	" ON CONFLICT(agent_id) DO UPDATE SET name = excluded.name,"
	" kind = excluded.kind, role = excluded.role,"
	" module = excluded.module, worktree = excluded.worktree,"
	" display = excluded.display, hostname = excluded.hostname,"
	" reg_ns = excluded.reg_ns, reg_eid = excluded.reg_eid"
	" WHERE (excluded.reg_ns, excluded.reg_eid)"
	"  > (agents.reg_ns, agents.reg_eid)";

static int apply_register(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s = proj_stmt(p, ST_AGENT_UPSERT, agent_upsert_sql);

	bind_event(s, ev);
	proj_bind_text(s, ":name", ev->name ? ev->name : ev->agent_id);
	proj_bind_text(s, ":kind", ev->kind ? ev->kind : "agent");
	return proj_run(p, s, "cannot store agent");
}

/* every intent is kept: the newest that counts is read (PROJ_INTENT_OF) */
static const char intent_upsert_sql[] =
	"INSERT OR IGNORE INTO agent_intent(agent_id, intent, ns, eid)"
	" VALUES(:agent_id, :intent, :ts_ns, :event_id)";

static int apply_update(struct projection *p, const struct event *ev)
{
	if (proj_apply_work(p, ev) < 0)
		return -1;
	if (!ev->intent)
		return 0;
	return store_event(p, ST_INTENT_UPSERT, intent_upsert_sql, ev,
			   "cannot store intent");
}

/* a start or an end is a fact; the session follows from those that count */
static int apply_session(struct projection *p, const struct event *ev)
{
	return proj_sign_session(p, ev);
}

/*
 * Deletes and membership changes are kept by event: which count depends
 * on their signatures, which a registration can re-judge after they
 * arrived; the readers choose (PROJ_GROUP_DELETED, PROJ_MEMBER_NOW).
 */
static const char group_delete_sql[] =
	"INSERT OR IGNORE INTO group_deletes(group_id, eid)"
	" VALUES(:group_id, :event_id)";

static const char member_upsert_sql[] =
	"INSERT OR IGNORE INTO group_members(group_id, member_type,"
	" member_value, present, ns, eid) VALUES(:group_id, :member_type,"
	" :member_value, :present, :ts_ns, :event_id)";

static int apply_group(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s;

	switch (ev->type) {
	case EV_GROUP_CREATE:
		return proj_group_create(p, ev);
	case EV_GROUP_UPDATE:
		return proj_group_update(p, ev);
	case EV_GROUP_DELETE:
		s = proj_stmt(p, ST_GROUP_DELETE, group_delete_sql);
		proj_bind_text(s, ":group_id", ev->group_id);
		proj_bind_text(s, ":event_id", ev->event_id);
		break;
	case EV_GROUP_MEMBER_ADD:
	case EV_GROUP_MEMBER_REMOVE:
		s = proj_stmt(p, ST_MEMBER_UPSERT, member_upsert_sql);
		bind_event(s, ev);
		proj_bind_int(s, ":present", ev->type == EV_GROUP_MEMBER_ADD);
		break;
	default:
		BUG("not a group event: %d", ev->type);
	}
	return proj_run(p, s, "cannot store group");
}

static const char clamp_get_sql[] =
	"SELECT ns FROM clamped WHERE event_id = :event_id";

static const char clamp_put_sql[] =
	"INSERT OR IGNORE INTO clamped(event_id, ns) VALUES(:event_id, :ns)";

/*
 * The instant an event counts at for every "latest wins" order (and the
 * order of the inbox): its own, unless that is more than a day ahead of
 * this clone's clock when the event first arrived, then that day's end.
 * A line claiming 2261 therefore cannot pin an agent's registration, an
 * intent, a membership or an edit: a day later, anything newer wins.
 * The instant given is kept in the database (and across a rebuild), so
 * that applying the same events again, in any order, gives the same
 * answers.  The event's own timestamp is not changed.
 */
static int clamp_ns(struct projection *p, const struct event *ev,
		    int64_t *out)
{
	int64_t limit;
	sqlite3_stmt *s;
	int rc;

	if (!p->now)	/* applied outside projection_begin() */
		p->now = date_now_ns();
	limit = p->now + CLAMP_AHEAD_NS;
	*out = ev->ts_ns;
	if (ev->ts_ns <= limit)
		return 0;
	s = proj_stmt(p, ST_CLAMP_GET, clamp_get_sql);
	proj_bind_text(s, ":event_id", ev->event_id);
	rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : limit;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot read the clamped instants");
	if (rc == SQLITE_ROW)
		return 0;
	s = proj_stmt(p, ST_CLAMP_PUT, clamp_put_sql);
	proj_bind_text(s, ":event_id", ev->event_id);
	proj_bind_int(s, ":ns", limit);
	return proj_run(p, s, "cannot record a clamped instant");
}

static const char seen_insert_sql[] =
	"INSERT INTO events_seen(event_id, hash, ts)"
	" VALUES(:event_id, :hash, :ts)"
	" ON CONFLICT(event_id) DO NOTHING";

static const char seen_hash_sql[] =
	"SELECT hash FROM events_seen WHERE event_id = :event_id";

int proj_seen_hash(struct projection *p, const char *id, size_t len,
		   int64_t *hash)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SEEN_HASH, seen_hash_sql);
	int rc;

	proj_bind_textn(s, ":event_id", id, len);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*hash = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot look up an event");
	return rc == SQLITE_ROW;
}

int projection_apply(struct projection *p, const struct event *orig,
		     const char *shard, uint64_t line_hash)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SEEN_INSERT, seen_insert_sql);
	struct event copy = *orig;
	const struct event *ev = orig;
	int ret, seen = 0, rejected;

	proj_bind_text(s, ":event_id", ev->event_id);
	proj_bind_int(s, ":hash", (int64_t)line_hash);
	proj_bind_int(s, ":ts", ev->ts_ns);
	if (proj_run(p, s, "cannot record event") < 0)
		return -1;
	if (!sqlite3_changes(p->db)) {
		int64_t known = 0;

		proj_seen_hash(p, ev->event_id, strlen(ev->event_id), &known);
		if (known == (int64_t)line_hash)
			return 0;
		if (record_conflict(p, ev->event_id, line_hash) < 0)
			return -1;
		return THRUM_ECONFLICT;
	}
	/* a shallow copy that orders at the clamped instant */
	if (clamp_ns(p, orig, &copy.ts_ns) < 0)
		return -1;
	ev = &copy;
	/* signed events: one that does not count is kept as a fact only */
	if ((rejected = proj_sign_record(p, ev, shard)) < 0)
		return -1;

	/* every event is kept; what a cleanup or purge covers is set aside */
	if (proj_clean_before(p, ev) < 0)
		return -1;
	switch (ev->type) {
	case EV_MESSAGE_CREATE:
		ret = apply_create(p, ev, shard, line_hash);
		if (ret != -1 && proj_clean_after_create(p, ev) < 0)
			ret = -1;
		seen = !rejected;
		break;
	case EV_MESSAGE_EDIT:
	case EV_MESSAGE_DELETE:
		ret = apply_edit_or_delete(p, ev, shard);
		break;
	case EV_MESSAGE_RECEIPT:
		ret = rejected ? 0 : apply_receipt(p, ev);
		seen = !rejected;
		break;
	case EV_AGENT_REGISTER:
		/* its name is judged again, its last seen too */
		ret = apply_register(p, ev);
		if (ret >= 0)
			ret = proj_sign_after(p, ev, shard);
		break;
	case EV_AGENT_UPDATE:
		ret = apply_update(p, ev);
		/* one that does not count is no act: last seen stays */
		seen = rejected ? 0 : 1;
		break;
	case EV_AGENT_SESSION_START:
	case EV_AGENT_SESSION_END:
		ret = apply_session(p, ev);
		seen = !rejected;
		break;
	case EV_GROUP_CREATE:
	case EV_GROUP_DELETE:
	case EV_GROUP_MEMBER_ADD:
	case EV_GROUP_MEMBER_REMOVE:
	case EV_GROUP_UPDATE:
		ret = apply_group(p, ev);
		break;
	case EV_AGENT_CLEANUP:
	case EV_PURGE_EXECUTED:
		ret = proj_clean_apply(p, ev);
		break;
	case EV_AGENT_VOUCH:
		/* what it owns counts now: its name is judged again */
		ret = proj_sign_after(p, ev, shard);
		break;
	default:
		ret = 0;	/* unknown types: kept in the log, not shown */
		break;
	}
	/*
	 * an agent's own acts that count say when it was last there (a
	 * create that lost its message_id too)
	 */
	if (seen && ret != -1 && seen_agent(p, ev->agent_id, ev->ts_ns) < 0)
		ret = -1;
	return ret < 0 ? ret : 1;
}

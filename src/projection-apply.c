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

static int add_audience(struct projection *p, const char *msg,
			const char *kind, const char *value)
{
	sqlite3_stmt *s = proj_stmt(p, ST_AUD_ADD);

	proj_bind_text(s, 1, msg);
	proj_bind_text(s, 2, kind);
	proj_bind_text(s, 3, value);
	return proj_run(p, s, "cannot store audience");
}

static int refresh_message(struct projection *p, const char *msg)
{
	sqlite3_stmt *s = proj_stmt(p, ST_MSG_REFRESH);

	proj_bind_text(s, 1, msg);
	return proj_run(p, s, "cannot refresh message");
}

static int seen_agent(struct projection *p, const char *agent, int64_t ns)
{
	sqlite3_stmt *s;

	if (!agent)
		return 0;
	s = proj_stmt(p, ST_SEEN_AGENT);
	proj_bind_text(s, 1, agent);
	sqlite3_bind_int64(s, 2, ns);
	return proj_run(p, s, "cannot store last seen");
}

static void bind_create(sqlite3_stmt *s, const struct event *ev, int own)
{
	const char *reply_to = NULL;
	size_t i;

	for (i = 0; i < ev->nr_refs; i++)
		if (!strcmp(ev->refs[i].type, "reply_to") && !reply_to)
			reply_to = ev->refs[i].value;
	proj_bind_text(s, 1, ev->message_id);
	proj_bind_text(s, 2, ev->event_id);
	proj_bind_text(s, 3, ev->thread_id);
	proj_bind_text(s, 4, ev->agent_id);
	proj_bind_text(s, 5, ev->session_id);
	sqlite3_bind_int64(s, 6, ev->ts_ns);
	proj_bind_text(s, 7, ev->timestamp);
	proj_bind_text(s, 8, ev->body_format);
	proj_bind_text(s, 9, ev->body_content);
	proj_bind_text(s, 10, ev->body_structured);
	proj_bind_text(s, 11, ev->priority);
	proj_bind_text(s, 12, reply_to);
	sqlite3_bind_int(s, 13, own);
}

static int record_conflict(struct projection *p, const char *event_id,
			   uint64_t hash)
{
	sqlite3_stmt *s = proj_stmt(p, ST_CONFLICT_ADD);

	proj_bind_text(s, 1, event_id);
	sqlite3_bind_int64(s, 2, (int64_t)hash);
	return proj_run(p, s, "cannot record conflict");
}

/*
 * A create of a message_id already projected: the better of the two by
 * projection_create_cmp() stays in messages, the other is a conflict.
 * Returns 1 when ev replaced the row, 0 when it lost, -1 on error.
 */
static int second_create(struct projection *p, const struct event *ev,
			 int own, uint64_t hash)
{
	sqlite3_stmt *s = proj_stmt(p, ST_MSG_RANK);
	char *old_id = NULL;
	int64_t old_ns = 0;
	int old_own = 0, rc, ret = -1;

	proj_bind_text(s, 1, ev->message_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		old_own = sqlite3_column_int(s, 0);
		old_ns = sqlite3_column_int64(s, 1);
		old_id = proj_col_text(s, 2);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		proj_db_error(p, "cannot read message");
		goto out;
	}
	if (projection_create_cmp(own, ev->ts_ns, ev->event_id, old_own,
				  old_ns, old_id) > 0) {
		ret = record_conflict(p, ev->event_id, hash);
		goto out;
	}
	s = proj_stmt(p, ST_CONFLICT_LOSER);
	proj_bind_text(s, 1, old_id);
	if (proj_run(p, s, "cannot record conflict") < 0)
		goto out;
	s = proj_stmt(p, ST_MSG_REPLACE);
	bind_create(s, ev, own);
	if (proj_run(p, s, "cannot store message") < 0)
		goto out;
	ret = 1;
out:
	free(old_id);
	return ret;
}

/* 1 when new, THRUM_ECONFLICT when another create of its id exists */
static int apply_create(struct projection *p, const struct event *ev,
			const char *shard, uint64_t hash)
{
	int own = shard && !strcmp(shard, ev->agent_id);
	int ret = 1, r;
	sqlite3_stmt *s;
	size_t i, added = 0;

	s = proj_stmt(p, ST_MSG_INSERT);
	bind_create(s, ev, own);
	if (proj_run(p, s, "cannot store message") < 0)
		return -1;
	if (!sqlite3_changes(p->db)) {
		r = second_create(p, ev, own, hash);
		if (r <= 0)
			return r < 0 ? -1 : THRUM_ECONFLICT;
		ret = THRUM_ECONFLICT;
	}

	s = proj_stmt(p, ST_AUD_CLEAR);
	proj_bind_text(s, 1, ev->message_id);
	if (proj_run(p, s, "cannot store audience") < 0)
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
	if (seen_agent(p, ev->agent_id, ev->ts_ns) < 0 ||
	    refresh_message(p, ev->message_id) < 0)
		return -1;
	return ret;
}

static int apply_edit_or_delete(struct projection *p, const struct event *ev,
				const char *shard)
{
	const char *who = ev->agent_id ? ev->agent_id : shard;
	sqlite3_stmt *s;

	if (ev->type == EV_MESSAGE_EDIT) {
		s = proj_stmt(p, ST_EDIT_ADD);
		proj_bind_text(s, 5, ev->body_format);
		proj_bind_text(s, 6, ev->body_content);
	} else {
		s = proj_stmt(p, ST_DELETE_ADD);
		proj_bind_text(s, 5, ev->reason);
	}
	proj_bind_text(s, 1, ev->event_id);
	proj_bind_text(s, 2, ev->message_id);
	sqlite3_bind_int64(s, 3, ev->ts_ns);
	proj_bind_text(s, 4, who);
	if (proj_run(p, s, "cannot store edit") < 0)
		return -1;
	return refresh_message(p, ev->message_id);
}

static int apply_receipt(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s = proj_stmt(p, ST_RECEIPT_ADD);

	proj_bind_text(s, 1, ev->message_id);
	proj_bind_text(s, 2, ev->agent_id);
	proj_bind_text(s, 3, ev->receipt_type ? ev->receipt_type : "read");
	if (proj_run(p, s, "cannot store receipt") < 0)
		return -1;
	return seen_agent(p, ev->agent_id, ev->ts_ns);
}

static int apply_register(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s = proj_stmt(p, ST_AGENT_UPSERT);

	proj_bind_text(s, 1, ev->agent_id);
	proj_bind_text(s, 2, ev->name ? ev->name : ev->agent_id);
	proj_bind_text(s, 3, ev->kind ? ev->kind : "agent");
	proj_bind_text(s, 4, ev->role);
	proj_bind_text(s, 5, ev->module);
	proj_bind_text(s, 6, ev->worktree);
	proj_bind_text(s, 7, ev->display);
	proj_bind_text(s, 8, ev->hostname);
	sqlite3_bind_int64(s, 9, ev->ts_ns);
	proj_bind_text(s, 10, ev->event_id);
	if (proj_run(p, s, "cannot store agent") < 0)
		return -1;
	return seen_agent(p, ev->agent_id, ev->ts_ns);
}

static int apply_update(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s;

	if (!ev->intent)
		return seen_agent(p, ev->agent_id, ev->ts_ns);
	s = proj_stmt(p, ST_INTENT_UPSERT);
	proj_bind_text(s, 1, ev->agent_id);
	proj_bind_text(s, 2, ev->intent);
	sqlite3_bind_int64(s, 3, ev->ts_ns);
	proj_bind_text(s, 4, ev->event_id);
	if (proj_run(p, s, "cannot store intent") < 0)
		return -1;
	return seen_agent(p, ev->agent_id, ev->ts_ns);
}

static int apply_session(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s;

	if (ev->type == EV_AGENT_SESSION_START) {
		s = proj_stmt(p, ST_SESSION_START);
		proj_bind_text(s, 1, ev->session_id);
		proj_bind_text(s, 2, ev->agent_id);
		sqlite3_bind_int64(s, 3, ev->ts_ns);
	} else {
		s = proj_stmt(p, ST_SESSION_END);
		proj_bind_text(s, 1, ev->session_id);
		sqlite3_bind_int64(s, 2, ev->ts_ns);
		proj_bind_text(s, 3, ev->reason);
	}
	if (proj_run(p, s, "cannot store session") < 0)
		return -1;
	return seen_agent(p, ev->agent_id, ev->ts_ns);
}

static int apply_group(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s;

	switch (ev->type) {
	case EV_GROUP_CREATE:
		s = proj_stmt(p, ST_GROUP_CREATE);
		proj_bind_text(s, 1, ev->group_id);
		proj_bind_text(s, 2, ev->name);
		proj_bind_text(s, 3, ev->description);
		proj_bind_text(s, 4, ev->actor);
		sqlite3_bind_int64(s, 5, ev->ts_ns);
		proj_bind_text(s, 6, ev->event_id);
		break;
	case EV_GROUP_DELETE:
		s = proj_stmt(p, ST_GROUP_DELETE);
		proj_bind_text(s, 1, ev->group_id);
		break;
	case EV_GROUP_MEMBER_ADD:
	case EV_GROUP_MEMBER_REMOVE:
		s = proj_stmt(p, ST_MEMBER_UPSERT);
		proj_bind_text(s, 1, ev->group_id);
		proj_bind_text(s, 2, ev->member_type);
		proj_bind_text(s, 3, ev->member_value);
		sqlite3_bind_int(s, 4, ev->type == EV_GROUP_MEMBER_ADD);
		sqlite3_bind_int64(s, 5, ev->ts_ns);
		proj_bind_text(s, 6, ev->event_id);
		break;
	default:
		/*
		 * NEEDSWORK: group.update (renames, descriptions) is kept in
		 * the log but not projected yet.
		 */
		return 0;
	}
	return proj_run(p, s, "cannot store group");
}

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
	s = proj_stmt(p, ST_CLAMP_GET);
	proj_bind_text(s, 1, ev->event_id);
	rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : limit;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot read the clamped instants");
	if (rc == SQLITE_ROW)
		return 0;
	s = proj_stmt(p, ST_CLAMP_PUT);
	proj_bind_text(s, 1, ev->event_id);
	sqlite3_bind_int64(s, 2, limit);
	return proj_run(p, s, "cannot record a clamped instant");
}

int projection_apply(struct projection *p, const struct event *orig,
		     const char *shard, uint64_t line_hash)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SEEN_INSERT);
	struct event copy = *orig;
	const struct event *ev = orig;
	int ret;

	proj_bind_text(s, 1, ev->event_id);
	sqlite3_bind_int64(s, 2, (int64_t)line_hash);
	sqlite3_bind_int64(s, 3, ev->ts_ns);
	if (proj_run(p, s, "cannot record event") < 0)
		return -1;
	if (!sqlite3_changes(p->db)) {
		int64_t known = 0;

		s = proj_stmt(p, ST_SEEN_HASH);
		proj_bind_text(s, 1, ev->event_id);
		if (sqlite3_step(s) == SQLITE_ROW)
			known = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
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

	switch (ev->type) {
	case EV_MESSAGE_CREATE:
		ret = apply_create(p, ev, shard, line_hash);
		break;
	case EV_MESSAGE_EDIT:
	case EV_MESSAGE_DELETE:
		ret = apply_edit_or_delete(p, ev, shard);
		break;
	case EV_MESSAGE_RECEIPT:
		ret = apply_receipt(p, ev);
		break;
	case EV_AGENT_REGISTER:
		ret = apply_register(p, ev);
		break;
	case EV_AGENT_UPDATE:
		ret = apply_update(p, ev);
		break;
	case EV_AGENT_SESSION_START:
	case EV_AGENT_SESSION_END:
		ret = apply_session(p, ev);
		break;
	case EV_GROUP_CREATE:
	case EV_GROUP_DELETE:
	case EV_GROUP_MEMBER_ADD:
	case EV_GROUP_MEMBER_REMOVE:
	case EV_GROUP_UPDATE:
		ret = apply_group(p, ev);
		break;
	default:
		ret = 0;	/* unknown types: kept in the log, not shown */
		break;
	}
	return ret < 0 ? ret : 1;
}

/*
 * projection-sign.c: which events count, by their signatures
 * (Documentation/security.adoc, "Signed events").  Each event's
 * signature is a fact (event_sigs: unsigned, good with the key that
 * signed, or bad), each registration too (agent_regs: the key it names
 * and the key that signed it).  From the facts of one name alone, in
 * (instant, event_id) order, follows which key speaks for it and when
 * (agent_keys): the keys thrum.allowedSigners lists for it, else the key
 * of its first self-signed registration, from the beginning, replaced
 * only by a registration signed by the key before.  An event
 * does not count (sig_rejects) when its signature is bad, or when a key
 * speaks for its name at its instant and the event is not signed by it.
 *
 * A registration or a vouch (projection-vouch.c) can change what counts
 * for events that came before it, so each one recomputes its name from
 * the facts: the keys, the rejects,
 * the agent's row and last seen, its receipts, its messages' edits and
 * deletes, its sessions (each start and end is kept as a fact,
 * session_events), the groups it created or updated
 * (projection-group.c), and what a cleanup or purge it speaks for
 * removes (projection-clean.c).
 * What a name's facts decide does not depend on the order they came in:
 * rebuild = incremental.  Messages are filtered where they are read
 * (PROJ_SIG_SHOWN).
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "event.h"
#include "sign.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

/*
 * who an event speaks for: its agent_id, else the actor, else the shard;
 * a group event for its actor (created_by, added_by, ...) first, the
 * name the group shows as having acted.  A purge that names no agent
 * speaks for nobody (""), wherever it was written, and never counts; a
 * purge counts only when signed by the key of its agent (REJECT_SELECT).
 */
static const char *speaker(const struct event *ev, const char *shard)
{
	int group = ev->type == EV_GROUP_CREATE ||
		    ev->type == EV_GROUP_MEMBER_ADD ||
		    ev->type == EV_GROUP_MEMBER_REMOVE ||
		    ev->type == EV_GROUP_UPDATE || ev->type == EV_GROUP_DELETE;

	if (group && ev->actor)
		return ev->actor;
	if (ev->type == EV_PURGE_EXECUTED && !ev->agent_id)
		return "";
	if (ev->agent_id)
		return ev->agent_id;
	if (ev->actor)
		return ev->actor;
	return shard;
}

static const char sig_add_sql[] =
	"INSERT OR IGNORE INTO event_sigs(event_id, agent_id, ts, state,"
	" signer, type, message_id, receipt_type, digest)"
	" VALUES(:event_id, :who, :ts_ns, :state, :signer, :type,"
	" :message_id, :receipt_type, :digest)";

static const char reg_add_sql[] =
	"INSERT OR IGNORE INTO agent_regs(event_id, agent_id, ts, state,"
	" signer, pubkey, name, kind, role, module, worktree, display,"
	" hostname) VALUES(:event_id, :who, :ts_ns, :state, :signer,"
	" :pubkey, :name, :kind, :role, :module, :worktree, :display,"
	" :hostname)";

/*
 * The row of rejects that one event e gets: a bad signature; or its
 * name has a key and e is not signed by a key that speaks for it at e's
 * instant, unless e is unsigned and a vouch of the name owns it (a line
 * from before the key: projection-vouch.c).  A name without a key: its
 * unsigned events count (unverified), except a purge, which empties
 * every clone: it counts only signed by the key of its name.
 */
#define REJECT_SELECT \
	"SELECT e.event_id, e.agent_id, CASE" \
	"  WHEN e.state = 2 THEN 'bad signature'" \
	"  WHEN e.agent_id = '' THEN 'a purge that names no agent'" \
	"  WHEN e.type = 'purge.executed' AND NOT EXISTS (SELECT 1" \
	"   FROM agent_keys k WHERE k.agent_id = e.agent_id AND" \
	PROJ_KEY_SPEAKS("k", "e") ") THEN 'a purge by a name without a key'" \
	"  WHEN e.state = 0 THEN 'unsigned, and the name has a key'" \
	"  ELSE 'not signed by the key of the name' END" \
	" FROM event_sigs e WHERE (e.state = 2 OR e.agent_id = '' OR (" \
	"  e.type = 'purge.executed' AND NOT EXISTS (SELECT 1 FROM agent_keys k" \
	"   WHERE k.agent_id = e.agent_id AND e.state = 1" \
	"   AND k.pubkey = e.signer AND" PROJ_KEY_SPEAKS("k", "e") ")) OR (" \
	"  EXISTS (SELECT 1 FROM agent_keys k WHERE k.agent_id = e.agent_id)" \
	"  AND NOT EXISTS (SELECT 1 FROM agent_keys k" \
	"   WHERE k.agent_id = e.agent_id AND e.state = 1" \
	"   AND k.pubkey = e.signer AND" PROJ_KEY_SPEAKS("k", "e") ")" \
	"  AND NOT (e.state = 0 AND" PROJ_VOUCHED("e") ")))"

static const char reject_one_sql[] =
	"INSERT OR IGNORE INTO sig_rejects(event_id, agent_id, why) "
	REJECT_SELECT " AND e.event_id = :event_id";

static const char reject_agent_sql[] =
	"INSERT OR IGNORE INTO sig_rejects(event_id, agent_id, why) "
	REJECT_SELECT " AND e.agent_id = :who";

static const char reject_clear_sql[] =
	"DELETE FROM sig_rejects WHERE agent_id = :who";

static const char keys_clear_sql[] =
	"DELETE FROM agent_keys WHERE agent_id = :who;";

/* a name's first key speaks for it from the beginning (since NULL) */
static const char key_add_sql[] =
	"INSERT OR IGNORE INTO agent_keys(agent_id, pubkey, since_ns,"
	" since_eid, until_ns, until_eid)"
	" VALUES(:who, :pubkey, CASE WHEN :first THEN NULL ELSE :since_ns END,"
	" CASE WHEN :first THEN NULL ELSE :since_eid END, NULL, NULL)";

/* the key before a rotation stops at the rotation */
static const char key_end_sql[] =
	"UPDATE agent_keys SET until_ns = :ts_ns, until_eid = :event_id"
	" WHERE agent_id = :who AND until_ns IS NULL";

static const char allowed_keys_sql[] =
	"INSERT OR IGNORE INTO agent_keys(agent_id, pubkey)"
	" SELECT agent_id, pubkey FROM allowed_signers WHERE agent_id = :who";

static const char regs_sql[] =
	"SELECT event_id, ts, state, signer, pubkey FROM agent_regs"
	" WHERE agent_id = :who ORDER BY ts, event_id";

static const char conflicts_clear_sql[] =
	"DELETE FROM key_conflicts WHERE agent_id = :who";

static const char conflict_add_sql[] =
	"INSERT OR IGNORE INTO key_conflicts(event_id, agent_id)"
	" VALUES(:event_id, :who)";

static const char any_allowed_sql[] =
	"SELECT EXISTS (SELECT 1 FROM allowed_signers)";

static int exec_who(struct projection *p, enum stmt_id id, const char *sql,
		    const char *who)
{
	return proj_run_text(p, id, sql, ":who", who,
			     "cannot store signatures");
}

static int add_conflict(struct projection *p, const char *who,
			const char *event_id)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SIG_CONFLICT, conflict_add_sql);

	proj_bind_text(s, ":who", who);
	proj_bind_text(s, ":event_id", event_id);
	return proj_run(p, s, "cannot store a key conflict");
}

/*
 * The keys of who, from its registrations in order: the first one that
 * names the key it is signed with sets it; later ones signed by the key
 * of their instant may name another (a rotation); one that names another
 * key without that signature is a conflict.
 */
static int chain_keys(struct projection *p, const char *who)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SIG_REGS, regs_sql);
	struct strvec ids = STRVEC_INIT, conflicts = STRVEC_INIT;
	char *key = NULL;
	int64_t *ts = NULL;
	size_t nr = 0, i;
	int rc, ret = -1;

	proj_bind_text(s, ":who", who);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *eid = (const char *)sqlite3_column_text(s, 0);
		int state = sqlite3_column_int(s, 2);
		const char *signer = (const char *)sqlite3_column_text(s, 3);
		const char *pubkey = (const char *)sqlite3_column_text(s, 4);
		int64_t t = sqlite3_column_int64(s, 1);
		int good = state == EVENT_SIG_GOOD && signer;

		if (!key) {
			if (!good || !pubkey || strcmp(pubkey, signer))
				continue;
			key = xstrdup(pubkey);
		} else if (!pubkey || !strcmp(pubkey, key)) {
			continue;
		} else if (!good || strcmp(signer, key)) {
			strvec_push(&conflicts, eid);
			continue;
		} else {
			free(key);
			key = xstrdup(pubkey);
		}
		/* a key from here on: pubkey, since (t, eid) */
		ts = xrealloc(ts, (nr + 1) * sizeof(*ts));
		ts[nr++] = t;
		strvec_push(&ids, eid);
		strvec_push(&ids, pubkey);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		proj_db_error(p, "cannot read registrations");
		goto out;
	}
	for (i = 0; i < nr; i++) {
		if (i) {
			s = proj_stmt(p, ST_SIG_KEY_END, key_end_sql);
			proj_bind_text(s, ":who", who);
			proj_bind_int(s, ":ts_ns", ts[i]);
			proj_bind_text(s, ":event_id", ids.v[2 * i]);
			if (proj_run(p, s, "cannot store a key") < 0)
				goto out;
		}
		s = proj_stmt(p, ST_SIG_KEY_ADD, key_add_sql);
		proj_bind_text(s, ":who", who);
		proj_bind_text(s, ":pubkey", ids.v[2 * i + 1]);
		proj_bind_int(s, ":since_ns", ts[i]);
		proj_bind_text(s, ":since_eid", ids.v[2 * i]);
		proj_bind_int(s, ":first", i == 0);
		if (proj_run(p, s, "cannot store a key") < 0)
			goto out;
	}
	for (i = 0; i < conflicts.nr; i++)
		if (add_conflict(p, who, conflicts.v[i]) < 0)
			goto out;
	ret = 0;
out:
	free(key);
	free(ts);
	strvec_clear(&ids);
	strvec_clear(&conflicts);
	return ret;
}

static int any_allowed(struct projection *p)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SIG_ANY_ALLOWED, any_allowed_sql);
	int rc = sqlite3_step(s), n = rc == SQLITE_ROW ?
		sqlite3_column_int(s, 0) : -1;

	sqlite3_reset(s);
	if (n < 0)
		return proj_db_error(p, "cannot read allowed signers");
	return n;
}

/* the latest registration that counts is the agent's row; none: no row */
static const char agent_clear_sql[] =
	"DELETE FROM agents WHERE agent_id = :who";

static const char agent_from_regs_sql[] =
	"INSERT INTO agents(agent_id, name, kind, role, module, worktree,"
	" display, hostname, reg_ns, reg_eid)"
	" SELECT agent_id, COALESCE(name, agent_id), COALESCE(kind, 'agent'),"
	" role, module, worktree, display, hostname, ts, event_id"
	" FROM agent_regs r WHERE agent_id = :who AND NOT EXISTS"
	"  (SELECT 1 FROM sig_rejects x WHERE x.event_id = r.event_id)"
	/* nor one an agent.cleanup that counts removed (projection-clean.c) */
	" AND NOT" PROJ_CLEANED("r.agent_id", "r.ts")
	" ORDER BY ts DESC, event_id DESC LIMIT 1";

/*
 * Last seen: the newest own act of who that counts, after its last
 * cleanup that counts; an act that does not count moves nothing
 */
static const char seen_clear_sql[] =
	"DELETE FROM agent_seen WHERE agent_id = :who";

static const char seen_derive_sql[] =
	"INSERT INTO agent_seen(agent_id, last_ns)"
	" SELECT :who, MAX(e.ts) FROM event_sigs e WHERE e.agent_id = :who"
	" AND e.type IN ('message.create', 'message.receipt',"
	"  'agent.register', 'agent.update', 'agent.session.start',"
	"  'agent.session.end')"
	" AND" PROJ_SIG_COUNTS("e.event_id")
	" AND NOT" PROJ_CLEANED(":who", "e.ts")
	" HAVING MAX(e.ts) IS NOT NULL";

/* the receipts of who that count */
static const char receipts_clear_sql[] =
	"DELETE FROM receipts WHERE agent_id = :who";

static const char receipts_from_sigs_sql[] =
	"INSERT OR IGNORE INTO receipts(message_id, agent_id, receipt_type)"
	" SELECT message_id, agent_id, COALESCE(receipt_type, 'read')"
	" FROM event_sigs e WHERE agent_id = :who"
	" AND type = 'message.receipt' AND message_id IS NOT NULL"
	" AND NOT EXISTS"
	"  (SELECT 1 FROM sig_rejects x WHERE x.event_id = e.event_id)";

/* edits and deletes of who's messages, by what counts now */
static const char refresh_agent_sql[] =
	"UPDATE messages SET " PROJ_MSG_REFRESH_SET
	" WHERE agent_id = :who";

/*
 * Sessions, from the starts and ends that count: a session is its first
 * start by (instant, event_id), and ends at the latest end by the agent
 * that started it (any end while no start counts), with that end's
 * reason.  A purged session stays purged.  SESSION_DERIVE(set) writes
 * the rows of the session ids that the SELECT set gives.
 */
#define SESSION_COUNTS(f) \
	" NOT EXISTS (SELECT 1 FROM sig_rejects x" \
	"  WHERE x.event_id = " f ".event_id)"

#define SESSION_DERIVE(set) \
	"INSERT INTO sessions(session_id, agent_id, started_ns, ended_ns," \
	" end_reason)" \
	" SELECT d.session_id, st.agent_id, st.ns, en.ns, en.reason" \
	" FROM (SELECT DISTINCT session_id FROM session_events" \
	"  WHERE session_id IN (" set ")) d" \
	" LEFT JOIN session_events st ON st.event_id =" \
	"  (SELECT f.event_id FROM session_events f" \
	"   WHERE f.session_id = d.session_id AND f.start AND" \
	SESSION_COUNTS("f") " ORDER BY f.ns, f.event_id LIMIT 1)" \
	" LEFT JOIN session_events en ON en.event_id =" \
	"  (SELECT f.event_id FROM session_events f" \
	"   WHERE f.session_id = d.session_id AND NOT f.start" \
	"   AND (st.event_id IS NULL OR f.agent_id IS st.agent_id) AND" \
	SESSION_COUNTS("f") " ORDER BY f.ns DESC, f.event_id DESC LIMIT 1)" \
	" WHERE (st.event_id IS NOT NULL OR en.event_id IS NOT NULL)" \
	" AND NOT EXISTS (SELECT 1 FROM purged_sessions g" \
	"  WHERE g.session_id = d.session_id)"

static const char session_add_sql[] =
	"INSERT OR IGNORE INTO session_events(event_id, session_id, agent_id,"
	" ns, start, reason) VALUES(:event_id, :session_id, :agent_id,"
	" :ts_ns, :start, :reason)";

static const char session_clear_sql[] =
	"DELETE FROM sessions WHERE session_id = :session_id";

static const char session_derive_sql[] =
	SESSION_DERIVE("SELECT :session_id");

#define SESSIONS_OF_WHO \
	"SELECT session_id FROM session_events WHERE agent_id = :who"

static const char sessions_clear_sql[] =
	"DELETE FROM sessions WHERE session_id IN (" SESSIONS_OF_WHO ")";

static const char sessions_derive_sql[] = SESSION_DERIVE(SESSIONS_OF_WHO);

static const char sessions_all_derive_sql[] =
	SESSION_DERIVE("SELECT session_id FROM session_events");

/* every start and end is a fact, even of a session a purge removed */
static int add_session(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SIG_SESSION_ADD, session_add_sql);

	proj_bind_text(s, ":event_id", ev->event_id);
	proj_bind_text(s, ":session_id", ev->session_id);
	proj_bind_text(s, ":agent_id", ev->agent_id);
	proj_bind_int(s, ":ts_ns", ev->ts_ns);
	proj_bind_int(s, ":start", ev->type == EV_AGENT_SESSION_START);
	proj_bind_text(s, ":reason", ev->reason);
	return proj_run(p, s, "cannot store a session");
}

int proj_sign_session(struct projection *p, const struct event *ev)
{
	if (!ev->session_id)
		return 0;
	if (proj_run_text(p, ST_SIG_SESSION_CLEAR, session_clear_sql,
			  ":session_id", ev->session_id,
			  "cannot store a session") < 0)
		return -1;
	return proj_run_text(p, ST_SIG_SESSION_DERIVE, session_derive_sql,
			     ":session_id", ev->session_id,
			     "cannot store a session");
}

int proj_sign_sessions(struct projection *p, const char *who)
{
	if (!who)
		return proj_exec(p, "DELETE FROM sessions") < 0 ? -1 :
			proj_exec(p, sessions_all_derive_sql);
	if (exec_who(p, ST_SIG_SESSIONS_CLEAR, sessions_clear_sql, who) < 0)
		return -1;
	return exec_who(p, ST_SIG_SESSIONS_DERIVE, sessions_derive_sql, who);
}

int proj_sign_agent_rows(struct projection *p, const char *who)
{
	if (exec_who(p, ST_SIG_AGENT_CLEAR, agent_clear_sql, who) < 0 ||
	    exec_who(p, ST_SIG_AGENT_REGS, agent_from_regs_sql, who) < 0 ||
	    exec_who(p, ST_SIG_SEEN_CLEAR, seen_clear_sql, who) < 0)
		return -1;
	return exec_who(p, ST_SIG_SEEN_DERIVE, seen_derive_sql, who);
}

/* everything the facts of who decide, again */
static int recompute(struct projection *p, const char *who)
{
	int allowed = any_allowed(p);

	if (allowed < 0 ||
	    exec_who(p, ST_SIG_KEYS_CLEAR, keys_clear_sql, who) < 0 ||
	    exec_who(p, ST_SIG_CONFLICTS_CLEAR, conflicts_clear_sql, who) < 0)
		return -1;
	/* with thrum.allowedSigners, only the file says who has a key */
	if (allowed ? exec_who(p, ST_SIG_ALLOWED_KEYS, allowed_keys_sql,
			       who) < 0
		    : chain_keys(p, who) < 0)
		return -1;
	if (exec_who(p, ST_SIG_REJECT_CLEAR, reject_clear_sql, who) < 0 ||
	    exec_who(p, ST_SIG_REJECT_AGENT, reject_agent_sql, who) < 0 ||
	    proj_sign_agent_rows(p, who) < 0 ||
	    exec_who(p, ST_SIG_RECEIPTS_CLEAR, receipts_clear_sql, who) < 0 ||
	    exec_who(p, ST_SIG_RECEIPTS_SIGS, receipts_from_sigs_sql,
		     who) < 0 ||
	    exec_who(p, ST_SIG_REFRESH_AGENT, refresh_agent_sql, who) < 0 ||
	    proj_sign_sessions(p, who) < 0 ||
	    proj_group_rejudge(p, who) < 0)
		return -1;
	/* last: a cleanup or a purge it speaks for may count otherwise */
	return proj_clean_rejudge(p, who);
}

static const char rejected_sql[] =
	"SELECT EXISTS (SELECT 1 FROM sig_rejects WHERE event_id = :event_id)";

int proj_sign_record(struct projection *p, const struct event *ev,
		     const char *shard)
{
	const char *who = speaker(ev, shard);
	sqlite3_stmt *s;
	int rc, rejected;

	if (!who)
		return 0;
	s = proj_stmt(p, ST_SIG_ADD, sig_add_sql);
	proj_bind_text(s, ":event_id", ev->event_id);
	proj_bind_text(s, ":who", who);
	proj_bind_int(s, ":ts_ns", ev->ts_ns);
	proj_bind_int(s, ":state", ev->sig_state);
	proj_bind_text(s, ":signer", ev->signer);
	proj_bind_text(s, ":type", ev->type_name);
	proj_bind_text(s, ":message_id", ev->message_id);
	proj_bind_text(s, ":receipt_type", ev->receipt_type);
	proj_bind_text(s, ":digest", *ev->digest ? ev->digest : NULL);
	if (proj_run(p, s, "cannot store a signature") < 0)
		return -1;
	/* only a vouch that verifies can own lines */
	if (ev->type == EV_AGENT_VOUCH && ev->sig_state == EVENT_SIG_GOOD &&
	    proj_vouch_record(p, ev, who) < 0)
		return -1;
	if ((ev->type == EV_AGENT_SESSION_START ||
	     ev->type == EV_AGENT_SESSION_END) && ev->session_id &&
	    add_session(p, ev) < 0)
		return -1;
	if (ev->type == EV_AGENT_REGISTER) {
		s = proj_stmt(p, ST_SIG_REG_ADD, reg_add_sql);
		proj_bind_text(s, ":event_id", ev->event_id);
		proj_bind_text(s, ":who", who);
		proj_bind_int(s, ":ts_ns", ev->ts_ns);
		proj_bind_int(s, ":state", ev->sig_state);
		proj_bind_text(s, ":signer", ev->signer);
		proj_bind_text(s, ":pubkey", ev->pubkey);
		proj_bind_text(s, ":name", ev->name);
		proj_bind_text(s, ":kind", ev->kind);
		proj_bind_text(s, ":role", ev->role);
		proj_bind_text(s, ":module", ev->module);
		proj_bind_text(s, ":worktree", ev->worktree);
		proj_bind_text(s, ":display", ev->display);
		proj_bind_text(s, ":hostname", ev->hostname);
		if (proj_run(p, s, "cannot store a registration") < 0)
			return -1;
		return 0;
	}
	if (proj_run_text(p, ST_SIG_REJECT_ONE, reject_one_sql, ":event_id",
			  ev->event_id, "cannot store a signature") < 0)
		return -1;
	s = proj_stmt(p, ST_SIG_REJECTED, rejected_sql);
	proj_bind_text(s, ":event_id", ev->event_id);
	rc = sqlite3_step(s);
	rejected = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
	sqlite3_reset(s);
	if (rejected < 0)
		return proj_db_error(p, "cannot read a signature");
	return rejected;
}

int proj_sign_after(struct projection *p, const struct event *ev,
		    const char *shard)
{
	const char *who = speaker(ev, shard);

	if (!who)
		return 0;
	if (ev->type == EV_AGENT_REGISTER)
		return recompute(p, who);
	/* only a vouch that verifies can change what counts */
	if (ev->type == EV_AGENT_VOUCH && ev->sig_state == EVENT_SIG_GOOD)
		proj_vouch_due(p, who);
	return 0;
}

int proj_sign_finish(struct projection *p)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < p->nr_sign_due; i++)
		ret = recompute(p, p->sign_due[i]);
	proj_sign_drop(p);
	return ret;
}

/* --- thrum.allowedSigners --- */

static const char allowed_all_sql[] =
	"SELECT agent_id, pubkey FROM allowed_signers"
	" ORDER BY agent_id, pubkey";

static const char allowed_add_sql[] =
	"INSERT OR IGNORE INTO allowed_signers(agent_id, pubkey)"
	" VALUES(:who, :pubkey)";

static const char names_sql[] =
	"SELECT agent_id FROM agent_regs UNION"
	" SELECT agent_id FROM agent_keys UNION"
	" SELECT agent_id FROM allowed_signers";

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* the file's "name key" lines, sorted, as "name key\n" text */
static int read_allowed(const char *path, struct strbuf *out)
{
	struct strbuf file = STRBUF_INIT;
	struct strvec lines = STRVEC_INIT;
	unsigned char pk[SIGN_PK_BYTES];
	char *p, *nl;
	size_t i, lineno = 0;
	int ret = -1;

	if (strbuf_read_file(&file, path, 4096) < 0) {
		error_errno("cannot read thrum.allowedSigners '%s'", path);
		goto out;
	}
	for (p = file.buf; *p; p = nl ? nl + 1 : p + strlen(p)) {
		char name[65], key[SIGN_PUBKEY_TEXT_MAX + 2], extra;
		int n;

		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		n = sscanf(p, "%64s %53s %c", name, key, &extra);
		if (n != 2 || !event_valid_name(name, NULL) ||
		    sign_pubkey_parse(key, pk) < 0) {
			error("bad line %zu in thrum.allowedSigners '%s': want "
			      "'<name> ed25519:<base64>'", lineno, path);
			goto out;
		}
		strvec_pushf(&lines, "%s %s\n", name, key);
	}
	qsort(lines.v, lines.nr, sizeof(*lines.v), line_cmp);
	for (i = 0; i < lines.nr; i++)
		strbuf_addstr(out, lines.v[i]);
	ret = 0;
out:
	strbuf_release(&file);
	strvec_clear(&lines);
	return ret;
}

static int current_allowed(struct projection *p, struct strbuf *out)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SIG_ALLOWED_ALL, allowed_all_sql);
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		strbuf_addf(out, "%s %s\n", sqlite3_column_text(s, 0),
			    sqlite3_column_text(s, 1));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : proj_db_error(p, "cannot read signers");
}

/* replace the allowed signers with text's lines, recompute every name */
static int store_allowed(struct projection *p, const char *text)
{
	sqlite3_stmt *s;
	const char *line;
	int rc;

	if (proj_exec(p, "DELETE FROM allowed_signers") < 0)
		return -1;
	for (line = text; *line; line = strchr(line, '\n') + 1) {
		const char *sp = strchr(line, ' '), *nl = strchr(line, '\n');
		char *who = xstrndup(line, sp - line);
		char *key = xstrndup(sp + 1, nl - sp - 1);

		s = proj_stmt(p, ST_SIG_ALLOWED_ADD, allowed_add_sql);
		proj_bind_text(s, ":who", who);
		proj_bind_text(s, ":pubkey", key);
		rc = proj_run(p, s, "cannot store signers");
		free(who);
		free(key);
		if (rc < 0)
			return -1;
	}
	s = proj_stmt(p, ST_SIG_NAMES, names_sql);
	return proj_each_text(p, s, "cannot read names", recompute);
}

int projection_set_signers(struct projection *p, const char *path)
{
	struct strbuf want = STRBUF_INIT, have = STRBUF_INIT;
	int ret = -1;

	if (path && *path && read_allowed(path, &want) < 0)
		goto out;
	if (current_allowed(p, &have) < 0)
		goto out;
	if (!strcmp(want.buf, have.buf)) {
		ret = 0;
		goto out;
	}
	if (projection_begin(p) < 0)
		goto out;
	if (store_allowed(p, want.buf) < 0 || projection_commit(p) < 0) {
		projection_rollback(p);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&want);
	strbuf_release(&have);
	return ret;
}

void projection_sign_view(struct projection *p, int include_bad,
			  int require_signed)
{
	p->sig_include_bad = include_bad;
	p->sig_require_signed = require_signed;
}

void proj_sign_bind_view(struct projection *p, sqlite3_stmt *s)
{
	if (sqlite3_bind_parameter_index(s, ":include_bad"))
		proj_bind_int(s, ":include_bad", p->sig_include_bad);
	if (sqlite3_bind_parameter_index(s, ":require_signed"))
		proj_bind_int(s, ":require_signed", p->sig_require_signed);
}

/* --- what does not count, for fsck and team --- */

static const char problems_sql[] =
	"SELECT x.event_id, x.agent_id, e.type, x.why,"
	" EXISTS (SELECT 1 FROM key_conflicts c WHERE c.event_id = x.event_id)"
	" FROM sig_rejects x JOIN event_sigs e ON e.event_id = x.event_id"
	" WHERE :who IS NULL OR x.agent_id = :who"
	" ORDER BY x.agent_id, e.ts, x.event_id";

int projection_sig_problems(struct projection *p, const char *who,
			    sig_problem_fn fn, void *payload)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SIG_PROBLEMS, problems_sql);
	int rc, n = 0;

	proj_bind_text(s, ":who", who);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct sig_problem pb;

		pb.event_id = (const char *)sqlite3_column_text(s, 0);
		pb.agent_id = (const char *)sqlite3_column_text(s, 1);
		pb.type = (const char *)sqlite3_column_text(s, 2);
		pb.why = (const char *)sqlite3_column_text(s, 3);
		pb.key_conflict = sqlite3_column_int(s, 4);
		n++;
		if (fn)
			fn(&pb, payload);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return proj_db_error(p, "cannot read signatures");
	return n;
}

/*
 * projection.c: the SQLite projection, and the only file with SQL.
 *
 * Invariants:
 *  - derived only: every row comes from an event in the log; the database
 *    can be deleted at any time and rebuilt by projection_catch_up();
 *  - order-independent: each event is stored as a fact (edits, deletes,
 *    receipts, memberships each in their own table, keyed by event or by
 *    what they describe) and the visible state is derived from the facts
 *    with "last writer by (instant, event_id)", "delete wins" and "first
 *    create wins", so any order of arrival gives the same answers;
 *  - an edit or delete counts only when made by the message's author
 *    (its agent_id, or the shard it was written to);
 *  - one transaction per batch; statements are prepared once and owned by
 *    struct projection; values are always bound, never formatted into SQL.
 */
#include "thrum.h"
#include <sqlite3.h>
#include "projection.h"
#include "event.h"
#include "store.h"
#include "strbuf.h"
#include "strvec.h"
#include "repo.h"
#include "usage.h"
#include "wrapper.h"

#define SCHEMA_VERSION 1
#define TAIL_BYTES 32

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS events_seen("
	"  event_id TEXT PRIMARY KEY, hash INTEGER NOT NULL,"
	"  ts INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS log_files("
	"  path TEXT PRIMARY KEY, size INTEGER NOT NULL, tail BLOB);"
	"CREATE TABLE IF NOT EXISTS skipped_lines("
	"  path TEXT NOT NULL, hash INTEGER NOT NULL, reason TEXT,"
	"  PRIMARY KEY(path, hash)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS conflicts("
	"  event_id TEXT NOT NULL, hash INTEGER NOT NULL,"
	"  PRIMARY KEY(event_id, hash)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS messages("
	"  message_id TEXT PRIMARY KEY, event_id TEXT NOT NULL,"
	"  thread_id TEXT, agent_id TEXT NOT NULL, session_id TEXT,"
	"  created_ns INTEGER NOT NULL, created_at TEXT NOT NULL,"
	"  format TEXT, content TEXT NOT NULL, structured TEXT,"
	"  priority TEXT, reply_to TEXT,"
	"  cur_format TEXT, cur_content TEXT,"
	"  deleted INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS messages_order"
	"  ON messages(created_ns DESC, message_id DESC);"
	"CREATE INDEX IF NOT EXISTS messages_author ON messages(agent_id);"
	"CREATE TABLE IF NOT EXISTS audience("
	"  message_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,"
	"  PRIMARY KEY(message_id, kind, value)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS audience_by_value"
	"  ON audience(kind, value, message_id);"
	"CREATE TABLE IF NOT EXISTS edits("
	"  event_id TEXT PRIMARY KEY, message_id TEXT NOT NULL,"
	"  ts INTEGER NOT NULL, editor TEXT, format TEXT,"
	"  content TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS edits_by_message ON edits(message_id);"
	"CREATE TABLE IF NOT EXISTS deletes("
	"  event_id TEXT PRIMARY KEY, message_id TEXT NOT NULL,"
	"  ts INTEGER NOT NULL, actor TEXT, reason TEXT) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS deletes_by_message ON deletes(message_id);"
	"CREATE TABLE IF NOT EXISTS receipts("
	"  message_id TEXT NOT NULL, agent_id TEXT NOT NULL,"
	"  receipt_type TEXT NOT NULL,"
	"  PRIMARY KEY(message_id, agent_id, receipt_type)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS agents("
	"  agent_id TEXT PRIMARY KEY, name TEXT, kind TEXT, role TEXT,"
	"  module TEXT, worktree TEXT, display TEXT, hostname TEXT,"
	"  reg_ns INTEGER, reg_eid TEXT);"
	"CREATE INDEX IF NOT EXISTS agents_by_role ON agents(role);"
	"CREATE TABLE IF NOT EXISTS agent_seen("
	"  agent_id TEXT PRIMARY KEY, last_ns INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS agent_intent("
	"  agent_id TEXT PRIMARY KEY, intent TEXT, ns INTEGER, eid TEXT)"
	"  WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS sessions("
	"  session_id TEXT PRIMARY KEY, agent_id TEXT, started_ns INTEGER,"
	"  ended_ns INTEGER, end_reason TEXT) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS sessions_by_agent ON sessions(agent_id);"
	"CREATE TABLE IF NOT EXISTS groups("
	"  group_id TEXT PRIMARY KEY, name TEXT, description TEXT,"
	"  created_by TEXT, created_ns INTEGER, eid TEXT) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS groups_by_name ON groups(name);"
	"CREATE TABLE IF NOT EXISTS group_deletes("
	"  group_id TEXT PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS group_members("
	"  group_id TEXT NOT NULL, member_type TEXT NOT NULL,"
	"  member_value TEXT NOT NULL, present INTEGER NOT NULL,"
	"  ns INTEGER NOT NULL, eid TEXT NOT NULL,"
	"  PRIMARY KEY(group_id, member_type, member_value)) WITHOUT ROWID;";

enum stmt_id {
	ST_SEEN_INSERT,
	ST_SEEN_HASH,
	ST_FILE_GET,
	ST_FILE_PUT,
	ST_FILE_ALL,
	ST_FILE_DEL,
	ST_SKIPPED_ADD,
	ST_CONFLICT_ADD,
	ST_MSG_UPSERT,
	ST_AUD_CLEAR,
	ST_AUD_ADD,
	ST_MSG_REFRESH,
	ST_EDIT_ADD,
	ST_DELETE_ADD,
	ST_RECEIPT_ADD,
	ST_AGENT_UPSERT,
	ST_SEEN_AGENT,
	ST_INTENT_UPSERT,
	ST_SESSION_START,
	ST_SESSION_END,
	ST_GROUP_CREATE,
	ST_GROUP_DELETE,
	ST_MEMBER_UPSERT,
	ST_MSG_AUDIENCE,
	ST_MSG_GET,
	ST_MSG_PREFIX,
	ST_INBOX,
	ST_AGENTS,
	ST_IS_AGENT,
	ST_IS_GROUP,
	ST_IS_ROLE,
	ST_COUNTS,
	ST_MAX
};

#define MESSAGE_COLUMNS \
	"m.message_id, m.thread_id, m.agent_id, m.session_id, m.reply_to," \
	" m.created_at, m.created_ns, COALESCE(m.cur_format, m.format)," \
	" COALESCE(m.cur_content, m.content), m.priority," \
	" m.cur_content IS NOT NULL, m.deleted," \
	" (m.agent_id = :me OR EXISTS (SELECT 1 FROM receipts r" \
	"   WHERE r.message_id = m.message_id AND r.agent_id = :me" \
	"   AND r.receipt_type = 'read'))"

static const char *const stmt_sql[ST_MAX] = {
	[ST_SEEN_INSERT] =
		"INSERT INTO events_seen(event_id, hash, ts) VALUES(?1, ?2, ?3)"
		" ON CONFLICT(event_id) DO NOTHING",
	[ST_SEEN_HASH] = "SELECT hash FROM events_seen WHERE event_id = ?1",
	[ST_FILE_GET] = "SELECT size, tail FROM log_files WHERE path = ?1",
	[ST_FILE_PUT] =
		"INSERT INTO log_files(path, size, tail) VALUES(?1, ?2, ?3)"
		" ON CONFLICT(path) DO UPDATE SET size = excluded.size,"
		" tail = excluded.tail",
	[ST_FILE_ALL] = "SELECT path, size, tail FROM log_files",
	[ST_FILE_DEL] = "DELETE FROM log_files WHERE path = ?1",
	[ST_SKIPPED_ADD] =
		"INSERT OR IGNORE INTO skipped_lines(path, hash, reason)"
		" VALUES(?1, ?2, ?3)",
	[ST_CONFLICT_ADD] =
		"INSERT OR IGNORE INTO conflicts(event_id, hash) VALUES(?1, ?2)",
	/* first create by (instant, event_id) wins */
	[ST_MSG_UPSERT] =
		"INSERT INTO messages(message_id, event_id, thread_id, agent_id,"
		" session_id, created_ns, created_at, format, content,"
		" structured, priority, reply_to)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
		" ON CONFLICT(message_id) DO UPDATE SET"
		" event_id = excluded.event_id, thread_id = excluded.thread_id,"
		" agent_id = excluded.agent_id,"
		" session_id = excluded.session_id,"
		" created_ns = excluded.created_ns,"
		" created_at = excluded.created_at, format = excluded.format,"
		" content = excluded.content, structured = excluded.structured,"
		" priority = excluded.priority, reply_to = excluded.reply_to"
		" WHERE (excluded.created_ns, excluded.event_id)"
		"  < (messages.created_ns, messages.event_id)",
	[ST_AUD_CLEAR] = "DELETE FROM audience WHERE message_id = ?1",
	[ST_AUD_ADD] =
		"INSERT OR IGNORE INTO audience(message_id, kind, value)"
		" VALUES(?1, ?2, ?3)",
	[ST_MSG_REFRESH] =
		"UPDATE messages SET"
		" cur_content = (SELECT content FROM edits e"
		"   WHERE e.message_id = messages.message_id"
		"   AND (e.editor IS NULL OR e.editor = messages.agent_id)"
		"   ORDER BY e.ts DESC, e.event_id DESC LIMIT 1),"
		" cur_format = (SELECT format FROM edits e"
		"   WHERE e.message_id = messages.message_id"
		"   AND (e.editor IS NULL OR e.editor = messages.agent_id)"
		"   ORDER BY e.ts DESC, e.event_id DESC LIMIT 1),"
		" deleted = EXISTS (SELECT 1 FROM deletes d"
		"   WHERE d.message_id = messages.message_id"
		"   AND (d.actor IS NULL OR d.actor = messages.agent_id))"
		" WHERE message_id = ?1",
	[ST_EDIT_ADD] =
		"INSERT OR IGNORE INTO edits(event_id, message_id, ts, editor,"
		" format, content) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_DELETE_ADD] =
		"INSERT OR IGNORE INTO deletes(event_id, message_id, ts, actor,"
		" reason) VALUES(?1, ?2, ?3, ?4, ?5)",
	[ST_RECEIPT_ADD] =
		"INSERT OR IGNORE INTO receipts(message_id, agent_id,"
		" receipt_type) VALUES(?1, ?2, ?3)",
	/* last registration by (instant, event_id) wins */
	[ST_AGENT_UPSERT] =
		"INSERT INTO agents(agent_id, name, kind, role, module, worktree,"
		" display, hostname, reg_ns, reg_eid)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
		" ON CONFLICT(agent_id) DO UPDATE SET name = excluded.name,"
		" kind = excluded.kind, role = excluded.role,"
		" module = excluded.module, worktree = excluded.worktree,"
		" display = excluded.display, hostname = excluded.hostname,"
		" reg_ns = excluded.reg_ns, reg_eid = excluded.reg_eid"
		" WHERE (excluded.reg_ns, excluded.reg_eid)"
		"  > (agents.reg_ns, agents.reg_eid)",
	[ST_SEEN_AGENT] =
		"INSERT INTO agent_seen(agent_id, last_ns) VALUES(?1, ?2)"
		" ON CONFLICT(agent_id) DO UPDATE SET"
		" last_ns = MAX(last_ns, excluded.last_ns)",
	[ST_INTENT_UPSERT] =
		"INSERT INTO agent_intent(agent_id, intent, ns, eid)"
		" VALUES(?1, ?2, ?3, ?4)"
		" ON CONFLICT(agent_id) DO UPDATE SET intent = excluded.intent,"
		" ns = excluded.ns, eid = excluded.eid"
		" WHERE (excluded.ns, excluded.eid)"
		"  > (agent_intent.ns, agent_intent.eid)",
	[ST_SESSION_START] =
		"INSERT INTO sessions(session_id, agent_id, started_ns)"
		" VALUES(?1, ?2, ?3)"
		" ON CONFLICT(session_id) DO UPDATE SET"
		" agent_id = excluded.agent_id, started_ns = excluded.started_ns",
	[ST_SESSION_END] =
		"INSERT INTO sessions(session_id, ended_ns, end_reason)"
		" VALUES(?1, ?2, ?3)"
		" ON CONFLICT(session_id) DO UPDATE SET"
		" ended_ns = MAX(COALESCE(ended_ns, 0), excluded.ended_ns),"
		" end_reason = COALESCE(end_reason, excluded.end_reason)",
	[ST_GROUP_CREATE] =
		"INSERT INTO groups(group_id, name, description, created_by,"
		" created_ns, eid) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT(group_id) DO UPDATE SET name = excluded.name,"
		" description = excluded.description,"
		" created_by = excluded.created_by,"
		" created_ns = excluded.created_ns, eid = excluded.eid"
		" WHERE (excluded.created_ns, excluded.eid)"
		"  < (groups.created_ns, groups.eid)",
	[ST_GROUP_DELETE] =
		"INSERT OR IGNORE INTO group_deletes(group_id) VALUES(?1)",
	[ST_MEMBER_UPSERT] =
		"INSERT INTO group_members(group_id, member_type, member_value,"
		" present, ns, eid) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT(group_id, member_type, member_value) DO UPDATE SET"
		" present = excluded.present, ns = excluded.ns,"
		" eid = excluded.eid"
		" WHERE (excluded.ns, excluded.eid)"
		"  > (group_members.ns, group_members.eid)",
	[ST_MSG_AUDIENCE] =
		"SELECT kind, value FROM audience WHERE message_id = ?1"
		" ORDER BY kind, value",
	[ST_MSG_GET] =
		"SELECT " MESSAGE_COLUMNS " FROM messages m"
		" WHERE m.message_id = :id",
	[ST_MSG_PREFIX] =
		"SELECT message_id FROM messages WHERE message_id >= ?1"
		" AND message_id < ?1 || '~' ORDER BY message_id LIMIT 2",
	[ST_INBOX] =
		"SELECT " MESSAGE_COLUMNS " FROM messages m WHERE"
		" (:all OR (m.agent_id != :me AND EXISTS ("
		"  SELECT 1 FROM audience a WHERE a.message_id = m.message_id"
		"   AND ((a.kind IN ('to', 'mention') AND a.value IN (:me, :role))"
		"   OR a.kind = 'broadcast'"
		"   OR (a.kind = 'group' AND a.value IN ("
		"    SELECT g.name FROM groups g JOIN group_members gm"
		"     ON gm.group_id = g.group_id"
		"    WHERE gm.present AND g.group_id NOT IN"
		"     (SELECT group_id FROM group_deletes)"
		"    AND ((gm.member_type = 'agent' AND gm.member_value = :me)"
		"     OR (gm.member_type = 'role' AND gm.member_value = :role)"
		"     OR gm.member_value = '*')))))))"
		" AND (:deleted OR NOT m.deleted)"
		" AND (:from IS NULL OR m.agent_id = :from)"
		" AND (NOT :unread OR NOT (m.agent_id = :me OR EXISTS ("
		"  SELECT 1 FROM receipts r WHERE r.message_id = m.message_id"
		"  AND r.agent_id = :me AND r.receipt_type = 'read')))"
		" ORDER BY m.created_ns DESC, m.message_id DESC LIMIT :limit",
	[ST_AGENTS] =
		"SELECT a.agent_id, a.name, a.kind, a.role, a.module,"
		" a.worktree, a.hostname, i.intent, a.reg_ns, s.last_ns,"
		" (SELECT session_id FROM sessions se"
		"   WHERE se.agent_id = a.agent_id AND se.ended_ns IS NULL"
		"   ORDER BY se.started_ns DESC LIMIT 1)"
		" FROM agents a"
		" LEFT JOIN agent_intent i ON i.agent_id = a.agent_id"
		" LEFT JOIN agent_seen s ON s.agent_id = a.agent_id"
		" WHERE a.reg_ns IS NOT NULL ORDER BY a.name, a.agent_id",
	[ST_IS_AGENT] =
		"SELECT 1 FROM agents WHERE agent_id = ?1 OR name = ?1 LIMIT 1",
	[ST_IS_GROUP] =
		"SELECT 1 FROM groups WHERE name = ?1 AND group_id NOT IN"
		" (SELECT group_id FROM group_deletes) LIMIT 1",
	[ST_IS_ROLE] = "SELECT 1 FROM agents WHERE role = ?1 LIMIT 1",
	[ST_COUNTS] =
		"SELECT (SELECT COUNT(*) FROM events_seen),"
		" (SELECT COUNT(*) FROM messages),"
		" (SELECT COUNT(*) FROM agents WHERE reg_ns IS NOT NULL),"
		" (SELECT COUNT(*) FROM skipped_lines),"
		" (SELECT COUNT(*) FROM conflicts)",
};

struct projection {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST_MAX];
};

static int db_error(struct projection *p, const char *what)
{
	return error("%s: %s (%s)", what, sqlite3_errmsg(p->db), p->path);
}

static sqlite3_stmt *stmt(struct projection *p, enum stmt_id id)
{
	if (!p->st[id] &&
	    sqlite3_prepare_v3(p->db, stmt_sql[id], -1,
			       SQLITE_PREPARE_PERSISTENT, &p->st[id], NULL)) {
		db_error(p, "cannot prepare statement");
		BUG("statement %d does not prepare", id);
	}
	sqlite3_reset(p->st[id]);
	sqlite3_clear_bindings(p->st[id]);
	return p->st[id];
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static void bind_named_text(sqlite3_stmt *s, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(s, name);

	if (i)
		bind_text(s, i, v);
}

static void bind_named_int(sqlite3_stmt *s, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(s, name);

	if (i)
		sqlite3_bind_int64(s, i, v);
}

/* step a statement that returns no rows; 0 or -1 */
static int run(struct projection *p, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(p, what);
	return 0;
}

static char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? xstrdup((const char *)t) : NULL;
}

static int exec(struct projection *p, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(p->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		error("database error: %s (%s)", msg ? msg : "?", p->path);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static char *db_path(const char *var_dir)
{
	return path_join(var_dir, "messages.db");
}

int projection_remove(const char *var_dir)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char *base = db_path(var_dir);
	size_t i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(suffix); i++) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s%s", base, suffix[i]);
		if (unlink(sb.buf) < 0 && errno != ENOENT)
			ret = error_errno("cannot remove '%s'", sb.buf);
		strbuf_release(&sb);
	}
	free(base);
	return ret;
}

static int open_db(struct projection *p)
{
	sqlite3_stmt *s = NULL;
	int version = -1, rc;

	rc = sqlite3_open_v2(p->path, &p->db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(p->db, 30000);

	if (sqlite3_prepare_v2(p->db, "PRAGMA user_version", -1, &s, NULL) ||
	    sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return -1;	/* not a database, or corrupt */
	}
	version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version == SCHEMA_VERSION)
		return exec(p, "PRAGMA synchronous = NORMAL;"
			       "PRAGMA foreign_keys = OFF;");
	if (version != 0)
		return -1;	/* another schema: rebuild */
	if (exec(p, "PRAGMA journal_mode = WAL;"
		    "PRAGMA synchronous = NORMAL;"
		    "BEGIN IMMEDIATE;") < 0)
		return -1;
	/* another process may have created it while we waited */
	if (sqlite3_prepare_v2(p->db, "PRAGMA user_version", -1, &s, NULL) ||
	    sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		exec(p, "ROLLBACK");
		return -1;
	}
	version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version == SCHEMA_VERSION)
		return exec(p, "COMMIT");
	if (exec(p, schema_sql) < 0 ||
	    exec(p, "PRAGMA user_version = 1; COMMIT;") < 0) {
		exec(p, "ROLLBACK");
		return -1;
	}
	return 0;
}

static void close_db(struct projection *p)
{
	int i;

	for (i = 0; i < ST_MAX; i++) {
		sqlite3_finalize(p->st[i]);
		p->st[i] = NULL;
	}
	sqlite3_close(p->db);
	p->db = NULL;
}

int projection_open(struct projection **out, const char *var_dir)
{
	struct projection *p = xcalloc(1, sizeof(*p));

	p->path = db_path(var_dir);
	if (open_db(p) < 0) {
		/* derived data: a broken or foreign database is rebuilt */
		close_db(p);
		if (projection_remove(var_dir) < 0 || open_db(p) < 0) {
			error("cannot open database '%s': %s", p->path,
			      p->db ? sqlite3_errmsg(p->db) : "out of memory");
			projection_free(p);
			return -1;
		}
	}
	*out = p;
	return 0;
}

void projection_free(struct projection *p)
{
	if (!p)
		return;
	close_db(p);
	free(p->path);
	free(p);
}

int projection_begin(struct projection *p)
{
	return exec(p, "BEGIN IMMEDIATE");
}

int projection_commit(struct projection *p)
{
	return exec(p, "COMMIT");
}

void projection_rollback(struct projection *p)
{
	if (!sqlite3_get_autocommit(p->db))
		exec(p, "ROLLBACK");
}

/* --- applying events --- */

static int add_audience(struct projection *p, const char *msg,
			const char *kind, const char *value)
{
	sqlite3_stmt *s = stmt(p, ST_AUD_ADD);

	bind_text(s, 1, msg);
	bind_text(s, 2, kind);
	bind_text(s, 3, value);
	return run(p, s, "cannot store audience");
}

static int refresh_message(struct projection *p, const char *msg)
{
	sqlite3_stmt *s = stmt(p, ST_MSG_REFRESH);

	bind_text(s, 1, msg);
	return run(p, s, "cannot refresh message");
}

static int seen_agent(struct projection *p, const char *agent, int64_t ns)
{
	sqlite3_stmt *s;

	if (!agent)
		return 0;
	s = stmt(p, ST_SEEN_AGENT);
	bind_text(s, 1, agent);
	sqlite3_bind_int64(s, 2, ns);
	return run(p, s, "cannot store last seen");
}

static int apply_create(struct projection *p, const struct event *ev)
{
	const char *reply_to = NULL;
	sqlite3_stmt *s;
	size_t i, added = 0;

	for (i = 0; i < ev->nr_refs; i++)
		if (!strcmp(ev->refs[i].type, "reply_to") && !reply_to)
			reply_to = ev->refs[i].value;
	s = stmt(p, ST_MSG_UPSERT);
	bind_text(s, 1, ev->message_id);
	bind_text(s, 2, ev->event_id);
	bind_text(s, 3, ev->thread_id);
	bind_text(s, 4, ev->agent_id);
	bind_text(s, 5, ev->session_id);
	sqlite3_bind_int64(s, 6, ev->ts_ns);
	bind_text(s, 7, ev->timestamp);
	bind_text(s, 8, ev->body_format);
	bind_text(s, 9, ev->body_content);
	bind_text(s, 10, ev->body_structured);
	bind_text(s, 11, ev->priority);
	bind_text(s, 12, reply_to);
	if (run(p, s, "cannot store message") < 0)
		return -1;
	if (!sqlite3_changes(p->db))
		return 0;	/* an earlier create of this id already won */

	s = stmt(p, ST_AUD_CLEAR);
	bind_text(s, 1, ev->message_id);
	if (run(p, s, "cannot store audience") < 0)
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
	if (seen_agent(p, ev->agent_id, ev->ts_ns) < 0)
		return -1;
	return refresh_message(p, ev->message_id);
}

static int apply_edit_or_delete(struct projection *p, const struct event *ev,
				const char *shard)
{
	const char *who = ev->agent_id ? ev->agent_id : shard;
	sqlite3_stmt *s;

	if (ev->type == EV_MESSAGE_EDIT) {
		s = stmt(p, ST_EDIT_ADD);
		bind_text(s, 5, ev->body_format);
		bind_text(s, 6, ev->body_content);
	} else {
		s = stmt(p, ST_DELETE_ADD);
		bind_text(s, 5, ev->reason);
	}
	bind_text(s, 1, ev->event_id);
	bind_text(s, 2, ev->message_id);
	sqlite3_bind_int64(s, 3, ev->ts_ns);
	bind_text(s, 4, who);
	if (run(p, s, "cannot store edit") < 0)
		return -1;
	return refresh_message(p, ev->message_id);
}

static int apply_receipt(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s = stmt(p, ST_RECEIPT_ADD);

	bind_text(s, 1, ev->message_id);
	bind_text(s, 2, ev->agent_id);
	bind_text(s, 3, ev->receipt_type ? ev->receipt_type : "read");
	if (run(p, s, "cannot store receipt") < 0)
		return -1;
	return seen_agent(p, ev->agent_id, ev->ts_ns);
}

static int apply_register(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s = stmt(p, ST_AGENT_UPSERT);

	bind_text(s, 1, ev->agent_id);
	bind_text(s, 2, ev->name ? ev->name : ev->agent_id);
	bind_text(s, 3, ev->kind ? ev->kind : "agent");
	bind_text(s, 4, ev->role);
	bind_text(s, 5, ev->module);
	bind_text(s, 6, ev->worktree);
	bind_text(s, 7, ev->display);
	bind_text(s, 8, ev->hostname);
	sqlite3_bind_int64(s, 9, ev->ts_ns);
	bind_text(s, 10, ev->event_id);
	if (run(p, s, "cannot store agent") < 0)
		return -1;
	return seen_agent(p, ev->agent_id, ev->ts_ns);
}

static int apply_update(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s;

	if (!ev->intent)
		return seen_agent(p, ev->agent_id, ev->ts_ns);
	s = stmt(p, ST_INTENT_UPSERT);
	bind_text(s, 1, ev->agent_id);
	bind_text(s, 2, ev->intent);
	sqlite3_bind_int64(s, 3, ev->ts_ns);
	bind_text(s, 4, ev->event_id);
	if (run(p, s, "cannot store intent") < 0)
		return -1;
	return seen_agent(p, ev->agent_id, ev->ts_ns);
}

static int apply_session(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s;

	if (ev->type == EV_AGENT_SESSION_START) {
		s = stmt(p, ST_SESSION_START);
		bind_text(s, 1, ev->session_id);
		bind_text(s, 2, ev->agent_id);
		sqlite3_bind_int64(s, 3, ev->ts_ns);
	} else {
		s = stmt(p, ST_SESSION_END);
		bind_text(s, 1, ev->session_id);
		sqlite3_bind_int64(s, 2, ev->ts_ns);
		bind_text(s, 3, ev->reason);
	}
	if (run(p, s, "cannot store session") < 0)
		return -1;
	return seen_agent(p, ev->agent_id, ev->ts_ns);
}

static int apply_group(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s;

	switch (ev->type) {
	case EV_GROUP_CREATE:
		s = stmt(p, ST_GROUP_CREATE);
		bind_text(s, 1, ev->group_id);
		bind_text(s, 2, ev->name);
		bind_text(s, 3, ev->description);
		bind_text(s, 4, ev->actor);
		sqlite3_bind_int64(s, 5, ev->ts_ns);
		bind_text(s, 6, ev->event_id);
		break;
	case EV_GROUP_DELETE:
		s = stmt(p, ST_GROUP_DELETE);
		bind_text(s, 1, ev->group_id);
		break;
	case EV_GROUP_MEMBER_ADD:
	case EV_GROUP_MEMBER_REMOVE:
		s = stmt(p, ST_MEMBER_UPSERT);
		bind_text(s, 1, ev->group_id);
		bind_text(s, 2, ev->member_type);
		bind_text(s, 3, ev->member_value);
		sqlite3_bind_int(s, 4, ev->type == EV_GROUP_MEMBER_ADD);
		sqlite3_bind_int64(s, 5, ev->ts_ns);
		bind_text(s, 6, ev->event_id);
		break;
	default:
		/*
		 * NEEDSWORK: group.update (renames, descriptions) is kept in
		 * the log but not projected yet.
		 */
		return 0;
	}
	return run(p, s, "cannot store group");
}

int projection_apply(struct projection *p, const struct event *ev,
		     const char *shard, uint64_t line_hash)
{
	sqlite3_stmt *s = stmt(p, ST_SEEN_INSERT);
	int ret;

	bind_text(s, 1, ev->event_id);
	sqlite3_bind_int64(s, 2, (int64_t)line_hash);
	sqlite3_bind_int64(s, 3, ev->ts_ns);
	if (run(p, s, "cannot record event") < 0)
		return -1;
	if (!sqlite3_changes(p->db)) {
		int64_t known = 0;

		s = stmt(p, ST_SEEN_HASH);
		bind_text(s, 1, ev->event_id);
		if (sqlite3_step(s) == SQLITE_ROW)
			known = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (known == (int64_t)line_hash)
			return 0;
		s = stmt(p, ST_CONFLICT_ADD);
		bind_text(s, 1, ev->event_id);
		sqlite3_bind_int64(s, 2, (int64_t)line_hash);
		if (run(p, s, "cannot record conflict") < 0)
			return -1;
		return THRUM_ECONFLICT;
	}

	switch (ev->type) {
	case EV_MESSAGE_CREATE:
		ret = apply_create(p, ev);
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

/* --- catching up with the log --- */

struct file_state {
	int known;
	int64_t size;
	unsigned char tail[TAIL_BYTES];
	int tail_len;
};

static int get_file_state(struct projection *p, const char *rel,
			  struct file_state *fs)
{
	sqlite3_stmt *s = stmt(p, ST_FILE_GET);
	int rc;

	memset(fs, 0, sizeof(*fs));
	bind_text(s, 1, rel);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(s, 1);
		int n = sqlite3_column_bytes(s, 1);

		fs->known = 1;
		fs->size = sqlite3_column_int64(s, 0);
		if (blob && n > 0 && n <= TAIL_BYTES) {
			memcpy(fs->tail, blob, n);
			fs->tail_len = n;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(p, "cannot read file state");
	return 0;
}

/* the last bytes before end, as a fingerprint of what was consumed */
static int read_tail(int fd, int64_t end, unsigned char *buf, int *len)
{
	int64_t start = end > TAIL_BYTES ? end - TAIL_BYTES : 0;
	ssize_t n = pread(fd, buf, end - start, start);

	if (n != end - start)
		return -1;
	*len = (int)n;
	return 0;
}

/*
 * Where to resume reading fd: the recorded size when the file only grew
 * since (same bytes before it), 0 when it was rewritten; -1 when there is
 * nothing new.
 */
static int64_t resume_offset(int fd, int64_t size, const struct file_state *fs)
{
	unsigned char tail[TAIL_BYTES];
	int len;

	if (!fs->known || size < fs->size)
		return 0;
	if (read_tail(fd, fs->size, tail, &len) < 0 || len != fs->tail_len ||
	    memcmp(tail, fs->tail, len))
		return 0;
	return size == fs->size ? -1 : fs->size;
}

static const char *find_event_id(const char *line, size_t len, size_t *idlen)
{
	static const char key[] = "\"event_id\":\"";
	const char *p = memmem(line, len, key, sizeof(key) - 1), *end;

	if (!p)
		return NULL;
	p += sizeof(key) - 1;
	end = memchr(p, '"', line + len - p);
	if (!end || end - p > 64)
		return NULL;
	*idlen = end - p;
	return p;
}

/* is this exact line already projected?  (a hint, checked by hash) */
static int already_seen(struct projection *p, const char *line, size_t len,
			uint64_t hash)
{
	sqlite3_stmt *s;
	const char *id;
	size_t idlen;
	int seen = 0;

	id = find_event_id(line, len, &idlen);
	if (!id)
		return 0;
	s = stmt(p, ST_SEEN_HASH);
	sqlite3_bind_text(s, 1, id, (int)idlen, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		seen = sqlite3_column_int64(s, 0) == (int64_t)hash;
	sqlite3_reset(s);
	return seen;
}

static int skip_line(struct projection *p, const char *rel, uint64_t hash,
		     const char *why, struct catch_up_stats *stats)
{
	sqlite3_stmt *s = stmt(p, ST_SKIPPED_ADD);

	bind_text(s, 1, rel);
	sqlite3_bind_int64(s, 2, (int64_t)hash);
	bind_text(s, 3, why);
	if (run(p, s, "cannot record skipped line") < 0)
		return -1;
	if (sqlite3_changes(p->db))
		stats->skipped++;
	return 0;
}

static int project_lines(struct projection *p, const char *rel,
			 const char *shard, const char *buf, size_t len,
			 struct catch_up_stats *stats)
{
	const char *line = buf, *end = buf + len;

	while (line < end) {
		const char *nl = memchr(line, '\n', end - line);
		size_t n = nl - line;
		struct event ev = EVENT_INIT;
		const char *why = NULL;
		uint64_t hash;
		int ret;

		if (!n || (n == 1 && line[0] == '\r')) {
			line = nl + 1;
			continue;
		}
		hash = event_line_hash(line, n);
		if (already_seen(p, line, n, hash)) {
			line = nl + 1;
			continue;
		}
		if (event_parse(&ev, line, n, 0, &why) < 0) {
			if (skip_line(p, rel, hash, why, stats) < 0)
				return -1;
			line = nl + 1;
			continue;
		}
		ret = projection_apply(p, &ev, shard, hash);
		event_release(&ev);
		if (ret < 0 && ret != THRUM_ECONFLICT)
			return -1;
		if (ret == THRUM_ECONFLICT)
			stats->conflicts++;
		else if (ret > 0)
			stats->applied++;
		line = nl + 1;
	}
	return 0;
}

static int catch_up_file(struct projection *p, struct store *s,
			 const char *rel, struct catch_up_stats *stats)
{
	char *path = store_abs_path(s, rel);
	char *shard = store_shard_of(rel);
	struct strbuf buf = STRBUF_INIT;
	struct file_state fs;
	unsigned char tail[TAIL_BYTES];
	struct stat st;
	int64_t from, used;
	sqlite3_stmt *q;
	int fd = -1, ret = -1, tail_len;
	ssize_t n;

	fd = xopen(path, O_RDONLY | O_NOFOLLOW, 0);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = 0;	/* vanished or not ours: nothing to read */
		goto out;
	}
	if (get_file_state(p, rel, &fs) < 0)
		goto out;
	from = resume_offset(fd, st.st_size, &fs);
	if (from < 0) {
		ret = 0;
		goto out;
	}
	if (!from)
		stats->files_rescanned++;
	if (strbuf_grow(&buf, st.st_size - from) < 0)
		goto out;
	n = pread(fd, buf.buf, st.st_size - from, from);
	if (n < 0) {
		error_errno("cannot read '%s'", path);
		goto out;
	}
	strbuf_setlen(&buf, n);
	/* only whole lines: a line still being written is read next time */
	while (buf.len && buf.buf[buf.len - 1] != '\n')
		buf.len--;
	buf.buf[buf.len] = '\0';
	if (project_lines(p, rel, shard, buf.buf, buf.len, stats) < 0)
		goto out;
	used = from + buf.len;
	if (read_tail(fd, used, tail, &tail_len) < 0) {
		error_errno("cannot read '%s'", path);
		goto out;
	}
	q = stmt(p, ST_FILE_PUT);
	bind_text(q, 1, rel);
	sqlite3_bind_int64(q, 2, used);
	sqlite3_bind_blob(q, 3, tail, tail_len, SQLITE_STATIC);
	ret = run(p, q, "cannot record file state");
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&buf);
	free(shard);
	free(path);
	return ret;
}

/* cheap look: does any file differ from what was consumed? */
static int needs_catch_up(struct projection *p, struct store *s,
			  const struct strvec *files)
{
	size_t i, known = 0;
	sqlite3_stmt *q;
	int changed = 0;

	for (i = 0; i < files->nr && !changed; i++) {
		char *path = store_abs_path(s, files->v[i]);
		struct file_state fs;
		struct stat st;

		if (get_file_state(p, files->v[i], &fs) < 0) {
			free(path);
			return -1;
		}
		if (!fs.known || lstat(path, &st) < 0 ||
		    st.st_size != fs.size) {
			changed = 1;
		} else {
			int fd = xopen(path, O_RDONLY | O_NOFOLLOW, 0);

			changed = fd < 0 || resume_offset(fd, st.st_size,
							  &fs) >= 0;
			if (fd >= 0)
				close(fd);
		}
		free(path);
	}
	if (changed)
		return 1;
	q = stmt(p, ST_FILE_ALL);
	while (sqlite3_step(q) == SQLITE_ROW)
		known++;
	sqlite3_reset(q);
	return known != files->nr;
}

static int forget_missing_files(struct projection *p,
				const struct strvec *files)
{
	struct strvec gone = STRVEC_INIT;
	sqlite3_stmt *q = stmt(p, ST_FILE_ALL);
	size_t i;
	int ret = 0;

	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(q, 0);
		int present = 0;

		for (i = 0; i < files->nr && !present; i++)
			present = !strcmp(files->v[i], path);
		if (!present)
			strvec_push(&gone, path);
	}
	sqlite3_reset(q);
	for (i = 0; i < gone.nr && !ret; i++) {
		q = stmt(p, ST_FILE_DEL);
		bind_text(q, 1, gone.v[i]);
		ret = run(p, q, "cannot forget file");
	}
	strvec_clear(&gone);
	return ret;
}

int projection_catch_up(struct projection *p, struct store *s,
			struct catch_up_stats *stats)
{
	struct catch_up_stats local = { 0 };
	struct strvec files = STRVEC_INIT;
	size_t i;
	int ret = -1;

	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if (store_lock(s, LOCK_SH) < 0)
		return -1;
	store_list_files(s, &files);
	ret = needs_catch_up(p, s, &files);
	if (ret <= 0)
		goto out;
	ret = -1;
	if (projection_begin(p) < 0)
		goto out;
	for (i = 0; i < files.nr; i++)
		if (catch_up_file(p, s, files.v[i], stats) < 0)
			goto fail;
	if (forget_missing_files(p, &files) < 0 || projection_commit(p) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	projection_rollback(p);
out:
	store_unlock(s);
	strvec_clear(&files);
	return ret;
}

/* --- queries --- */

static void message_release(struct message *m)
{
	free(m->message_id);
	free(m->thread_id);
	free(m->agent_id);
	free(m->session_id);
	free(m->reply_to);
	free(m->created_at);
	free(m->format);
	free(m->content);
	free(m->priority);
	if (m->audience) {
		strvec_clear(m->audience);
		free(m->audience);
	}
}

void message_list_release(struct message_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		message_release(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->nr = l->alloc = 0;
}

static int load_audience(struct projection *p, struct message *m)
{
	sqlite3_stmt *s = stmt(p, ST_MSG_AUDIENCE);
	int rc;

	m->audience = xcalloc(1, sizeof(*m->audience));
	strvec_init(m->audience);
	bind_text(s, 1, m->message_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s, 0);
		const char *value = (const char *)sqlite3_column_text(s, 1);

		strvec_pushf(m->audience, "%s:%s", kind, value);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : db_error(p, "cannot read audience");
}

static int read_messages(struct projection *p, sqlite3_stmt *s,
			 struct message_list *out)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct message *m;

		ALLOC_GROW(out->items, out->nr + 1, out->alloc);
		m = &out->items[out->nr++];
		memset(m, 0, sizeof(*m));
		m->message_id = col_text(s, 0);
		m->thread_id = col_text(s, 1);
		m->agent_id = col_text(s, 2);
		m->session_id = col_text(s, 3);
		m->reply_to = col_text(s, 4);
		m->created_at = col_text(s, 5);
		m->created_ns = sqlite3_column_int64(s, 6);
		m->format = col_text(s, 7);
		m->content = col_text(s, 8);
		m->priority = col_text(s, 9);
		m->edited = sqlite3_column_int(s, 10);
		m->deleted = sqlite3_column_int(s, 11);
		m->is_read = sqlite3_column_int(s, 12);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_error(p, "cannot read messages");
	return 0;
}

static int load_all_audiences(struct projection *p, struct message_list *l,
			      size_t from)
{
	size_t i;

	for (i = from; i < l->nr; i++)
		if (load_audience(p, &l->items[i]) < 0)
			return -1;
	return 0;
}

int projection_inbox(struct projection *p, const struct inbox_query *q,
		     struct message_list *out)
{
	sqlite3_stmt *s = stmt(p, ST_INBOX);
	size_t start = out->nr;

	bind_named_text(s, ":me", q->me ? q->me : "");
	bind_named_text(s, ":role", q->role);
	bind_named_text(s, ":from", q->from);
	bind_named_int(s, ":all", q->all);
	bind_named_int(s, ":deleted", q->include_deleted);
	bind_named_int(s, ":unread", q->unread_only);
	bind_named_int(s, ":limit", q->limit > 0 ? q->limit : -1);
	if (read_messages(p, s, out) < 0)
		return -1;
	return load_all_audiences(p, out, start);
}

int projection_message(struct projection *p, const char *id, const char *me,
		       struct message_list *out)
{
	sqlite3_stmt *s = stmt(p, ST_MSG_PREFIX);
	char *full = NULL;
	size_t start = out->nr;
	int rc, n = 0;

	bind_text(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 0);

		if (!strcmp(m, id) || !n) {
			free(full);
			full = xstrdup(m);
		}
		if (!strcmp(m, id)) {
			n = 1;
			break;
		}
		n++;
	}
	sqlite3_reset(s);
	if (!n) {
		free(full);
		return THRUM_ENOTFOUND;
	}
	if (n > 1) {
		free(full);
		return THRUM_EINVALID;
	}
	s = stmt(p, ST_MSG_GET);
	bind_named_text(s, ":id", full);
	bind_named_text(s, ":me", me ? me : "");
	rc = read_messages(p, s, out);
	free(full);
	if (rc < 0)
		return -1;
	if (out->nr == start)
		return THRUM_ENOTFOUND;
	return load_all_audiences(p, out, start);
}

void agent_list_release(struct agent_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		struct agent_info *a = &l->items[i];

		free(a->agent_id);
		free(a->name);
		free(a->kind);
		free(a->role);
		free(a->module);
		free(a->worktree);
		free(a->hostname);
		free(a->intent);
		free(a->registered_at);
		free(a->last_seen_at);
		free(a->session_id);
	}
	free(l->items);
	l->items = NULL;
	l->nr = l->alloc = 0;
}

static char *ns_text(sqlite3_stmt *s, int col)
{
	char buf[64];

	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return NULL;
	snprintf(buf, sizeof(buf), "%" PRId64,
		 (int64_t)sqlite3_column_int64(s, col));
	return xstrdup(buf);
}

int projection_agents(struct projection *p, struct agent_list *out)
{
	sqlite3_stmt *s = stmt(p, ST_AGENTS);
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct agent_info *a;

		ALLOC_GROW(out->items, out->nr + 1, out->alloc);
		a = &out->items[out->nr++];
		memset(a, 0, sizeof(*a));
		a->agent_id = col_text(s, 0);
		a->name = col_text(s, 1);
		a->kind = col_text(s, 2);
		a->role = col_text(s, 3);
		a->module = col_text(s, 4);
		a->worktree = col_text(s, 5);
		a->hostname = col_text(s, 6);
		a->intent = col_text(s, 7);
		a->registered_at = ns_text(s, 8);
		a->last_seen_at = ns_text(s, 9);
		a->session_id = col_text(s, 10);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : db_error(p, "cannot read agents");
}

static int exists(struct projection *p, enum stmt_id id, const char *name)
{
	sqlite3_stmt *s = stmt(p, id);
	int rc;

	bind_text(s, 1, name);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(p, "cannot look up recipient");
	return rc == SQLITE_ROW;
}

int projection_resolve(struct projection *p, const char *name,
		       enum recipient_kind *out)
{
	static const struct {
		enum stmt_id st;
		enum recipient_kind kind;
	} order[] = {
		{ ST_IS_AGENT, RECIPIENT_AGENT },
		{ ST_IS_GROUP, RECIPIENT_GROUP },
		{ ST_IS_ROLE, RECIPIENT_ROLE },
	};
	size_t i;

	*out = RECIPIENT_NONE;
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		int r = exists(p, order[i].st, name);

		if (r < 0)
			return -1;
		if (r) {
			*out = order[i].kind;
			break;
		}
	}
	return 0;
}

int projection_counts(struct projection *p, struct projection_counts *out)
{
	sqlite3_stmt *s = stmt(p, ST_COUNTS);
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		out->events = sqlite3_column_int64(s, 0);
		out->messages = sqlite3_column_int64(s, 1);
		out->agents = sqlite3_column_int64(s, 2);
		out->skipped = sqlite3_column_int64(s, 3);
		out->conflicts = sqlite3_column_int64(s, 4);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : db_error(p, "cannot count");
}

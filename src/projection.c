/*
 * projection.c: the SQLite projection's database: the schema, opening
 * (rebuilding what is corrupt, foreign or of another version), the
 * prepared statements and the helpers every projection*.c file binds and
 * steps them with, transactions.  The other files: projection-apply.c
 * (one event into the tables), projection-log.c (catching up with the
 * log files), projection-rebuild.c (a new database from the whole log;
 * writing back lost lines), projection-query.c (what commands read),
 * projection-sign.c (which events count), projection-clean.c (cleanups
 * and purges), projection-group.c (groups).
 *
 * Invariants:
 *  - derived only: every row comes from an event in the log; the database
 *    can be deleted at any time and rebuilt by projection_update();
 *  - order-independent: each event is stored as a fact (edits, deletes,
 *    receipts, memberships each in their own table, keyed by event or by
 *    what they describe) and the visible state is derived from the facts
 *    with "last writer by (instant, event_id)", "delete wins" and "first
 *    create in its author's shard wins" (projection_create_cmp()), so any
 *    order of arrival gives the same answers;
 *  - an edit or delete counts only when made by the message's author
 *    (its agent_id, or the shard it was written to); one that names no
 *    author (no agent_id, in events.jsonl) counts for nobody;
 *  - one transaction per batch; statements are prepared once and owned by
 *    struct projection; values are always bound, never formatted into SQL.
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "date.h"
#include "repo.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

#define SCHEMA_VERSION 9
#define STR(x) #x
#define XSTR(x) STR(x)

/*
 * Indexes that only queries use, never the projection itself: a rebuild
 * creates them once at the end, which is faster than keeping them up to
 * date row by row.
 */
static const char query_index_sql[] =
	"CREATE INDEX IF NOT EXISTS messages_order"
	"  ON messages(created_ns DESC, message_id DESC);"
	"CREATE INDEX IF NOT EXISTS messages_author ON messages(agent_id);"
	"CREATE INDEX IF NOT EXISTS audience_by_value"
	"  ON audience(kind, value, message_id);"
	"CREATE INDEX IF NOT EXISTS agents_by_role ON agents(role);"
	"CREATE INDEX IF NOT EXISTS sessions_by_agent ON sessions(agent_id);"
	/* reading: sent, threads, scopes (projection-read.c) */
	"CREATE INDEX IF NOT EXISTS messages_by_parent ON messages(reply_to);"
	"CREATE INDEX IF NOT EXISTS messages_by_thread ON messages(thread_id);"
	"CREATE INDEX IF NOT EXISTS message_tags_by_value"
	"  ON message_tags(kind, type, value, message_id);";

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS events_seen("
	"  event_id TEXT PRIMARY KEY, hash INTEGER NOT NULL,"
	"  ts INTEGER NOT NULL) WITHOUT ROWID;"
	/* ino and mtime: the file as it was when size bytes were read */
	"CREATE TABLE IF NOT EXISTS log_files("
	"  path TEXT PRIMARY KEY, size INTEGER NOT NULL, tail BLOB,"
	"  ino INTEGER, mtime INTEGER);"
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
	"  deleted INTEGER NOT NULL DEFAULT 0, own INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS audience("
	"  message_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,"
	"  PRIMARY KEY(message_id, kind, value)) WITHOUT ROWID;"
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
	"CREATE TABLE IF NOT EXISTS agent_seen("
	"  agent_id TEXT PRIMARY KEY, last_ns INTEGER NOT NULL) WITHOUT ROWID;"
	/* every intent, the newest that counts is the agent's */
	"CREATE TABLE IF NOT EXISTS agent_intent("
	"  agent_id TEXT NOT NULL, intent TEXT, ns INTEGER NOT NULL,"
	"  eid TEXT NOT NULL, PRIMARY KEY(agent_id, ns, eid)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS sessions("
	"  session_id TEXT PRIMARY KEY, agent_id TEXT, started_ns INTEGER,"
	"  ended_ns INTEGER, end_reason TEXT) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS groups("
	"  group_id TEXT PRIMARY KEY, name TEXT, description TEXT,"
	"  created_by TEXT, created_ns INTEGER, eid TEXT) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS groups_by_name ON groups(name);"
	/*
	 * every delete and every membership change, by event: the deletes
	 * and the newest change of each member that count are read
	 * (PROJ_GROUP_DELETED, PROJ_MEMBER_NOW)
	 */
	"CREATE TABLE IF NOT EXISTS group_deletes("
	"  group_id TEXT NOT NULL, eid TEXT NOT NULL,"
	"  PRIMARY KEY(group_id, eid)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS group_members("
	"  group_id TEXT NOT NULL, member_type TEXT NOT NULL,"
	"  member_value TEXT NOT NULL, present INTEGER NOT NULL,"
	"  ns INTEGER NOT NULL, eid TEXT NOT NULL,"
	"  PRIMARY KEY(group_id, member_type, member_value, eid))"
	"  WITHOUT ROWID;"
	/* the order instant of each event that came from the far future */
	"CREATE TABLE IF NOT EXISTS clamped("
	"  event_id TEXT PRIMARY KEY, ns INTEGER NOT NULL) WITHOUT ROWID;"
	/* lines appended here and not committed to a-sync yet, exactly */
	"CREATE TABLE IF NOT EXISTS pending("
	"  path TEXT NOT NULL, offset INTEGER NOT NULL, line BLOB NOT NULL,"
	"  PRIMARY KEY(path, offset)) WITHOUT ROWID;"
	/*
	 * reading (projection-read.c): the scopes and refs of each message's
	 * create, kind 'scope' or 'ref', in the order the event lists them
	 */
	"CREATE TABLE IF NOT EXISTS message_tags("
	"  message_id TEXT NOT NULL, kind TEXT NOT NULL, pos INTEGER NOT NULL,"
	"  type TEXT NOT NULL, value TEXT NOT NULL,"
	"  PRIMARY KEY(message_id, kind, pos)) WITHOUT ROWID;"
	/*
	 * work contexts (agent.update, projection-work.c): each context of
	 * each agent's session, by event, and its files; the newest by
	 * (instant, event_id) that counts is shown
	 */
	"CREATE TABLE IF NOT EXISTS work_contexts("
	"  agent_id TEXT NOT NULL, session_id TEXT NOT NULL, branch TEXT,"
	"  worktree_path TEXT, git_updated_at TEXT, intent TEXT,"
	"  ns INTEGER NOT NULL, eid TEXT NOT NULL,"
	"  PRIMARY KEY(agent_id, session_id, eid)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS work_files("
	"  agent_id TEXT NOT NULL, session_id TEXT NOT NULL,"
	"  eid TEXT NOT NULL, uncommitted INTEGER NOT NULL, path TEXT NOT NULL,"
	"  PRIMARY KEY(agent_id, session_id, eid, uncommitted, path))"
	"  WITHOUT ROWID;"
	/*
	 * cleanup (projection-clean.c): agent.cleanup and purge.executed
	 * as facts, what those that count remove (kept aside, so that one
	 * that stops counting gives it back), the creates of a message_id
	 * claimed twice, and every group.create and group.update
	 */
	"CREATE TABLE IF NOT EXISTS agent_cleanups("
	"  agent_id TEXT NOT NULL, ns INTEGER NOT NULL, event_id TEXT NOT NULL,"
	"  reason TEXT, method TEXT,"
	"  PRIMARY KEY(agent_id, ns, event_id)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS purges("
	"  event_id TEXT PRIMARY KEY, cutoff_ns INTEGER NOT NULL,"
	"  cutoff TEXT) WITHOUT ROWID;"
	/* a removed message's row, kept aside whole (PROJ_MSG_COLUMNS) */
	"CREATE TABLE IF NOT EXISTS purged_messages("
	"  message_id TEXT PRIMARY KEY, event_id TEXT NOT NULL,"
	"  thread_id TEXT, agent_id TEXT NOT NULL, session_id TEXT,"
	"  created_ns INTEGER NOT NULL, created_at TEXT NOT NULL,"
	"  format TEXT, content TEXT NOT NULL, structured TEXT,"
	"  priority TEXT, reply_to TEXT,"
	"  cur_format TEXT, cur_content TEXT,"
	"  deleted INTEGER NOT NULL DEFAULT 0, own INTEGER NOT NULL)"
	"  WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS purged_sessions("
	"  session_id TEXT PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS contested_creates("
	"  event_id TEXT PRIMARY KEY, message_id TEXT NOT NULL,"
	"  agent_id TEXT, created_ns INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS contested_by_message"
	"  ON contested_creates(message_id);"
	/* every group.create and every field of every group.update */
	"CREATE TABLE IF NOT EXISTS group_creates("
	"  group_id TEXT NOT NULL, name TEXT, description TEXT,"
	"  created_by TEXT, ns INTEGER NOT NULL, eid TEXT NOT NULL,"
	"  PRIMARY KEY(group_id, eid)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS group_updates("
	"  group_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT,"
	"  ns INTEGER NOT NULL, eid TEXT NOT NULL,"
	"  PRIMARY KEY(group_id, field, eid)) WITHOUT ROWID;"
	/*
	 * search: a full-text index (FTS5) of the current content of every
	 * message that is not deleted, keyed by the messages rowid.  Its
	 * text is not stored twice: it reads it from the view search_body
	 * (external content).  See search_keep_sql and projection-search.c.
	 */
	"CREATE VIEW IF NOT EXISTS search_body AS SELECT rowid AS id,"
	"  COALESCE(cur_content, content) AS body FROM messages"
	"  WHERE NOT deleted;"
	"CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(body,"
	"  content = 'search_body', content_rowid = 'id',"
	"  tokenize = 'unicode61 remove_diacritics 2', detail = full);"
	/* each session start or end, so that what counts can be re-judged */
	"CREATE TABLE IF NOT EXISTS session_events("
	"  event_id TEXT PRIMARY KEY, session_id TEXT NOT NULL,"
	"  agent_id TEXT, ns INTEGER NOT NULL, start INTEGER NOT NULL,"
	"  reason TEXT) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS session_events_by_session"
	"  ON session_events(session_id);"
	"CREATE INDEX IF NOT EXISTS session_events_by_agent"
	"  ON session_events(agent_id);";

/*
 * What keeps the search index true to messages in the same transaction
 * as every change of a row (create, replace, edit, delete, removal): the
 * triggers, each removing exactly the text it indexed, which is the
 * row's before the change.  A rebuild (bulk) adds them only at the end,
 * after filling the index at once from the view: several times faster
 * than row by row.  In a new, empty database the fill costs nothing.
 */
static const char search_keep_sql[] =
	"INSERT INTO search(search) VALUES('rebuild');"
	/*
	 * Each message a trigger indexes ends a statement, and FTS5 writes
	 * a segment at every statement's end; with automerge on, each of
	 * those did merge work in proportion to the levels of the whole
	 * index, so catching up with 1 000 messages cost 6 to 8 times more
	 * in a 100 000-event history than in a 10 000 one (callgrind: 462
	 * to 671 M instructions of fts5IndexMerge, against 74 to 83 M).
	 * Without it, FTS5's crisis merge (16 segments a level) keeps the
	 * segments few, and a query over them costs the same (299 M
	 * instructions against 298 M for the index optimised to one).
	 * NEEDSWORK: a segment per message still makes a crisis merge every
	 * 16, 256, 4 096 messages; recording the changed rows and indexing
	 * them in one statement before the commit would make it one a
	 * catch-up.
	 */
	"INSERT INTO search(search, rank) VALUES('automerge', 0);"
	"CREATE TRIGGER IF NOT EXISTS search_add AFTER INSERT ON messages"
	"  WHEN NOT new.deleted BEGIN"
	"  INSERT INTO search(rowid, body)"
	"  VALUES(new.rowid, COALESCE(new.cur_content, new.content)); END;"
	"CREATE TRIGGER IF NOT EXISTS search_drop AFTER DELETE ON messages"
	"  WHEN NOT old.deleted BEGIN"
	"  INSERT INTO search(search, rowid, body) VALUES('delete',"
	"  old.rowid, COALESCE(old.cur_content, old.content)); END;"
	/* a refresh that changes nothing (most of them) costs nothing */
	"CREATE TRIGGER IF NOT EXISTS search_change AFTER UPDATE ON messages"
	"  WHEN old.deleted IS NOT new.deleted"
	"  OR COALESCE(old.cur_content, old.content)"
	"  IS NOT COALESCE(new.cur_content, new.content) BEGIN"
	"  INSERT INTO search(search, rowid, body) SELECT 'delete',"
	"  old.rowid, COALESCE(old.cur_content, old.content)"
	"  WHERE NOT old.deleted;"
	"  INSERT INTO search(rowid, body)"
	"  SELECT new.rowid, COALESCE(new.cur_content, new.content)"
	"  WHERE NOT new.deleted; END;";

int proj_db_error(struct projection *p, const char *what)
{
	return error("%s: %s (%s)", what, sqlite3_errmsg(p->db), p->path);
}

sqlite3_stmt *proj_stmt(struct projection *p, enum stmt_id id,
			const char *sql)
{
	if (p->sql[id] && p->sql[id] != sql)
		BUG("statement %d prepared from two texts", id);
	if (!p->st[id]) {
		int rc;

		p->preparing = 1;
		p->prep_dir = 0;
		rc = sqlite3_prepare_v3(p->db, sql, -1,
					SQLITE_PREPARE_PERSISTENT, &p->st[id],
					NULL);
		p->preparing = 0;
		if (rc) {
			proj_db_error(p, "cannot prepare statement");
			BUG("statement %d does not prepare", id);
		}
		p->st_dir[id] = p->prep_dir;
	}
	/* taken to be run: its transaction may change the directory */
	if (p->st_dir[id])
		p->dir_changed = 1;
	p->sql[id] = sql;
	sqlite3_reset(p->st[id]);
	sqlite3_clear_bindings(p->st[id]);
	proj_sign_bind_view(p, p->st[id]);
	return p->st[id];
}

/* the index of parameter name of s; a name s lacks is a bug */
static int param(sqlite3_stmt *s, const char *name)
{
	int i = sqlite3_bind_parameter_index(s, name);

	if (!i)
		BUG("no parameter %s in: %s", name, sqlite3_sql(s));
	return i;
}

void proj_bind_text(sqlite3_stmt *s, const char *name, const char *v)
{
	if (v)
		sqlite3_bind_text(s, param(s, name), v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, param(s, name));
}

void proj_bind_textn(sqlite3_stmt *s, const char *name, const char *v,
		     size_t len)
{
	sqlite3_bind_text(s, param(s, name), v, (int)len, SQLITE_STATIC);
}

void proj_bind_int(sqlite3_stmt *s, const char *name, int64_t v)
{
	sqlite3_bind_int64(s, param(s, name), v);
}

void proj_bind_blob(sqlite3_stmt *s, const char *name, const void *v,
		    size_t len)
{
	sqlite3_bind_blob(s, param(s, name), v, (int)len, SQLITE_STATIC);
}

/* step a statement that returns no rows; 0 or -1 */
int proj_run(struct projection *p, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return proj_db_error(p, what);
	return 0;
}

int proj_each_text(struct projection *p, sqlite3_stmt *s, const char *what,
		   proj_text_fn fn)
{
	struct strvec v = STRVEC_INIT;
	size_t i;
	int rc, ret;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		strvec_push(&v, (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	ret = rc == SQLITE_DONE ? 0 : proj_db_error(p, what);
	for (i = 0; !ret && i < v.nr; i++)
		ret = fn(p, v.v[i]);
	strvec_clear(&v);
	return ret;
}

int proj_run_text(struct projection *p, enum stmt_id id, const char *sql,
		  const char *name, const char *v, const char *what)
{
	sqlite3_stmt *s = proj_stmt(p, id, sql);

	proj_bind_text(s, name, v);
	return proj_run(p, s, what);
}

char *proj_col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? xstrdup((const char *)t) : NULL;
}

int proj_exec(struct projection *p, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(p->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		error("database error: %s (%s)", msg ? msg : "?", p->path);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

char *proj_db_path(const char *var_dir)
{
	return path_join(var_dir, "messages.db");
}

int projection_remove(const char *var_dir)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char *base = proj_db_path(var_dir);
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

/*
 * What opening found: OPEN_OK; OPEN_REBUILD for a file that is not our
 * database (corrupt, foreign, another schema version), which is derived
 * data and may be thrown away; OPEN_FAILED for everything else (disk
 * full, read-only, I/O error), reported, where throwing the database away
 * would only make things worse.
 */
enum open_result { OPEN_OK = 0, OPEN_REBUILD = -2, OPEN_FAILED = -1 };

static enum open_result classify(struct projection *p, int rc)
{
	int primary = rc & 0xff;

	char *dir, *slash;
	int writable;

	if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
		return OPEN_REBUILD;
	/* the most common cause, named plainly */
	dir = xstrdup(p->path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	writable = !access(dir, W_OK);
	if (!writable)
		error("cannot open the database '%s': '%s' is not writable (%s)",
		      p->path, dir, strerror(errno));
	free(dir);
	if (!writable)
		return OPEN_FAILED;
	if (p->db && sqlite3_system_errno(p->db))
		error("cannot open the database '%s': %s (%s)", p->path,
		      sqlite3_errmsg(p->db),
		      strerror(sqlite3_system_errno(p->db)));
	else
		error("cannot open the database '%s': %s", p->path,
		      p->db ? sqlite3_errmsg(p->db) : sqlite3_errstr(rc));
	return OPEN_FAILED;
}

static int user_version(struct projection *p, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(p->db, "PRAGMA user_version", -1, &s, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*version = sqlite3_column_int(s, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(s);
	return rc;
}

/* run sql; a failure is classified, not reported twice */
int proj_try_exec(struct projection *p, const char *sql)
{
	return sqlite3_exec(p->db, sql, NULL, NULL, NULL);
}

static enum open_result open_db(struct projection *p)
{
	int version = -1, persist_wal = 1, rc;

	/*
	 * No allocation statistics (nothing reads them): SQLite then takes
	 * no mutex around each malloc, which is 3 % of a rebuild's and
	 * 10 % of a send's instructions.  Only possible before SQLite's
	 * first use; later calls change nothing.
	 */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	p->dir_lock = -1;
	rc = sqlite3_open_v2(p->path, &p->db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return classify(p, rc);
	sqlite3_extended_result_codes(p->db, 1);
	sqlite3_busy_timeout(p->db, 30000);
	proj_dir_watch(p);
	/*
	 * The WAL and its shared memory stay when the last connection
	 * closes (checkpointed and, by journal_size_limit, emptied; not
	 * deleted): otherwise every command creates both files and
	 * unlinks them again, two inodes and eight writes that a send,
	 * which writes nothing here, paid for each lookup.
	 */
	if (!p->bulk)
		sqlite3_file_control(p->db, "main", SQLITE_FCNTL_PERSIST_WAL,
				     &persist_wal);

	if ((rc = user_version(p, &version)) != SQLITE_OK)
		return classify(p, rc);
	if (version == SCHEMA_VERSION) {
		rc = proj_try_exec(p, "PRAGMA synchronous = NORMAL;"
				   "PRAGMA journal_size_limit = 1048576;");
		return rc ? classify(p, rc) : OPEN_OK;
	}
	if (version != 0)
		return OPEN_REBUILD;	/* another schema */
	/*
	 * a rebuild writes a file nobody else opens, fsynced once when it is
	 * complete and only then renamed into place: no journal is needed
	 */
	rc = proj_try_exec(p, p->bulk ? "PRAGMA journal_mode = OFF;"
				   "PRAGMA synchronous = OFF;"
				   "PRAGMA cache_size = -32768;"
				   "BEGIN IMMEDIATE;"
				 : "PRAGMA journal_mode = WAL;"
				   "PRAGMA synchronous = NORMAL;"
				   "PRAGMA journal_size_limit = 1048576;"
				   "BEGIN IMMEDIATE;");
	if (rc)
		return classify(p, rc);
	/* another process may have created it while we waited */
	if ((rc = user_version(p, &version)) != SQLITE_OK)
		goto fail;
	if (version == SCHEMA_VERSION) {
		if ((rc = proj_try_exec(p, "COMMIT")))
			goto fail;
		return OPEN_OK;
	}
	if ((rc = proj_try_exec(p, schema_sql)) ||
	    (rc = proj_try_exec(p, proj_sign_schema_sql)) ||
	    (!p->bulk && (rc = proj_try_exec(p, query_index_sql))) ||
	    (!p->bulk && (rc = proj_try_exec(p, search_keep_sql))) ||
	    (rc = proj_try_exec(p, "PRAGMA user_version = "
			   XSTR(SCHEMA_VERSION) "; COMMIT;")))
		goto fail;
	return OPEN_OK;
fail:
	if (!sqlite3_get_autocommit(p->db))
		proj_try_exec(p, "ROLLBACK");
	return classify(p, rc);
}

void proj_close_db(struct projection *p)
{
	int i;

	for (i = 0; i < ST_MAX; i++) {
		sqlite3_finalize(p->st[i]);
		p->st[i] = NULL;
		p->sql[i] = NULL;
		p->st_dir[i] = 0;
	}
	sqlite3_close(p->db);
	p->db = NULL;
	proj_dir_done(p);
}

/*
 * THRUM_TRACE_SQL=<file> appends every statement this process runs, with
 * its parameters expanded, so that `make bench` can time the sqlite3 CLI
 * on exactly the queries a command ran.
 */
static int trace_stmt(unsigned type, void *payload, void *stmt, void *x)
{
	struct projection *p = payload;
	char *sql = sqlite3_expanded_sql(stmt);

	if (sql && strncmp(sql, "--", 2) && stmt != (void *)p->st[ST_INBOX])
		fprintf(p->trace, "%s;\n", sql);
	sqlite3_free(sql);
	return 0;
}

void proj_start_trace(struct projection *p)
{
	const char *path = getenv("THRUM_TRACE_SQL");

	if (!path || !*path)
		return;
	p->trace = fopen(path, "a");
	if (!p->trace) {
		warning("cannot open THRUM_TRACE_SQL file '%s': %s", path,
			strerror(errno));
		return;
	}
	sqlite3_trace_v2(p->db, SQLITE_TRACE_STMT, trace_stmt, p);
}

int proj_open_file(struct projection *p)
{
	return open_db(p) == OPEN_OK ? 0 : -1;
}

int proj_query_indexes(struct projection *p)
{
	return proj_exec(p, query_index_sql) < 0 ? -1 :
		proj_exec(p, search_keep_sql);
}

int projection_open(struct projection **out, const char *var_dir)
{
	struct projection *p = xcalloc(1, sizeof(*p));
	enum open_result r;

	p->path = proj_db_path(var_dir);
	p->var_dir = xstrdup(var_dir);
	r = open_db(p);
	if (r == OPEN_REBUILD) {
		/* derived data: a corrupt or foreign database is rebuilt */
		proj_close_db(p);
		r = projection_remove(var_dir) < 0 ? OPEN_FAILED : open_db(p);
	}
	if (r == OPEN_REBUILD)
		error("cannot create the database '%s'", p->path);
	if (r != OPEN_OK) {
		projection_free(p);
		return -1;
	}
	proj_start_trace(p);
	*out = p;
	return 0;
}

void projection_free(struct projection *p)
{
	if (!p)
		return;
	proj_close_db(p);
	proj_sign_drop(p);
	if (p->trace)
		fclose(p->trace);
	free(p->path);
	free(p->var_dir);
	free(p->origin);
	free(p);
}

int projection_begin(struct projection *p)
{
	p->now = date_now_ns();
	proj_clean_begin(p);
	proj_dir_done(p);	/* a commit outside projection_commit() */
	return proj_exec(p, "BEGIN IMMEDIATE");
}

int projection_commit(struct projection *p)
{
	int ret;

	if (proj_sign_finish(p) < 0) {
		projection_rollback(p);
		return -1;
	}
	ret = proj_exec(p, "COMMIT");

	proj_dir_done(p);
	return ret;
}

void projection_rollback(struct projection *p)
{
	if (!sqlite3_get_autocommit(p->db))
		proj_exec(p, "ROLLBACK");
	proj_sign_drop(p);
	proj_dir_done(p);
}

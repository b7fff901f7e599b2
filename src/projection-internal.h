#ifndef THRUM_PROJECTION_INTERNAL_H
#define THRUM_PROJECTION_INTERNAL_H

/*
 * Shared by the projection*.c files (see projection.c for who does
 * what); nothing else includes it but unit tests.  Each statement's SQL
 * sits in the file that binds it, above the function, with named
 * parameters (":message_id"); enum stmt_id names the slot it is prepared
 * into, once, on first use, owned by struct projection.
 */
#include <sqlite3.h>

struct event;

enum stmt_id {
	ST_SEEN_INSERT,
	ST_SEEN_HASH,
	ST_FILE_GET,
	ST_FILE_PUT,
	ST_FILE_ALL,
	ST_FILE_DEL,
	ST_SKIPPED_ADD,
	ST_CONFLICT_ADD,
	ST_MSG_INSERT,
	ST_MSG_RANK,
	ST_MSG_REPLACE,
	ST_CONFLICT_LOSER,
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
	ST_SEQ,
	ST_GROUP_ID,
	ST_GROUPS,
	ST_GROUP_MEMBERS,
	ST_COUNTS,
	ST_CLAMP_GET,
	ST_CLAMP_PUT,
	ST_PENDING_ADD,
	ST_PENDING_PRUNE,
	ST_PENDING_ALL,
	ST_PENDING_DROP,
	ST_MAX
};

struct projection {
	sqlite3 *db;
	char *path;
	char *origin;		/* our origin_daemon, once known */
	sqlite3_stmt *st[ST_MAX];
	const char *sql[ST_MAX];	/* the text each was prepared from */
	FILE *trace;		/* THRUM_TRACE_SQL: each statement run */
	int bulk;		/* a rebuild into a private file: no journal */
	int64_t now;		/* the clock, read at projection_begin() */
};

/*
 * Apply one parsed event found in the log file of shard (NULL for
 * events.jsonl); line_hash identifies its bytes.  Returns 1 when it was
 * new, 0 when already known, THRUM_ECONFLICT when its id is known with
 * other bytes or it is a second message.create of a message_id (see
 * projection_create_cmp(); the loser is recorded), -1 on database
 * error.  Callers batch with projection_begin() / projection_commit().
 * Only projection_update() (and the unit tests) apply events: it is the
 * one way in.
 */
int projection_apply(struct projection *p, const struct event *ev,
		     const char *shard, uint64_t line_hash);
int projection_begin(struct projection *p);
int projection_commit(struct projection *p);
void projection_rollback(struct projection *p);

/* report sqlite3_errmsg() for what; returns -1 */
int proj_db_error(struct projection *p, const char *what);
/*
 * The statement in slot id, prepared from sql on first use (always the
 * same text for one slot), reset and unbound.
 */
sqlite3_stmt *proj_stmt(struct projection *p, enum stmt_id id,
			const char *sql);
/*
 * Bind parameter name (":message_id"; one the statement lacks is a bug):
 * a string (NULL: SQL NULL), len bytes of text, an integer, a blob.
 * Values are not copied: they must live until the statement is stepped.
 */
void proj_bind_text(sqlite3_stmt *s, const char *name, const char *v);
void proj_bind_textn(sqlite3_stmt *s, const char *name, const char *v,
		     size_t len);
void proj_bind_int(sqlite3_stmt *s, const char *name, int64_t v);
void proj_bind_blob(sqlite3_stmt *s, const char *name, const void *v,
		    size_t len);
/* step a statement that returns no rows; 0 or -1 */
int proj_run(struct projection *p, sqlite3_stmt *s, const char *what);
/* a copy of a text column, or NULL */
char *proj_col_text(sqlite3_stmt *s, int i);
/* run SQL without results; 0 or -1 */
int proj_exec(struct projection *p, const char *sql);
/* the same, silently: the SQLite result code */
int proj_try_exec(struct projection *p, const char *sql);

/* var_dir's database file, a new string */
char *proj_db_path(const char *var_dir);
/*
 * Open p->path (creating the schema in an empty file; p->bulk: without a
 * journal, and without the query indexes).  0, or -1 after error() or
 * when the file is not our database.
 */
int proj_open_file(struct projection *p);
void proj_close_db(struct projection *p);
/*
 * A rebuild's deferred refresh: the current content and deleted flag of
 * every message that has an edit or a delete, from those facts.
 */
int proj_refresh_edited(struct projection *p);
/* the indexes only queries use (a rebuild makes them at the end) */
int proj_query_indexes(struct projection *p);
/* THRUM_TRACE_SQL: start tracing p's statements */
void proj_start_trace(struct projection *p);

/*
 * The hash of the line of event id (len bytes) that was projected: 1
 * (*hash set), 0 when the event is unknown, -1 after error().
 */
int proj_seen_hash(struct projection *p, const char *id, size_t len,
		   int64_t *hash);

/*
 * Keep the exact bytes of a line this clone appended at offset off of
 * rel, which a-sync does not hold yet (see projection_recover()).
 */
int proj_keep_pending(struct projection *p, const char *rel, int64_t off,
		      const char *line, size_t n);

#endif

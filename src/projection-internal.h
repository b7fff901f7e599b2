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
	ST_GROUP_CREATE,
	ST_GROUP_DELETE,
	/* projection-group.c */
	ST_GROUP_CLEAR,
	ST_GROUP_DERIVE,
	ST_GROUP_FIELDS,
	ST_GROUP_UPDATE_ADD,
	ST_GROUPS_OF,
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
	ST_DIR_FILE,
	ST_DIR_AGENTS,
	ST_DIR_GROUPS,
	ST_CLAMP_GET,
	ST_CLAMP_PUT,
	ST_PENDING_ADD,
	ST_PENDING_PRUNE,
	ST_PENDING_ALL,
	ST_PENDING_DROP,
	/* reading: projection-read.c */
	ST_TAGS_CLEAR,
	ST_TAGS_ADD,
	ST_MSG_TAGS,
	ST_SENT,
	ST_SENT_RECIPIENTS,
	ST_THREAD,
	ST_THREAD_ROOT,
	/* work contexts (projection-work.c) */
	ST_WORK_UPSERT,
	ST_WORK_FILE_ADD,
	ST_WORK_ALL,
	ST_WORK_FILES,
	/* projection-clean.c */
	ST_CLEAN_ANY,
	ST_CLEAN_AFTER,
	ST_CLEAN_MSG_GONE,
	ST_CLEAN_SES_START,
	ST_CLEAN_CONTEST,
	ST_CLEAN_SPEAKS,
	ST_CLEAN_PURGE_ADD,
	ST_CLEAN_AGENT_ADD,
	ST_CLEAN_COUNTS,
	/* search: projection-search.c */
	ST_SEARCH,
	/* projection-sign.c */
	ST_SIG_ADD,
	ST_SIG_REG_ADD,
	ST_SIG_REJECT_ONE,
	ST_SIG_REJECT_AGENT,
	ST_SIG_REJECT_CLEAR,
	ST_SIG_REJECTED,
	ST_SIG_KEYS_CLEAR,
	ST_SIG_KEY_ADD,
	ST_SIG_KEY_END,
	ST_SIG_ALLOWED_KEYS,
	ST_SIG_REGS,
	ST_SIG_CONFLICTS_CLEAR,
	ST_SIG_CONFLICT,
	ST_SIG_ANY_ALLOWED,
	ST_SIG_AGENT_CLEAR,
	ST_SIG_AGENT_REGS,
	ST_SIG_RECEIPTS_CLEAR,
	ST_SIG_RECEIPTS_SIGS,
	ST_SIG_REFRESH_AGENT,
	ST_SIG_ALLOWED_ALL,
	ST_SIG_ALLOWED_ADD,
	ST_SIG_NAMES,
	ST_SIG_PROBLEMS,
	ST_SIG_SESSION_ADD,
	ST_SIG_SESSION_CLEAR,
	ST_SIG_SESSION_DERIVE,
	ST_SIG_SESSIONS_CLEAR,
	ST_SIG_SESSIONS_DERIVE,
	ST_SIG_SEEN_CLEAR,
	ST_SIG_SEEN_DERIVE,
	/* projection-vouch.c */
	ST_VOUCH_ADD,
	ST_VOUCH_UNSIGNED,
	ST_MAX
};

/*
 * The directory cache (projection-directory.c): proj_dir_watch() has
 * SQLite tell which statements write what a name resolves to, and
 * remove the cache before a commit of one; proj_dir_done() drops the
 * cache's lock once that commit is over.
 */
void proj_dir_watch(struct projection *p);
void proj_dir_done(struct projection *p);

/* the event whose event_id is col counts by its signature */
#define PROJ_SIG_COUNTS(col) \
	" NOT EXISTS (SELECT 1 FROM sig_rejects x WHERE x.event_id = " col ")"

/*
 * A cleanup of agent a (a column or parameter) that counts was made at
 * instant t or later: what a made up to then is removed.
 */
#define PROJ_CLEANED(a, t) \
	" EXISTS (SELECT 1 FROM agent_cleanups cl WHERE cl.agent_id = " a \
	"  AND cl.ns >= " t " AND" PROJ_SIG_COUNTS("cl.event_id") ")"

/* the group ids deleted by a delete that counts */
#define PROJ_GROUP_DELETED \
	" (SELECT d.group_id FROM group_deletes d WHERE" \
	PROJ_SIG_COUNTS("d.eid") ")"

/*
 * Row gm of group_members is its member's newest change that counts,
 * and that change adds it.
 */
#define PROJ_MEMBER_NOW(gm) \
	" " gm ".present AND " gm ".eid = (SELECT v.eid FROM group_members v" \
	"  WHERE v.group_id = " gm ".group_id" \
	"  AND v.member_type = " gm ".member_type" \
	"  AND v.member_value = " gm ".member_value AND" \
	PROJ_SIG_COUNTS("v.eid") " ORDER BY v.ns DESC, v.eid DESC LIMIT 1)"

/*
 * The condition that message m is addressed to reader :me (of role
 * :role): to them or their role, to a group they are in, or to
 * everyone.  The inbox's rule; search uses it too.
 */
#define PROJ_VISIBLE_TO_ME \
	"EXISTS (" \
	"  SELECT 1 FROM audience a WHERE a.message_id = m.message_id" \
	"   AND ((a.kind IN ('to', 'mention') AND a.value IN (:me, :role))" \
	"   OR a.kind = 'broadcast'" \
	"   OR (a.kind = 'group' AND a.value IN (" \
	"    SELECT g.name FROM groups g JOIN group_members gm" \
	"     ON gm.group_id = g.group_id" \
	"    WHERE" PROJ_MEMBER_NOW("gm") " AND g.group_id NOT IN" \
	PROJ_GROUP_DELETED \
	"    AND ((gm.member_type = 'agent' AND gm.member_value = :me)" \
	"     OR (gm.member_type = 'role' AND gm.member_value = :role)" \
	"     OR gm.member_value = '*')))))"

struct projection {
	sqlite3 *db;
	char *path;
	char *origin;		/* our origin_daemon, once known */
	sqlite3_stmt *st[ST_MAX];
	const char *sql[ST_MAX];	/* the text each was prepared from */
	FILE *trace;		/* THRUM_TRACE_SQL: each statement run */
	int bulk;		/* a rebuild into a private file: no journal */
	int64_t now;		/* the clock, read at projection_begin() */
	int sig_include_bad;	/* projection_sign_view() */
	/* names a vouch re-judges, once, at the commit (proj_sign_finish()) */
	char **sign_due;
	size_t nr_sign_due, alloc_sign_due;
	int sig_require_signed;
	int clean_facts;	/* cleanups or purges: 0 unknown, 1 no, 2 yes */
	int clean_resweep;	/* a rebuild's resweep, left for its end */
	/*
	 * The directory cache (projection-directory.h): which statements write
	 * a table that decides what a name resolves to (found by the
	 * authorizer as each is prepared), whether this transaction ran one,
	 * and the cache's lock, held from the commit that removed the cache
	 * until that commit is done.
	 */
	char *var_dir;
	unsigned char st_dir[ST_MAX];
	unsigned preparing:1, prep_dir:1, dir_changed:1;
	int dir_lock;
};

/*
 * Signed events (projection-sign.c).  proj_sign_record() stores ev's
 * signature (ev ordered at its clamped instant) before it is applied:
 * 1 when it does not count, 0 when it does, -1 on error.
 * proj_sign_after() recomputes the name of a registration once it is
 * applied.  proj_sign_bind_view() binds :include_bad and
 * :require_signed where a statement has them (proj_stmt() calls it).
 */
int proj_sign_record(struct projection *p, const struct event *ev,
		     const char *shard);
/*
 * A vouch's name is judged again once per transaction, however many
 * vouches it has (an agent of the original with 100 000 lines brings
 * 400): proj_sign_finish() at the commit, proj_sign_drop() at a
 * rollback.  0 or -1.
 */
int proj_sign_finish(struct projection *p);
void proj_sign_drop(struct projection *p);
/* who is due for that (projection-vouch.c) */
void proj_vouch_due(struct projection *p, const char *who);
/*
 * projection-vouch.c: the schema of the tables of signed events, and
 * the rows of the events an agent.vouch owns
 */
extern const char proj_sign_schema_sql[];
int proj_vouch_record(struct projection *p, const struct event *ev,
		      const char *who);
int proj_sign_after(struct projection *p, const struct event *ev,
		    const char *shard);
void proj_sign_bind_view(struct projection *p, sqlite3_stmt *s);

/*
 * proj_sign_session(): stores an agent.session.start or .end as a fact
 * and derives its session's row from the facts that count.
 */
int proj_sign_session(struct projection *p, const struct event *ev);

/*
 * proj_sign_sessions(): the sessions of who (NULL: of everyone) derived
 * again from their facts.  proj_sign_agent_rows(): who's row in agents
 * and its last seen, from its facts that count and that no cleanup that
 * counts covers.  0 or -1.
 */
int proj_sign_sessions(struct projection *p, const char *who);
int proj_sign_agent_rows(struct projection *p, const char *who);

/*
 * projection-group.c: proj_group_create() and proj_group_update() keep
 * a group.create or group.update as a fact and derive its group again;
 * proj_group_rejudge() derives again the groups whose creates or updates
 * speak for who, after a registration re-judged it.  0 or -1.
 */
int proj_group_create(struct projection *p, const struct event *ev);
int proj_group_update(struct projection *p, const struct event *ev);
int proj_group_rejudge(struct projection *p, const char *who);

/*
 * Key k (a row of agent_keys) speaks for its name at the instant of
 * event e (a row of event_sigs): from its registration (since) up to
 * the registration that replaced it (until), both included.
 */
#define PROJ_KEY_SPEAKS(k, e) \
	" (" k ".since_ns IS NULL OR (" e ".ts, " e ".event_id)" \
	"   >= (" k ".since_ns, " k ".since_eid))" \
	" AND (" k ".until_ns IS NULL OR (" e ".ts, " e ".event_id)" \
	"   <= (" k ".until_ns, " k ".until_eid))"

/*
 * the event_id of the newest intent of agent (a column) that counts,
 * and that no cleanup of the agent that counts removed
 */
#define PROJ_INTENT_OF(agent) \
	" (SELECT j.eid FROM agent_intent j WHERE j.agent_id = " agent \
	"  AND" PROJ_SIG_COUNTS("j.eid") " AND NOT" \
	PROJ_CLEANED(agent, "j.ns") \
	"  ORDER BY j.ns DESC, j.eid DESC LIMIT 1)"

/*
 * Unsigned event e (a row of event_sigs) is owned by a vouch of its
 * name: one naming its id and the digest of its line, dated after it,
 * and signed by the name's first key (or a key of thrum.allowedSigners:
 * since NULL both) while that key speaks for the name.  A rotated-in
 * key owns nothing from before it; a rotated-out one nothing after.
 */
#define PROJ_VOUCHED(e) \
	" EXISTS (SELECT 1 FROM agent_vouches w JOIN event_sigs y" \
	"   ON y.event_id = w.vouch_id JOIN agent_keys k" \
	"   ON k.pubkey = y.signer AND k.agent_id = y.agent_id" \
	"   WHERE w.event_id = " e ".event_id AND w.digest = " e ".digest" \
	"   AND w.agent_id = " e ".agent_id AND y.agent_id = " e ".agent_id" \
	"   AND y.state = 1 AND k.since_ns IS NULL" \
	"   AND (" e ".ts, " e ".event_id) < (y.ts, y.event_id) AND" \
	PROJ_KEY_SPEAKS("k", "y") ")"

/* the event col is signed by the key that speaks for its name then */
#define PROJ_SIG_GOOD(col) \
	" EXISTS (SELECT 1 FROM event_sigs y JOIN agent_keys k" \
	"   ON k.agent_id = y.agent_id AND k.pubkey = y.signer" \
	"   WHERE y.event_id = " col " AND y.state = 1 AND" \
	PROJ_KEY_SPEAKS("k", "y") ")"

/*
 * A message shows when its create counts (or --include-bad) and, with
 * thrum.requireSigned, is signed by the key of its name.
 */
#define PROJ_SIG_SHOWN(col) \
	" (:include_bad OR NOT EXISTS (SELECT 1 FROM sig_rejects x" \
	"   WHERE x.event_id = " col "))" \
	" AND (NOT :require_signed OR" PROJ_SIG_GOOD(col) ")"

/* verified: 0 when it does not count, 1 when signed by its name's key, else -1 */
#define PROJ_SIG_VERIFIED(col) \
	" CASE WHEN EXISTS (SELECT 1 FROM sig_rejects x" \
	"   WHERE x.event_id = " col ") THEN 0" \
	" WHEN" PROJ_SIG_GOOD(col) " THEN 1" \
	" ELSE -1 END, (SELECT signer FROM event_sigs y WHERE y.event_id = " col ")"

/*
 * The current text and deletion of a message: the latest edit by its
 * author that counts, and whether a delete by its author counts.
 */
#define PROJ_MSG_REFRESH_SET \
	" (cur_content, cur_format) = (SELECT content, format" \
	"   FROM edits e" \
	"   WHERE e.message_id = messages.message_id" \
	"   AND e.editor = messages.agent_id" \
	"   AND NOT EXISTS (SELECT 1 FROM sig_rejects x" \
	"    WHERE x.event_id = e.event_id)" \
	"   ORDER BY e.ts DESC, e.event_id DESC LIMIT 1)," \
	" deleted = EXISTS (SELECT 1 FROM deletes d" \
	"   WHERE d.message_id = messages.message_id" \
	"   AND d.actor = messages.agent_id" \
	"   AND NOT EXISTS (SELECT 1 FROM sig_rejects x" \
	"    WHERE x.event_id = d.event_id))"

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

/*
 * agent.update ev (ordered at its clamped instant): each of its work
 * contexts replaces the one of its session when newer.  0 or -1.
 */
int proj_apply_work(struct projection *p, const struct event *ev);

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
/*
 * The statement of slot id (from sql) with the text v bound to
 * parameter name, run as proj_run() runs it: 0 or -1.
 */
int proj_run_text(struct projection *p, enum stmt_id id, const char *sql,
		  const char *name, const char *v, const char *what);
/*
 * Read the text of the first column of every row of s (prepared and
 * bound), reset s, then call fn on each text in order, up to the first
 * that does not return 0: fn may write what s read.  0, -1 after
 * proj_db_error(p, what) when the reading fails, or what fn returned.
 * fn takes no payload: the projection is all that each one needs.
 */
typedef int (*proj_text_fn)(struct projection *p, const char *text);
int proj_each_text(struct projection *p, sqlite3_stmt *s, const char *what,
		   proj_text_fn fn);
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

/* --- projecting the lines of a file (projection-lines.c) --- */

struct parse_ahead;
struct line_span;
struct catch_up_stats;

/*
 * Project the lines of buf (len bytes, whole lines), which starts at
 * offset off of rel (shard: its agent); those newly projected at or
 * after committed (-1: none) are kept as pending.  A catch-up leaves
 * out the lines the projection holds (a rebuild, which starts empty,
 * lets projection_apply() see repeats).  With pa, which has nothing
 * queued, the lines are parsed there; without, one at a time.
 */
int proj_project_lines(struct projection *p, struct parse_ahead *pa,
		       const char *rel, const char *shard, const char *buf,
		       size_t len, int64_t off, int64_t committed,
		       struct catch_up_stats *stats);

/*
 * The same in two steps, so that other files can be read and queued in
 * between: queue the lines of buf in pa (*v, NULL at first, holds the
 * ones a catch-up queues: the caller frees it once they are applied;
 * buf is kept as long), then apply them, in the order the buffers were
 * queued.
 */
void proj_queue_lines(struct projection *p, struct parse_ahead *pa,
		      const char *buf, size_t len, struct line_span **v);
int proj_apply_queued(struct projection *p, struct parse_ahead *pa,
		      const char *rel, const char *shard, const char *buf,
		      int64_t off, int64_t committed,
		      struct catch_up_stats *stats);

/*
 * The columns of a message (struct message, in its order) for reader :me,
 * over messages m; proj_read_messages() reads its rows (projection-query.c)
 */
#define MESSAGE_COLUMNS \
	"m.message_id, m.thread_id, m.agent_id, m.session_id, m.reply_to," \
	" m.created_at, m.created_ns, COALESCE(m.cur_format, m.format)," \
	" COALESCE(m.cur_content, m.content), m.priority," \
	" m.cur_content IS NOT NULL, m.deleted," \
	" (m.agent_id = :me OR EXISTS (SELECT 1 FROM receipts r" \
	"   WHERE r.message_id = m.message_id AND r.agent_id = :me" \
	"   AND r.receipt_type = 'read'))," \
	PROJ_SIG_VERIFIED("m.event_id")

struct message_list;
int proj_read_messages(struct projection *p, sqlite3_stmt *s,
		       struct message_list *out);
/* the audience, scopes and refs of m; 0 or -1 */
struct message;
int proj_load_message(struct projection *p, struct message *m);
/* the same for l->items[from..] */
int proj_load_audiences(struct projection *p, struct message_list *l,
			size_t from);

/*
 * The scopes and refs of message.create ev, in place of any stored for
 * its message_id (projection-read.c).  0 or -1.
 */
int proj_store_tags(struct projection *p, const struct event *ev);

/* m->scopes and m->refs ("type:value") from the projection; 0 or -1 */
int proj_load_tags(struct projection *p, struct message *m);

/*
 * projection-clean.c: agent.cleanup and purge.executed, and what those
 * that count cover, checked as later events arrive.
 * proj_clean_before(): before ev is applied (a create of a removed
 * message brings its row back to be ranked against; a session start
 * that is covered marks its session removed).  proj_clean_after_create():
 * after a create, puts its message aside when a purge or cleanup that
 * counts covers it.  proj_clean_contested(): ev claims a message_id
 * already projected.  proj_clean_seen_blocked(): 1 when agent's acts at
 * ns were cleaned up.  proj_clean_apply(): a cleanup or a purge.
 * proj_clean_rejudge(): after who was judged again, when it speaks for
 * a cleanup or a purge, every row where the facts now say.
 * proj_clean_finish(): at the end of a rebuild, which sweeps once,
 * there, instead of at each cleanup or purge.  proj_clean_begin(): at
 * each batch.  0 or -1 unless said.
 */
int proj_clean_before(struct projection *p, const struct event *ev);
int proj_clean_after_create(struct projection *p, const struct event *ev);
int proj_clean_contested(struct projection *p, const struct event *ev);
int proj_clean_seen_blocked(struct projection *p, const char *agent,
			    int64_t ns);
int proj_clean_apply(struct projection *p, const struct event *ev);
int proj_clean_rejudge(struct projection *p, const char *who);
int proj_clean_finish(struct projection *p);
void proj_clean_begin(struct projection *p);
/*
 * ev claims a message_id whose best create so far is the row s (bound)
 * selects: own, created_ns, event_id.  The loser is recorded as a
 * conflict: 1 when ev lost, 0 when it won (the caller puts it in the old
 * one's place), -1 after error() (projection-apply.c).
 */
int proj_rank_create(struct projection *p, sqlite3_stmt *s,
		     const struct event *ev, int own, uint64_t hash);

#endif

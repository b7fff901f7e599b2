/*
 * projection-query.c: what commands read from the projection: the inbox
 * and one message (with their audiences), agents, groups, what "@name"
 * names, totals.  Read only; everything returned is owned by the caller.
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

/* where each column of a row goes in the struct it fills */
enum col_kind { COL_TEXT, COL_NS_TEXT, COL_INT64, COL_INT };
struct column {
	enum col_kind kind;
	size_t off;
};
/* the column that fills field of struct type, read as kind */
#define COL(type, kind, field) { kind, offsetof(struct type, field) }

static char *ns_text(sqlite3_stmt *s, int col)
{
	char buf[64];

	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return NULL;
	snprintf(buf, sizeof(buf), "%" PRId64,
		 (int64_t)sqlite3_column_int64(s, col));
	return xstrdup(buf);
}

/* obj (size bytes, zeroed first) from the row s is on, column i by cols[i] */
static void read_row(sqlite3_stmt *s, void *obj, size_t size,
		     const struct column *cols, size_t nr)
{
	char *base = obj;
	size_t i;

	memset(obj, 0, size);
	for (i = 0; i < nr; i++) {
		void *field = base + cols[i].off;

		if (cols[i].kind == COL_TEXT)
			*(char **)field = proj_col_text(s, i);
		else if (cols[i].kind == COL_NS_TEXT)
			*(char **)field = ns_text(s, i);
		else if (cols[i].kind == COL_INT64)
			*(int64_t *)field = sqlite3_column_int64(s, i);
		else
			*(int *)field = sqlite3_column_int(s, i);
	}
}

/* the next item of a list of struct T_list (zeroed by read_row()) */
#define DEFINE_NEXT(fn, list_type) \
	static void *fn(void *list) \
	{ \
		struct list_type *l = list; \
		ALLOC_GROW(l->items, l->nr + 1, l->alloc); \
		return &l->items[l->nr++]; \
	}
DEFINE_NEXT(next_message, message_list)
DEFINE_NEXT(next_agent, agent_list)
DEFINE_NEXT(next_group, group_list)
#undef DEFINE_NEXT

/*
 * Each row of s into a new item of list, which next() appends (zeroed
 * by read_row()) and returns.  0, or -1 after error() naming what.
 */
static int read_rows(struct projection *p, sqlite3_stmt *s,
		     void *(*next)(void *list), void *list, size_t size,
		     const struct column *cols, size_t nr, const char *what)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		read_row(s, next(list), size, cols, nr);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : proj_db_error(p, what);
}

/*
 * The inbox query goes into the trace with its parameters, not expanded:
 * with literals in their place SQLite plans another query, and the
 * reference would not run the same one.
 */
static void trace_param(struct projection *p, const char *name,
			const char *text, long num)
{
	const char *c;

	fprintf(p->trace, ".parameter set %s ", name);
	if (!text) {
		fprintf(p->trace, "%ld\n", num);
		return;
	}
	fputc('\'', p->trace);
	for (c = text; *c; c++) {
		if (*c == '\'')
			fputc('\'', p->trace);
		fputc(*c, p->trace);
	}
	fputs("'\n", p->trace);
}

static void trace_inbox(struct projection *p, const struct inbox_query *q)
{
	fputs(".parameter init\n", p->trace);
	trace_param(p, ":me", q->me ? q->me : "", 0);
	if (q->role)
		trace_param(p, ":role", q->role, 0);
	if (q->from)
		trace_param(p, ":from", q->from, 0);
	trace_param(p, ":all", NULL, q->all);
	trace_param(p, ":deleted", NULL, q->include_deleted);
	trace_param(p, ":unread", NULL, q->unread_only);
	trace_param(p, ":limit", NULL, q->limit > 0 ? q->limit : -1);
	trace_param(p, ":after", NULL, q->after_seq);
	/* what proj_sign_bind_view() binds: unset, the CLI filters on NULL */
	trace_param(p, ":include_bad", NULL, p->sig_include_bad);
	trace_param(p, ":require_signed", NULL, p->sig_require_signed);
	if (q->scope) {
		const char *colon = strchr(q->scope, ':');
		char *type = xstrndup(q->scope, colon - q->scope);

		trace_param(p, ":scope_type", type, 0);
		trace_param(p, ":scope_value", colon + 1, 0);
		free(type);
	}
	fprintf(p->trace, "%s;\n.parameter clear\n",
		sqlite3_sql(p->st[ST_INBOX]));
}

static void free_strvec(struct strvec *sv)
{
	if (sv) {
		strvec_clear(sv);
		free(sv);
	}
}

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
	free(m->signer);
	free_strvec(m->audience);
	free_strvec(m->scopes);
	free_strvec(m->refs);
	free_strvec(m->resolved);
	free(m->resolved_read);
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

static const char msg_audience_sql[] =
	"SELECT kind, value FROM audience WHERE message_id = :message_id"
	" ORDER BY kind, value";

static int load_audience(struct projection *p, struct message *m)
{
	sqlite3_stmt *s = proj_stmt(p, ST_MSG_AUDIENCE, msg_audience_sql);
	int rc;

	m->audience = xcalloc(1, sizeof(*m->audience));
	strvec_init(m->audience);
	proj_bind_text(s, ":message_id", m->message_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s, 0);
		const char *value = (const char *)sqlite3_column_text(s, 1);

		strvec_pushf(m->audience, "%s:%s", kind, value);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : proj_db_error(p, "cannot read audience");
}

/* the columns of MESSAGE_COLUMNS */
static const struct column message_cols[] = {
	COL(message, COL_TEXT, message_id), COL(message, COL_TEXT, thread_id),
	COL(message, COL_TEXT, agent_id), COL(message, COL_TEXT, session_id),
	COL(message, COL_TEXT, reply_to), COL(message, COL_TEXT, created_at),
	COL(message, COL_INT64, created_ns), COL(message, COL_TEXT, format),
	COL(message, COL_TEXT, content), COL(message, COL_TEXT, priority),
	COL(message, COL_INT, edited), COL(message, COL_INT, deleted),
	COL(message, COL_INT, is_read),
	COL(message, COL_INT, verified), COL(message, COL_TEXT, signer),
};

int proj_read_messages(struct projection *p, sqlite3_stmt *s,
		       struct message_list *out)
{
	return read_rows(p, s, next_message, out, sizeof(*out->items),
			 message_cols, ARRAY_SIZE(message_cols),
			 "cannot read messages");
}

int proj_load_message(struct projection *p, struct message *m)
{
	return load_audience(p, m) < 0 || proj_load_tags(p, m) < 0 ? -1 : 0;
}

int proj_load_audiences(struct projection *p, struct message_list *l,
			size_t from)
{
	size_t i;

	for (i = from; i < l->nr; i++)
		if (proj_load_message(p, &l->items[i]) < 0)
			return -1;
	return 0;
}

static const char inbox_sql[] =
	"SELECT " MESSAGE_COLUMNS " FROM messages m WHERE"
	" (:all OR (m.agent_id != :me AND " PROJ_VISIBLE_TO_ME "))"
	" AND (:deleted OR NOT m.deleted)"
	" AND" PROJ_SIG_SHOWN("m.event_id")
	" AND (:from IS NULL OR m.agent_id = :from)"
	" AND m.rowid > :after"
	" AND (:scope_type IS NULL OR EXISTS (SELECT 1 FROM message_tags t"
	"  WHERE t.kind = 'scope' AND t.type = :scope_type"
	"  AND t.value = :scope_value AND t.message_id = m.message_id))"
	" AND (NOT :unread OR NOT (m.agent_id = :me OR EXISTS ("
	"  SELECT 1 FROM receipts r WHERE r.message_id = m.message_id"
	"  AND r.agent_id = :me AND r.receipt_type = 'read')))"
	" ORDER BY m.created_ns DESC, m.message_id DESC LIMIT :limit";

int projection_inbox(struct projection *p, const struct inbox_query *q,
		     struct message_list *out)
{
	sqlite3_stmt *s = proj_stmt(p, ST_INBOX, inbox_sql);
	size_t start = out->nr;
	char *scope_type = NULL;
	int rc;

	proj_bind_text(s, ":me", q->me ? q->me : "");
	proj_bind_text(s, ":role", q->role);
	proj_bind_text(s, ":from", q->from);
	proj_bind_int(s, ":all", q->all);
	proj_bind_int(s, ":deleted", q->include_deleted);
	proj_bind_int(s, ":unread", q->unread_only);
	proj_bind_int(s, ":limit", q->limit > 0 ? q->limit : -1);
	proj_bind_int(s, ":after", q->after_seq);
	if (q->scope) {
		const char *colon = strchr(q->scope, ':');

		if (!colon)
			BUG("inbox scope '%s' is not type:value", q->scope);
		scope_type = xstrndup(q->scope, colon - q->scope);
		proj_bind_text(s, ":scope_type", scope_type);
		proj_bind_text(s, ":scope_value", colon + 1);
	}
	if (p->trace)
		trace_inbox(p, q);
	rc = proj_read_messages(p, s, out);
	free(scope_type);
	if (rc < 0)
		return -1;
	return proj_load_audiences(p, out, start);
}

static const char msg_prefix_sql[] =
	"SELECT message_id FROM messages m WHERE message_id >= :prefix"
	" AND message_id < :upper AND" PROJ_SIG_SHOWN("m.event_id")
	" ORDER BY message_id LIMIT 2";

static const char msg_get_sql[] =
	"SELECT " MESSAGE_COLUMNS " FROM messages m"
	" WHERE m.message_id = :id AND" PROJ_SIG_SHOWN("m.event_id");

int projection_message(struct projection *p, const char *id, const char *me,
		       struct message_list *out)
{
	sqlite3_stmt *s = proj_stmt(p, ST_MSG_PREFIX, msg_prefix_sql);
	char *full = NULL, *upper;
	size_t start = out->nr;
	int rc, n = 0;

	/*
	 * ids are opaque: every id that starts with the prefix sorts (as
	 * bytes) before the prefix followed by 0xff, which no UTF-8 text holds
	 */
	upper = xstrfmt("%s\xff", id);
	proj_bind_text(s, ":prefix", id);
	proj_bind_text(s, ":upper", upper);
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
	free(upper);
	if (!n) {
		free(full);
		return THRUM_ENOTFOUND;
	}
	if (n > 1) {
		free(full);
		return THRUM_EINVALID;
	}
	s = proj_stmt(p, ST_MSG_GET, msg_get_sql);
	proj_bind_text(s, ":id", full);
	proj_bind_text(s, ":me", me ? me : "");
	rc = proj_read_messages(p, s, out);
	free(full);
	if (rc < 0)
		return -1;
	if (out->nr == start)
		return THRUM_ENOTFOUND;
	return proj_load_audiences(p, out, start);
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

static const char agents_sql[] =
	"SELECT a.agent_id, a.name, a.kind, a.role, a.module,"
	" a.worktree, a.hostname, i.intent, a.reg_ns, s.last_ns,"
	" (SELECT session_id FROM sessions se"
	"   WHERE se.agent_id = a.agent_id AND se.ended_ns IS NULL"
	"   ORDER BY se.started_ns DESC LIMIT 1),"
	" EXISTS (SELECT 1 FROM key_conflicts kc WHERE kc.agent_id = a.agent_id)"
	" FROM agents a"
	" LEFT JOIN agent_intent i ON i.agent_id = a.agent_id"
	"  AND i.eid =" PROJ_INTENT_OF("a.agent_id")
	" LEFT JOIN agent_seen s ON s.agent_id = a.agent_id"
	" WHERE a.reg_ns IS NOT NULL ORDER BY a.name, a.agent_id";

static const struct column agent_cols[] = {
	COL(agent_info, COL_TEXT, agent_id), COL(agent_info, COL_TEXT, name),
	COL(agent_info, COL_TEXT, kind), COL(agent_info, COL_TEXT, role),
	COL(agent_info, COL_TEXT, module), COL(agent_info, COL_TEXT, worktree),
	COL(agent_info, COL_TEXT, hostname), COL(agent_info, COL_TEXT, intent),
	COL(agent_info, COL_NS_TEXT, registered_at),
	COL(agent_info, COL_NS_TEXT, last_seen_at),
	COL(agent_info, COL_TEXT, session_id),
	COL(agent_info, COL_INT, key_conflict),
};

int projection_agents(struct projection *p, struct agent_list *out)
{
	return read_rows(p, proj_stmt(p, ST_AGENTS, agents_sql), next_agent,
			 out, sizeof(*out->items), agent_cols,
			 ARRAY_SIZE(agent_cols), "cannot read agents");
}

static const char is_agent_sql[] =
	"SELECT 1 FROM agents WHERE agent_id = :name OR name = :name LIMIT 1";

static const char is_group_sql[] =
	"SELECT 1 FROM groups WHERE name = :name AND group_id NOT IN"
	PROJ_GROUP_DELETED " LIMIT 1";

static const char is_role_sql[] =
	"SELECT 1 FROM agents WHERE role = :name LIMIT 1";

static int exists(struct projection *p, enum stmt_id id, const char *sql,
		  const char *name)
{
	sqlite3_stmt *s = proj_stmt(p, id, sql);
	int rc;

	proj_bind_text(s, ":name", name);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot look up recipient");
	return rc == SQLITE_ROW;
}

int projection_resolve(struct projection *p, const char *name,
		       enum recipient_kind *out)
{
	static const struct {
		enum stmt_id st;
		const char *sql;
		enum recipient_kind kind;
	} order[] = {
		{ ST_IS_AGENT, is_agent_sql, RECIPIENT_AGENT },
		{ ST_IS_GROUP, is_group_sql, RECIPIENT_GROUP },
		{ ST_IS_ROLE, is_role_sql, RECIPIENT_ROLE },
	};
	size_t i;

	*out = RECIPIENT_NONE;
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		int r = exists(p, order[i].st, order[i].sql, name);

		if (r < 0)
			return -1;
		if (r) {
			*out = order[i].kind;
			break;
		}
	}
	return 0;
}

static const char counts_sql[] =
	"SELECT (SELECT COUNT(*) FROM events_seen),"
	" (SELECT COUNT(*) FROM messages),"
	" (SELECT COUNT(*) FROM agents WHERE reg_ns IS NOT NULL),"
	" (SELECT COUNT(*) FROM skipped_lines),"
	" (SELECT COUNT(*) FROM conflicts),"
	" (SELECT COUNT(*) FROM purged_messages)";

int projection_counts(struct projection *p, struct projection_counts *out)
{
	sqlite3_stmt *s = proj_stmt(p, ST_COUNTS, counts_sql);
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		out->events = sqlite3_column_int64(s, 0);
		out->messages = sqlite3_column_int64(s, 1);
		out->agents = sqlite3_column_int64(s, 2);
		out->skipped = sqlite3_column_int64(s, 3);
		out->conflicts = sqlite3_column_int64(s, 4);
		out->removed = sqlite3_column_int64(s, 5);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : proj_db_error(p, "cannot count");
}

static const char seq_sql[] =
	"SELECT COALESCE(MAX(rowid), 0) FROM messages";

int projection_seq(struct projection *p, int64_t *out)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SEQ, seq_sql);
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : proj_db_error(p, "cannot read the seq");
}

/* two groups of one name (made on two clones): the first one */
static const char group_id_sql[] =
	"SELECT group_id FROM groups WHERE name = :name AND group_id NOT IN"
	PROJ_GROUP_DELETED
	" ORDER BY created_ns, eid LIMIT 1";

int projection_group_id(struct projection *p, const char *name, char **out)
{
	sqlite3_stmt *s = proj_stmt(p, ST_GROUP_ID, group_id_sql);
	int rc;

	*out = NULL;
	proj_bind_text(s, ":name", name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = proj_col_text(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot look up a group");
	return *out ? 0 : THRUM_ENOTFOUND;
}

void group_list_release(struct group_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		free(l->items[i].group_id);
		free(l->items[i].name);
		free(l->items[i].description);
		free(l->items[i].created_by);
		strvec_clear(&l->items[i].members);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static const char groups_sql[] =
	"SELECT group_id, name, description, created_by, created_ns"
	" FROM groups WHERE created_ns IS NOT NULL AND group_id NOT IN"
	PROJ_GROUP_DELETED " ORDER BY name, created_ns";

static const char group_members_sql[] =
	"SELECT member_type, member_value FROM group_members gm"
	" WHERE gm.group_id = :group_id AND" PROJ_MEMBER_NOW("gm")
	" ORDER BY member_type, member_value";

static const struct column group_cols[] = {
	COL(group_info, COL_TEXT, group_id), COL(group_info, COL_TEXT, name),
	COL(group_info, COL_TEXT, description),
	COL(group_info, COL_TEXT, created_by),
	COL(group_info, COL_INT64, created_ns),
};

int projection_groups(struct projection *p, struct group_list *out)
{
	sqlite3_stmt *s;
	size_t i, start = out->nr;
	int rc;

	rc = read_rows(p, proj_stmt(p, ST_GROUPS, groups_sql), next_group, out,
		       sizeof(*out->items), group_cols, ARRAY_SIZE(group_cols),
		       "cannot read groups");
	for (i = start; i < out->nr; i++)
		strvec_init(&out->items[i].members);
	if (rc < 0)
		return -1;
	for (i = 0; i < out->nr; i++) {
		s = proj_stmt(p, ST_GROUP_MEMBERS, group_members_sql);
		proj_bind_text(s, ":group_id", out->items[i].group_id);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			struct strvec *m = &out->items[i].members;
			const char *type, *v;

			type = (const char *)sqlite3_column_text(s, 0);
			v = (const char *)sqlite3_column_text(s, 1);
			if (!strcmp(v, "*"))
				strvec_push(m, "*");
			else if (!strcmp(type, "role"))
				strvec_pushf(m, "role:%s", v);
			else
				strvec_pushf(m, "@%s", v);
		}
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return proj_db_error(p, "cannot read group members");
	}
	return 0;
}

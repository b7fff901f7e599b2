/*
 * projection-read.c: what the reading commands ask beyond the inbox:
 * the scopes and refs of each message (stored from its create, in the
 * event's order, in message_tags), what I sent and who of its resolved
 * recipients read it, and threads.  A thread follows reply_to links,
 * which a log from anywhere may make circular or dangling: every walk
 * here stops at a message it has seen, and a reply whose parent is
 * unknown stands as a root of its own.
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "event.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

static const char tags_clear_sql[] =
	"DELETE FROM message_tags WHERE message_id = :message_id";

static const char tags_add_sql[] =
	"INSERT OR REPLACE INTO message_tags(message_id, kind, pos, type,"
	" value) VALUES(:message_id, :kind, :pos, :type, :value)";

static int add_tags(struct projection *p, const char *msg, const char *kind,
		    const struct event_pair *v, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		sqlite3_stmt *s = proj_stmt(p, ST_TAGS_ADD, tags_add_sql);

		proj_bind_text(s, ":message_id", msg);
		proj_bind_text(s, ":kind", kind);
		proj_bind_int(s, ":pos", (int64_t)i);
		proj_bind_text(s, ":type", v[i].type);
		proj_bind_text(s, ":value", v[i].value);
		if (proj_run(p, s, "cannot store scopes") < 0)
			return -1;
	}
	return 0;
}

int proj_store_tags(struct projection *p, const struct event *ev)
{
	if (proj_run_text(p, ST_TAGS_CLEAR, tags_clear_sql, ":message_id",
			  ev->message_id, "cannot store scopes") < 0 ||
	    add_tags(p, ev->message_id, "scope", ev->scopes,
		     ev->nr_scopes) < 0 ||
	    add_tags(p, ev->message_id, "ref", ev->refs, ev->nr_refs) < 0)
		return -1;
	return 0;
}

static const char msg_tags_sql[] =
	"SELECT kind, type, value FROM message_tags"
	" WHERE message_id = :message_id ORDER BY kind, pos";

static struct strvec *new_strvec(void)
{
	struct strvec *sv = xcalloc(1, sizeof(*sv));

	strvec_init(sv);
	return sv;
}

int proj_load_tags(struct projection *p, struct message *m)
{
	sqlite3_stmt *s = proj_stmt(p, ST_MSG_TAGS, msg_tags_sql);
	int rc;

	m->scopes = new_strvec();
	m->refs = new_strvec();
	proj_bind_text(s, ":message_id", m->message_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s, 0);

		strvec_pushf(strcmp(kind, "scope") ? m->refs : m->scopes,
			     "%s:%s", sqlite3_column_text(s, 1),
			     sqlite3_column_text(s, 2));
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : proj_db_error(p, "cannot read scopes");
}

static const char sent_sql[] =
	"SELECT " MESSAGE_COLUMNS " FROM messages m"
	" WHERE m.agent_id = :me AND NOT m.deleted"
	" AND" PROJ_SIG_SHOWN("m.event_id")
	" ORDER BY m.created_ns DESC, m.message_id DESC LIMIT :limit";

/* the agents the audience of :message_id reaches, as the inbox sees it */
static const char sent_recipients_sql[] =
	"SELECT ag.agent_id, EXISTS (SELECT 1 FROM receipts r"
	"  WHERE r.message_id = :message_id AND r.agent_id = ag.agent_id"
	"  AND r.receipt_type = 'read')"
	" FROM agents ag WHERE ag.reg_ns IS NOT NULL"
	" AND ag.agent_id != :author AND EXISTS ("
	"  SELECT 1 FROM audience a WHERE a.message_id = :message_id"
	"   AND ((a.kind IN ('to', 'mention')"
	"     AND a.value IN (ag.agent_id, ag.role))"
	"   OR a.kind = 'broadcast'"
	"   OR (a.kind = 'group' AND a.value IN ("
	"    SELECT g.name FROM groups g JOIN group_members gm"
	"     ON gm.group_id = g.group_id"
	"    WHERE" PROJ_MEMBER_NOW("gm") " AND g.group_id NOT IN"
	PROJ_GROUP_DELETED
	"    AND ((gm.member_type = 'agent' AND gm.member_value = ag.agent_id)"
	"     OR (gm.member_type = 'role' AND gm.member_value = ag.role)"
	"     OR gm.member_value = '*')))))"
	" ORDER BY ag.agent_id";

static int load_recipients(struct projection *p, struct message *m)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SENT_RECIPIENTS,
				    sent_recipients_sql);
	size_t alloc = 0;
	int rc;

	m->resolved = new_strvec();
	proj_bind_text(s, ":message_id", m->message_id);
	proj_bind_text(s, ":author", m->agent_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		strvec_push(m->resolved,
			    (const char *)sqlite3_column_text(s, 0));
		ALLOC_GROW(m->resolved_read, m->resolved->nr, alloc);
		m->resolved_read[m->resolved->nr - 1] =
			!!sqlite3_column_int(s, 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0
		: proj_db_error(p, "cannot read recipients");
}

/* whether m, its audience and recipients loaded, passes q */
static int sent_wanted(const struct message *m, const struct sent_query *q)
{
	size_t i;
	int unread = 0;

	for (i = 0; i < m->resolved->nr; i++)
		unread |= !m->resolved_read[i];
	if (q->unread_only && !unread)
		return 0;
	if (!q->to)
		return 1;
	for (i = 0; i < m->audience->nr; i++) {
		const char *entry = m->audience->v[i];

		if (!strncmp(entry, "broadcast:", 10)
		    ? !strcmp(q->to, "everyone")
		    : !strcmp(strchr(entry, ':') + 1, q->to))
			return 1;
	}
	return strvec_has(m->resolved, q->to);
}

int projection_sent(struct projection *p, const struct sent_query *q,
		    struct message_list *out)
{
	struct message_list all = MESSAGE_LIST_INIT;
	sqlite3_stmt *s = proj_stmt(p, ST_SENT, sent_sql);
	int filtered = q->to || q->unread_only, ret = -1;
	size_t i;

	proj_bind_text(s, ":me", q->me);
	/* with a filter the limit counts what passes it */
	proj_bind_int(s, ":limit", !filtered && q->limit > 0 ? q->limit : -1);
	if (proj_read_messages(p, s, &all) < 0)
		goto out;
	for (i = 0; i < all.nr; i++) {
		struct message *m = &all.items[i];

		if (q->limit > 0 && out->nr >= (size_t)q->limit)
			break;
		if (proj_load_message(p, m) < 0 || load_recipients(p, m) < 0)
			goto out;
		if (!sent_wanted(m, q))
			continue;
		ALLOC_GROW(out->items, out->nr + 1, out->alloc);
		out->items[out->nr++] = *m;
		memset(m, 0, sizeof(*m));
	}
	ret = 0;
out:
	message_list_release(&all);
	return ret;
}

/* up the reply_to links from :id, stopping at a message seen before */
#define THREAD_UP \
	"WITH RECURSIVE up(id, parent) AS (" \
	"  SELECT message_id, reply_to FROM messages WHERE message_id = :id" \
	"  UNION SELECT m.message_id, m.reply_to FROM messages m" \
	"   JOIN up ON m.message_id = up.parent)," \
	" root(id) AS (SELECT COALESCE((SELECT id FROM up" \
	"  WHERE parent IS NULL" \
	"  OR parent NOT IN (SELECT message_id FROM messages) LIMIT 1), :id))"

static const char thread_sql[] =
	THREAD_UP ","
	" down(id) AS (SELECT id FROM root"
	"  UNION SELECT m.message_id FROM messages m"
	"   JOIN down ON m.reply_to = down.id),"
	" threads(t) AS (SELECT thread_id FROM messages"
	"  WHERE thread_id IS NOT NULL AND message_id IN (SELECT id FROM down))"
	" SELECT " MESSAGE_COLUMNS " FROM messages m"
	" WHERE (m.message_id IN (SELECT id FROM down)"
	" OR m.thread_id IN (SELECT t FROM threads))"
	" AND" PROJ_SIG_SHOWN("m.event_id")
	" ORDER BY m.created_ns, m.message_id";

#define NONE SIZE_MAX

struct by_id {
	const char *id;
	size_t i;
};

static int by_id_cmp(const void *a, const void *b)
{
	return strcmp(((const struct by_id *)a)->id,
		      ((const struct by_id *)b)->id);
}

/*
 * Put l (oldest first) in thread order and say how deep each is: every
 * root (a message whose parent is not in l) with its replies depth
 * first, children oldest first; then, as roots, what a reply_to cycle
 * left unreached.  Iterative, so that a long chain cannot exhaust the
 * stack.
 */
static int *thread_order(struct message_list *l)
{
	size_t n = l->nr ? l->nr : 1, i, k = 0, top, pass;
	struct by_id *ids = xcalloc(n, sizeof(*ids));
	size_t *parent = xcalloc(n, sizeof(size_t));
	size_t *first = xcalloc(n, sizeof(size_t));
	size_t *next = xcalloc(n, sizeof(size_t));
	size_t *cursor = xcalloc(n, sizeof(size_t));
	size_t *stack = xcalloc(n, sizeof(size_t));
	size_t *order = xcalloc(n, sizeof(size_t));
	int *depth = xcalloc(n, sizeof(int));
	unsigned char *seen = xcalloc(n, 1);
	struct message *items;

	for (i = 0; i < l->nr; i++) {
		ids[i].id = l->items[i].message_id;
		ids[i].i = i;
		first[i] = next[i] = NONE;
	}
	qsort(ids, l->nr, sizeof(*ids), by_id_cmp);
	for (i = 0; i < l->nr; i++) {
		struct by_id key = { l->items[i].reply_to, 0 }, *found = NULL;

		if (key.id)
			found = bsearch(&key, ids, l->nr, sizeof(*ids),
					by_id_cmp);
		parent[i] = found && found->i != i ? found->i : NONE;
	}
	for (i = l->nr; i-- > 0;)
		if (parent[i] != NONE) {
			next[i] = first[parent[i]];
			first[parent[i]] = i;
		}
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < l->nr; i++) {
			if (seen[i] || (!pass && parent[i] != NONE))
				continue;
			seen[i] = 1;
			depth[k] = 0;
			order[k++] = i;
			cursor[i] = first[i];
			stack[0] = i;
			top = 1;
			while (top) {
				size_t x = stack[top - 1], c = cursor[x];

				if (c == NONE) {
					top--;
					continue;
				}
				cursor[x] = next[c];
				if (seen[c])
					continue;
				seen[c] = 1;
				depth[k] = (int)top;
				order[k++] = c;
				cursor[c] = first[c];
				stack[top++] = c;
			}
		}
	items = xcalloc(n, sizeof(*items));
	for (i = 0; i < l->nr; i++)
		items[i] = l->items[order[i]];
	free(l->items);
	l->items = items;
	l->alloc = n;
	free(ids);
	free(parent);
	free(first);
	free(next);
	free(cursor);
	free(stack);
	free(order);
	free(seen);
	return depth;
}

/* a deleted message keeps its place in a thread, not its words */
static void blank_deleted(struct message *m)
{
	if (m->deleted) {
		free(m->content);
		m->content = xstrdup("");
	}
}

int projection_thread(struct projection *p, const char *id, const char *me,
		      struct message_list *out, int **depth)
{
	struct message_list one = MESSAGE_LIST_INIT;
	sqlite3_stmt *s;
	size_t i;
	int ret;

	*depth = NULL;
	ret = projection_message(p, id, me, &one);
	if (ret)
		goto out;
	s = proj_stmt(p, ST_THREAD, thread_sql);
	proj_bind_text(s, ":id", one.items[0].message_id);
	proj_bind_text(s, ":me", me ? me : "");
	ret = -1;
	if (proj_read_messages(p, s, out) < 0 ||
	    proj_load_audiences(p, out, 0) < 0)
		goto out;
	for (i = 0; i < out->nr; i++)
		blank_deleted(&out->items[i]);
	*depth = thread_order(out);
	ret = 0;
out:
	message_list_release(&one);
	return ret;
}

static const char thread_root_sql[] = THREAD_UP " SELECT id FROM root";

static int thread_root(struct projection *p, const struct message *m,
		       char **root)
{
	sqlite3_stmt *s;
	int rc;

	if (!m->reply_to) {
		*root = xstrdup(m->message_id);
		return 0;
	}
	s = proj_stmt(p, ST_THREAD_ROOT, thread_root_sql);
	proj_bind_text(s, ":id", m->message_id);
	rc = sqlite3_step(s);
	*root = rc == SQLITE_ROW ? proj_col_text(s, 0) : NULL;
	sqlite3_reset(s);
	if (!*root)
		return proj_db_error(p, "cannot find the root of a thread");
	return 0;
}

/* append item (moved: zeroed in its old place) to l at depth d */
static void move_to(struct message_list *l, struct message *item,
		    int **depth, size_t *alloc, int d)
{
	ALLOC_GROW(l->items, l->nr + 1, l->alloc);
	ALLOC_GROW(*depth, l->nr + 1, *alloc);
	(*depth)[l->nr] = d;
	l->items[l->nr++] = *item;
	memset(item, 0, sizeof(*item));
}

int projection_fold_threads(struct projection *p, const char *me,
			    struct message_list *in,
			    struct message_list *out, int **depth)
{
	struct strvec roots = STRVEC_INIT, order = STRVEC_INIT;
	size_t i, j, g, alloc = 0;
	int ret = -1;

	*depth = NULL;
	for (i = 0; i < in->nr; i++) {
		char *root;

		if (thread_root(p, &in->items[i], &root) < 0)
			goto out;
		strvec_push(&roots, root);
		/* newest first: a thread is first seen at its latest */
		if (!strvec_has(&order, root))
			strvec_push(&order, root);
		free(root);
	}
	for (g = 0; g < order.nr; g++) {
		const char *root = order.v[g];
		size_t at = NONE;

		for (i = 0; i < in->nr && at == NONE; i++)
			if (in->items[i].message_id &&
			    !strcmp(roots.v[i], root) &&
			    !strcmp(in->items[i].message_id, root))
				at = i;
		if (at != NONE) {
			move_to(out, &in->items[at], depth, &alloc, 0);
		} else {
			size_t start = out->nr;

			int r = projection_message(p, root, me, out);

			if (r || out->nr != start + 1) {
				if (r != -1)
					error("cannot read message '%s'", root);
				goto out;
			}
			blank_deleted(&out->items[start]);
			ALLOC_GROW(*depth, out->nr, alloc);
			(*depth)[start] = 0;
		}
		for (j = in->nr; j-- > 0;)
			if (in->items[j].message_id &&
			    !strcmp(roots.v[j], root))
				move_to(out, &in->items[j], depth, &alloc, 1);
	}
	ret = 0;
out:
	message_list_release(in);
	strvec_clear(&roots);
	strvec_clear(&order);
	return ret;
}

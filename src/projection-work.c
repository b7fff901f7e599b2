/*
 * projection-work.c: work contexts (agent.update) in the projection.
 * The specification merges an agent's contexts by session id: a newer
 * context for a session replaces that session's, the others stay.  Each
 * context is a fact kept with the instant and event_id it came from; a
 * session shows the newest whose event counts by its signature
 * (Documentation/security.adoc), chosen when read, so any order of
 * arrival, a key that arrives late, and a rebuild give the same
 * contexts.  Only open sessions are shown, and a context counts only for
 * a session its own agent started.
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "event.h"
#include "wrapper.h"

/*
 * Every context is kept, by event: which one a session shows depends on
 * which events count (their signatures), and a registration can change
 * that after they arrived.  The newest that counts is read (WORK_NEWEST).
 */
static const char work_upsert_sql[] =
	"INSERT OR IGNORE INTO work_contexts(agent_id, session_id, branch,"
	" worktree_path, git_updated_at, intent, ns, eid)"
	/* a removed session's too: only what sessions holds shows */
	" SELECT :agent_id, :session_id, :branch, :worktree_path,"
	" :git_updated_at, :intent, :ns, :eid";

static const char work_file_add_sql[] =
	"INSERT OR IGNORE INTO work_files(agent_id, session_id, eid,"
	" uncommitted, path)"
	" VALUES(:agent_id, :session_id, :eid, :uncommitted, :path)";

/* the event_id of the newest context of (agent, session) that counts */
#define WORK_NEWEST(agent, session) \
	" (SELECT v.eid FROM work_contexts v WHERE v.agent_id = " agent \
	"  AND v.session_id = " session " AND" PROJ_SIG_COUNTS("v.eid") \
	"  ORDER BY v.ns DESC, v.eid DESC LIMIT 1)"

static int add_files(struct projection *p, const char *agent,
		     const char *session, const char *eid, int uncommitted,
		     char **files, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		sqlite3_stmt *s = proj_stmt(p, ST_WORK_FILE_ADD,
					    work_file_add_sql);

		proj_bind_text(s, ":agent_id", agent);
		proj_bind_text(s, ":session_id", session);
		proj_bind_text(s, ":eid", eid);
		proj_bind_int(s, ":uncommitted", uncommitted);
		proj_bind_text(s, ":path", files[i]);
		if (proj_run(p, s, "cannot store a work file") < 0)
			return -1;
	}
	return 0;
}

static int apply_one(struct projection *p, const struct event *ev,
		     const struct event_work_context *wc)
{
	sqlite3_stmt *s = proj_stmt(p, ST_WORK_UPSERT, work_upsert_sql);

	proj_bind_text(s, ":agent_id", ev->agent_id);
	proj_bind_text(s, ":session_id", wc->session_id);
	proj_bind_text(s, ":branch", wc->branch);
	proj_bind_text(s, ":worktree_path", wc->worktree_path);
	proj_bind_text(s, ":git_updated_at", wc->git_updated_at);
	proj_bind_text(s, ":intent", wc->intent);
	proj_bind_int(s, ":ns", ev->ts_ns);
	proj_bind_text(s, ":eid", ev->event_id);
	if (proj_run(p, s, "cannot store a work context") < 0)
		return -1;
	if (!sqlite3_changes(p->db))
		return 0;	/* the same session twice, or purged */
	return add_files(p, ev->agent_id, wc->session_id, ev->event_id, 0,
			 wc->changed_files, wc->nr_changed) < 0 ||
	       add_files(p, ev->agent_id, wc->session_id, ev->event_id, 1,
			 wc->uncommitted_files, wc->nr_uncommitted) < 0
		       ? -1 : 0;
}

int proj_apply_work(struct projection *p, const struct event *ev)
{
	size_t i;

	for (i = 0; i < ev->nr_wcs; i++)
		if (apply_one(p, ev, &ev->wcs[i]) < 0)
			return -1;
	return 0;
}

void work_list_release(struct work_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		free(l->items[i].agent_id);
		free(l->items[i].name);
		event_work_context_release(&l->items[i].wc);
	}
	free(l->items);
	l->items = NULL;
	l->nr = l->alloc = 0;
}

struct work_row *work_list_add(struct work_list *l)
{
	ALLOC_GROW(l->items, l->nr + 1, l->alloc);
	memset(&l->items[l->nr], 0, sizeof(l->items[0]));
	return &l->items[l->nr++];
}

static const char work_all_sql[] =
	"SELECT w.agent_id, a.name, w.session_id, w.branch, w.worktree_path,"
	" w.git_updated_at, w.intent, w.ns"
	" FROM work_contexts w"
	" JOIN sessions s ON s.session_id = w.session_id"
	"  AND s.agent_id = w.agent_id AND s.ended_ns IS NULL"
	"  AND w.eid =" WORK_NEWEST("w.agent_id", "w.session_id")
	" LEFT JOIN agents a ON a.agent_id = w.agent_id"
	" ORDER BY COALESCE(a.name, w.agent_id), w.agent_id, w.session_id";

static const char work_files_sql[] =
	"SELECT uncommitted, path FROM work_files"
	" WHERE agent_id = :agent_id AND session_id = :session_id"
	" AND eid =" WORK_NEWEST(":agent_id", ":session_id")
	" ORDER BY uncommitted, path";

static int read_files(struct projection *p, struct work_row *row)
{
	sqlite3_stmt *s = proj_stmt(p, ST_WORK_FILES, work_files_sql);
	int rc;

	proj_bind_text(s, ":agent_id", row->agent_id);
	proj_bind_text(s, ":session_id", row->wc.session_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		event_work_context_add_file(&row->wc,
			sqlite3_column_int(s, 0),
			(const char *)sqlite3_column_text(s, 1));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0
	       : proj_db_error(p, "cannot read work files");
}

int projection_work_contexts(struct projection *p, struct work_list *out)
{
	sqlite3_stmt *s = proj_stmt(p, ST_WORK_ALL, work_all_sql);
	size_t i, first = out->nr;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct work_row *row = work_list_add(out);

		row->agent_id = proj_col_text(s, 0);
		row->name = proj_col_text(s, 1);
		row->wc.session_id = proj_col_text(s, 2);
		row->wc.branch = proj_col_text(s, 3);
		row->wc.worktree_path = proj_col_text(s, 4);
		row->wc.git_updated_at = proj_col_text(s, 5);
		row->wc.intent = proj_col_text(s, 6);
		row->ns = sqlite3_column_int64(s, 7);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return proj_db_error(p, "cannot read work contexts");
	for (i = first; i < out->nr; i++)
		if (read_files(p, &out->items[i]) < 0)
			return -1;
	return 0;
}

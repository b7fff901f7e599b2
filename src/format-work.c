/*
 * format-work.c: what `team`, `who-has` and `overview` print of work
 * contexts (format.h).  Text from the log passes through format_safe();
 * --json keeps exact strings.
 */
#include "thrum.h"

#include <json-c/json.h>

#include "format.h"
#include "format-internal.h"
#include "date.h"
#include "identity.h"
#include "projection.h"
#include "strbuf.h"
#include "sync.h"

static json_object *files_array(char **files, size_t nr)
{
	json_object *arr = json_object_new_array_ext(nr);
	size_t i;

	for (i = 0; i < nr; i++)
		json_object_array_add(arr, json_object_new_string(files[i]));
	return arr;
}

/* distinct files of both (sorted) lists: the change count */
static size_t changes(const struct event_work_context *wc)
{
	size_t i = 0, j = 0, n = 0;

	while (i < wc->nr_changed || j < wc->nr_uncommitted) {
		int c = i == wc->nr_changed ? 1 : j == wc->nr_uncommitted ? -1
			: strcmp(wc->changed_files[i],
				 wc->uncommitted_files[j]);

		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
		n++;
	}
	return n;
}

static void put_when(json_object *o, const char *key, int64_t ns)
{
	char buf[DATE_RFC3339_LEN + 1];

	date_format_rfc3339_sec(ns, buf);
	format_put(o, key, ns ? buf : NULL);
}

static json_object *context_json(const struct work_row *r)
{
	const struct event_work_context *wc = &r->wc;
	json_object *e = json_object_new_object();

	format_put(e, "session_id", wc->session_id);
	format_put(e, "branch", wc->branch);
	format_put(e, "worktree_path", wc->worktree_path);
	json_object_object_add(e, "changed_files",
			       files_array(wc->changed_files, wc->nr_changed));
	json_object_object_add(e, "uncommitted_files",
			       files_array(wc->uncommitted_files,
					   wc->nr_uncommitted));
	json_object_object_add(e, "changes",
			       json_object_new_int64((int64_t)changes(wc)));
	put_when(e, "updated_at", r->ns);
	return e;
}

json_object *format_work_array(const struct work_list *w,
			       const char *agent_id)
{
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < w->nr; i++)
		if (!strcmp(w->items[i].agent_id, agent_id))
			json_object_array_add(arr,
					      context_json(&w->items[i]));
	return arr;
}

/* "on topic: 3 changes" */
static void context_text(struct strbuf *sb, const struct event_work_context *wc)
{
	size_t n = changes(wc);

	strbuf_addstr(sb, "on ");
	if (wc->branch)
		format_escape(sb, wc->branch, 0);
	else
		strbuf_addstr(sb, "(no branch)");
	strbuf_addf(sb, ": %zu change%s", n, n == 1 ? "" : "s");
}

void format_work_lines(const struct work_list *w, const char *agent_id,
		       FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < w->nr; i++) {
		if (strcmp(w->items[i].agent_id, agent_id))
			continue;
		strbuf_reset(&sb);
		context_text(&sb, &w->items[i].wc);
		fprintf(out, "  %s\n", sb.buf);
	}
	strbuf_release(&sb);
}

static int has_file(char **files, size_t nr, const char *path)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (!strcmp(files[i], path))
			return 1;
	return 0;
}

void format_who_has_json(const char *path, const struct work_list *w,
			 FILE *out)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array_ext(w->nr);
	size_t i;

	for (i = 0; i < w->nr; i++) {
		const struct work_row *r = &w->items[i];
		const struct event_work_context *wc = &r->wc;
		json_object *e = json_object_new_object();

		format_put(e, "agent_id", r->agent_id);
		format_put(e, "name", r->name);
		format_put(e, "session_id", wc->session_id);
		format_put(e, "branch", wc->branch);
		format_put(e, "worktree_path", wc->worktree_path);
		json_object_object_add(e, "uncommitted", json_object_new_boolean(
			has_file(wc->uncommitted_files, wc->nr_uncommitted,
				 path)));
		json_object_object_add(e, "committed", json_object_new_boolean(
			has_file(wc->changed_files, wc->nr_changed, path)));
		json_object_object_add(e, "live",
				       json_object_new_boolean(r->live));
		put_when(e, "updated_at", r->ns);
		json_object_array_add(arr, e);
	}
	format_put(o, "path", path);
	json_object_object_add(o, "agents", arr);
	format_json(o, out);
}

void format_who_has_text(const char *path, const struct work_list *w,
			 FILE *out)
{
	struct strbuf sb = STRBUF_INIT, name = STRBUF_INIT;
	size_t i;

	if (!w->nr)
		fprintf(out, "nobody is editing %s\n", format_safe(&sb, path));
	for (i = 0; i < w->nr; i++) {
		const struct work_row *r = &w->items[i];
		const struct event_work_context *wc = &r->wc;
		int unc = has_file(wc->uncommitted_files, wc->nr_uncommitted,
				   path);
		int com = has_file(wc->changed_files, wc->nr_changed, path);

		format_safe(&name, r->name ? r->name : r->agent_id);
		strbuf_reset(&sb);
		context_text(&sb, wc);
		fprintf(out, "%s: %s%s%s, %s%s\n", name.buf,
			unc ? "uncommitted" : "", unc && com ? " and " : "",
			com ? "committed" : "", sb.buf,
			r->live ? " (this machine, now)" : "");
	}
	strbuf_release(&sb);
	strbuf_release(&name);
}

/* the active agents and the work contexts of each, in --json */
static json_object *team_json(const struct overview *o)
{
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < o->agents->nr; i++) {
		const struct agent_info *a = &o->agents->items[i];
		json_object *e;

		if (!a->session_id)
			continue;
		e = json_object_new_object();
		format_put(e, "name", a->name ? a->name : a->agent_id);
		format_put(e, "role", a->role);
		format_put(e, "intent", a->intent);
		json_object_object_add(e, "work_contexts",
			format_work_array(o->work, a->agent_id));
		json_object_array_add(arr, e);
	}
	return arr;
}

void format_overview_json(const struct overview *o, FILE *out)
{
	json_object *obj = json_object_new_object();
	json_object *me = NULL, *sync = json_object_new_object();
	const struct sync_status *st = o->sync;

	if (o->me) {
		me = json_object_new_object();
		format_put(me, "name", o->me->name);
		format_put(me, "agent_id", o->me->agent_id);
		format_put(me, "role", o->me->role);
		format_put(me, "module", o->me->module);
		format_put(me, "session_id", o->me->session_id);
		format_put(me, "intent", o->me->intent);
	}
	json_object_object_add(obj, "me", me);
	json_object_object_add(obj, "unread",
			       json_object_new_int64(o->unread));
	format_put(sync, "state", sync_state_name(st->state));
	format_put(sync, "last_sync_at", st->last_sync_at);
	format_put(sync, "last_error", st->last_error);
	json_object_object_add(sync, "ahead", json_object_new_int64(st->ahead));
	json_object_object_add(sync, "behind",
			       json_object_new_int64(st->behind));
	json_object_object_add(sync, "local_only",
			       json_object_new_boolean(o->local_only));
	json_object_object_add(sync, "daemon_running",
			       json_object_new_boolean(st->daemon_pid != 0));
	json_object_object_add(sync, "peers",
			       json_object_new_int64((int64_t)o->peers));
	json_object_object_add(obj, "sync", sync);
	json_object_object_add(obj, "team", team_json(o));
	format_json(obj, out);
}

static void overview_team(const struct overview *o, FILE *out)
{
	struct strbuf sb = STRBUF_INIT, name = STRBUF_INIT;
	size_t i, j, active = 0, width = 4;

	for (i = 0; i < o->agents->nr; i++) {
		const struct agent_info *a = &o->agents->items[i];

		if (!a->session_id)
			continue;
		active++;
		format_safe(&name, a->name ? a->name : a->agent_id);
		if (name.len > width)
			width = name.len;
	}
	fprintf(out, "team:     %zu active of %zu agent%s\n", active,
		o->agents->nr, o->agents->nr == 1 ? "" : "s");
	for (i = 0; i < o->agents->nr; i++) {
		const struct agent_info *a = &o->agents->items[i];
		int shown = 0;

		if (!a->session_id)
			continue;
		format_safe(&name, a->name ? a->name : a->agent_id);
		for (j = 0; j < o->work->nr; j++) {
			if (strcmp(o->work->items[j].agent_id, a->agent_id))
				continue;
			strbuf_reset(&sb);
			context_text(&sb, &o->work->items[j].wc);
			fprintf(out, "  %-*s  %s\n", (int)width,
				shown ? "" : name.buf, sb.buf);
			shown = 1;
		}
		if (!shown)
			fprintf(out, "  %s\n", name.buf);
	}
	strbuf_release(&sb);
	strbuf_release(&name);
}

void format_overview_text(const struct overview *o, FILE *out)
{
	const struct sync_status *st = o->sync;
	struct strbuf sb = STRBUF_INIT;

	if (o->me) {
		fprintf(out, "me:       %s", format_safe(&sb, o->me->name));
		fprintf(out, " (role %s,", format_safe(&sb, o->me->role
						       ? o->me->role : "-"));
		fprintf(out, " module %s)\n", format_safe(&sb, o->me->module
						       ? o->me->module : "-"));
		fprintf(out, "session:  %s\n", o->me->session_id
			? format_safe(&sb, o->me->session_id) : "none");
		if (o->me->intent)
			fprintf(out, "intent:   %s\n",
				format_safe(&sb, o->me->intent));
	} else {
		fprintf(out, "me:       nobody (no identity here)\n");
	}
	fprintf(out, "unread:   %ld\n", o->unread);
	fprintf(out, "sync:     %s%s, last %s, %ld ahead, %ld behind\n",
		sync_state_name(st->state),
		o->local_only && st->state != SYNC_LOCAL_ONLY
			? " (local only)" : "",
		st->last_sync_at ? st->last_sync_at : "never", st->ahead,
		st->behind);
	if (st->last_error)
		fprintf(out, "          %s\n", format_safe(&sb, st->last_error));
	fprintf(out, "daemon:   %s\n", st->daemon_pid ? "running" : "stopped");
	if (o->peers)
		fprintf(out, "peers:    %zu\n", o->peers);
	else
		fprintf(out, "peers:    none\n");
	overview_team(o, out);
	strbuf_release(&sb);
}

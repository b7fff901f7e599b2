/*
 * event-wc.c: the work contexts of agent.update, in the original's
 * SessionWorkContext shape (session_id, branch, worktree_path,
 * changed_files, uncommitted_files, git_updated_at, intent).  Reading is
 * lenient per context, as the rest of the codec is about content: a
 * context without a usable session_id is not represented (nothing could
 * merge it by session), a field of the wrong type is left out; the line
 * itself stays in the log untouched.
 */
#include "thrum.h"
#include "event-internal.h"
#include "event.h"
#include "wrapper.h"

void event_work_context_release(struct event_work_context *wc)
{
	size_t i;

	free(wc->session_id);
	free(wc->branch);
	free(wc->worktree_path);
	free(wc->git_updated_at);
	free(wc->intent);
	for (i = 0; i < wc->nr_changed; i++)
		free(wc->changed_files[i]);
	free(wc->changed_files);
	for (i = 0; i < wc->nr_uncommitted; i++)
		free(wc->uncommitted_files[i]);
	free(wc->uncommitted_files);
	memset(wc, 0, sizeof(*wc));
}

void event_work_context_add_file(struct event_work_context *wc,
				 int uncommitted, const char *path)
{
	char ***list = uncommitted ? &wc->uncommitted_files
				   : &wc->changed_files;
	size_t *nr = uncommitted ? &wc->nr_uncommitted : &wc->nr_changed;

	*list = xrealloc(*list, (*nr + 1) * sizeof(**list));
	(*list)[(*nr)++] = xstrdup(path);
}

/* obj[key] when it is a string, else NULL */
static char *opt_string(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return xstrndup(json_object_get_string(v),
			json_object_get_string_len(v));
}

static void take_files(json_object *obj, const char *key,
		       struct event_work_context *wc, int uncommitted)
{
	json_object *arr;
	size_t i, n;

	if (!json_object_object_get_ex(obj, key, &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);

		if (json_object_is_type(e, json_type_string) &&
		    json_object_get_string_len(e))
			event_work_context_add_file(wc, uncommitted,
						    json_object_get_string(e));
	}
}

int event_wc_parse(json_object *obj, struct event *ev)
{
	json_object *arr;
	size_t i, n;

	if (!json_object_object_get_ex(obj, "work_contexts", &arr) || !arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return -1;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		struct event_work_context wc = { 0 };

		if (!json_object_is_type(e, json_type_object))
			continue;
		wc.session_id = opt_string(e, "session_id");
		if (!wc.session_id || !event_opaque_id(wc.session_id)) {
			event_work_context_release(&wc);
			continue;
		}
		wc.branch = opt_string(e, "branch");
		wc.worktree_path = opt_string(e, "worktree_path");
		wc.git_updated_at = opt_string(e, "git_updated_at");
		wc.intent = opt_string(e, "intent");
		take_files(e, "changed_files", &wc, 0);
		take_files(e, "uncommitted_files", &wc, 1);
		ev->wcs = xrealloc(ev->wcs, (ev->nr_wcs + 1) * sizeof(wc));
		ev->wcs[ev->nr_wcs++] = wc;
	}
	return 0;
}

static void put(json_object *obj, const char *key, const char *value)
{
	if (value)
		json_object_object_add(obj, key, json_object_new_string(value));
}

static void put_files(json_object *obj, const char *key, char **files,
		      size_t nr)
{
	json_object *arr;
	size_t i;

	if (!nr)
		return;	/* omitempty, as the original writes them */
	arr = json_object_new_array_ext(nr);
	for (i = 0; i < nr; i++)
		json_object_array_add(arr, json_object_new_string(files[i]));
	json_object_object_add(obj, key, arr);
}

json_object *event_wc_array(const struct event *ev)
{
	json_object *arr = json_object_new_array_ext(ev->nr_wcs);
	size_t i;

	for (i = 0; i < ev->nr_wcs; i++) {
		const struct event_work_context *wc = &ev->wcs[i];
		json_object *o = json_object_new_object();

		put(o, "session_id", wc->session_id);
		put(o, "branch", wc->branch);
		put(o, "worktree_path", wc->worktree_path);
		put_files(o, "changed_files", wc->changed_files,
			  wc->nr_changed);
		put_files(o, "uncommitted_files", wc->uncommitted_files,
			  wc->nr_uncommitted);
		put(o, "git_updated_at", wc->git_updated_at);
		put(o, "intent", wc->intent);
		json_object_array_add(arr, o);
	}
	return arr;
}

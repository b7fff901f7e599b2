/*
 * event-tags.c: an event's scopes, refs and recipients (the original's
 * [{"type","value"}] arrays): building them, reading and writing them in
 * the codec, freeing them.
 */
#include "thrum.h"
#include "event.h"
#include "event-internal.h"
#include "sign.h"
#include "wrapper.h"

void event_free_pairs(struct event_pair *p, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(p[i].type);
		free(p[i].value);
	}
	free(p);
}

static void add_pair(struct event_pair **list, size_t *nr, const char *type,
		     const char *value)
{
	*list = xrealloc(*list, (*nr + 1) * sizeof(**list));
	(*list)[*nr].type = xstrdup(type);
	(*list)[*nr].value = xstrdup(value);
	(*nr)++;
}

void event_add_scope(struct event *ev, const char *type, const char *value)
{
	add_pair(&ev->scopes, &ev->nr_scopes, type, value);
}

void event_add_ref(struct event *ev, const char *type, const char *value)
{
	add_pair(&ev->refs, &ev->nr_refs, type, value);
}

int event_tag_addressing(const char *type, size_t len, int is_ref)
{
	static const char *const kinds[] = { "broadcast", "group",
					     "mention", "reply_to" };
	size_t i;

	for (i = 0; i < (is_ref ? ARRAY_SIZE(kinds) : 2); i++)
		if (strlen(kinds[i]) == len && !strncmp(type, kinds[i], len))
			return 1;
	return 0;
}

void event_add_recipient(struct event *ev, const char *name)
{
	ev->recipients = xrealloc(ev->recipients,
				  (ev->nr_recipients + 1) * sizeof(char *));
	ev->recipients[ev->nr_recipients++] = xstrdup(name);
}

int event_add_vouched(struct event *ev, const char *entry)
{
	const char *colon = strchr(entry, ':');

	if (!colon || colon - entry != SIGN_DIGEST_TEXT_MAX ||
	    !event_opaque_id(colon + 1) || ev->nr_vouched >= EVENT_VOUCH_MAX)
		return -1;
	ev->vouched = xrealloc(ev->vouched,
			       (ev->nr_vouched + 1) * sizeof(char *));
	ev->vouched[ev->nr_vouched++] = xstrdup(entry);
	return 0;
}

int event_get_pairs(json_object *obj, const char *key,
		    struct event_pair **list, size_t *nr)
{
	json_object *arr;
	size_t i, n;

	if (!json_object_object_get_ex(obj, key, &arr) || !arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return -1;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i), *t, *val;

		if (!json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, "type", &t) ||
		    !json_object_object_get_ex(e, "value", &val) ||
		    !json_object_is_type(t, json_type_string) ||
		    !json_object_is_type(val, json_type_string))
			return -1;
		add_pair(list, nr, json_object_get_string(t),
			 json_object_get_string(val));
	}
	return 0;
}

json_object *event_pairs_array(const struct event_pair *p, size_t nr)
{
	json_object *arr = json_object_new_array_ext(nr);
	size_t i;

	for (i = 0; i < nr; i++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "type",
				       json_object_new_string(p[i].type));
		json_object_object_add(e, "value",
				       json_object_new_string(p[i].value));
		json_object_array_add(arr, e);
	}
	return arr;
}

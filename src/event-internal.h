#ifndef THRUM_EVENT_INTERNAL_H
#define THRUM_EVENT_INTERNAL_H

/*
 * Shared by the files of the event codec (event.c, event-tags.c,
 * event-wc.c) and by nothing else: json-c stays inside the codec.
 */
#include <json-c/json.h>

struct event;

/*
 * work_contexts[] of obj into ev->wcs: each object with a valid
 * session_id, its string fields and its arrays of strings (an element of
 * another type is left out, as are the original's fields we do not
 * represent).  Absent or null: none.  0, or -1 when work_contexts is not
 * an array.
 */
int event_wc_parse(json_object *obj, struct event *ev);

/* ev's work contexts as a new JSON array (the caller owns it) */
json_object *event_wc_array(const struct event *ev);

/*
 * Scopes and refs: obj's array key into *list (absent or null: none);
 * 0, or -1 when it is not an array of {"type","value"} strings.
 */
struct event_pair;
int event_get_pairs(json_object *obj, const char *key,
		    struct event_pair **list, size_t *nr);
/* p[0..nr) as a new JSON array */
json_object *event_pairs_array(const struct event_pair *p, size_t nr);
void event_free_pairs(struct event_pair *p, size_t nr);

#endif

/*
 * format-read.c: the parts of a message's output that the reading
 * commands add (format.c draws the rest): its scopes and refs, in the
 * original's [{"type","value"}] shape in --json and as notes on the
 * header line, and, under a message I sent, who of its recipients read
 * it.  Text from the log is escaped as format_escape() says.
 */
#include "thrum.h"
#include <json-c/json.h>
#include "format.h"
#include "format-internal.h"
#include "event.h"
#include "projection.h"
#include "strbuf.h"
#include "strvec.h"

struct json_object *format_tags_json(const struct strvec *tags)
{
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; tags && i < tags->nr; i++) {
		json_object *t = json_object_new_object();
		const char *v = tags->v[i], *colon = strchr(v, ':');

		json_object_object_add(t, "type", json_object_new_string_len(
			v, (int)(colon - v)));
		json_object_object_add(t, "value",
				       json_object_new_string(colon + 1));
		json_object_array_add(arr, t);
	}
	return arr;
}

struct json_object *format_recipient_state_json(const struct message *m)
{
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < m->resolved->nr; i++) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "agent_id",
				json_object_new_string(m->resolved->v[i]));
		json_object_object_add(r, "read",
				json_object_new_boolean(m->resolved_read[i]));
		json_object_array_add(arr, r);
	}
	return arr;
}

void format_tags_text(const struct strvec *tags, int is_ref, int use_color,
		      FILE *out)
{
	struct strbuf note = STRBUF_INIT;
	size_t i;

	for (i = 0; tags && i < tags->nr; i++) {
		const char *v = tags->v[i];

		if (event_tag_addressing(v, strchr(v, ':') - v, is_ref))
			continue;
		fprintf(out, " %s(%s %s)%s", COLOR(C_NOTE),
			is_ref ? "ref" : "scope", format_safe(&note, v),
			COLOR(C_RESET));
	}
	strbuf_release(&note);
}

void format_recipient_state_text(const struct message *m, const char *indent,
				 int use_color, FILE *out)
{
	struct strbuf who = STRBUF_INIT;
	size_t i;
	int pass;

	if (!m->resolved->nr)
		fprintf(out, "%s    %s(no recipient)%s\n", indent,
			COLOR(C_NOTE), COLOR(C_RESET));
	for (pass = 1; pass >= 0; pass--) {
		strbuf_reset(&who);
		for (i = 0; i < m->resolved->nr; i++) {
			if (m->resolved_read[i] != pass)
				continue;
			if (who.len)
				strbuf_addstr(&who, ", ");
			format_escape(&who, m->resolved->v[i], 0);
		}
		if (who.len)
			fprintf(out, "%s    %s%s:%s %s\n", indent,
				COLOR(C_NOTE), pass ? "read" : "unread",
				COLOR(C_RESET), who.buf);
	}
	strbuf_release(&who);
}

void format_marked_json(size_t n, FILE *out)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "marked", json_object_new_int64((int64_t)n));
	format_json(o, out);
}

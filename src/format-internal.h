#ifndef THRUM_FORMAT_INTERNAL_H
#define THRUM_FORMAT_INTERNAL_H

/*
 * Shared by the format*.c files only (format.c, format-read.c,
 * format-work.c): the colours of the human forms
 * (COLOR() needs a use_color in scope) and the parts of a message's output
 * that format-read.c draws: its scopes and refs, who read what I sent.
 */
struct json_object;
struct message;
struct strvec;
struct work_list;

#define COLOR(code) (use_color ? (code) : "")
#define C_RESET "\033[m"
#define C_ID "\033[33m"	/* yellow, as git shows commit ids */
#define C_UNREAD "\033[1;33m"
#define C_WHO "\033[1m"
#define C_WHEN "\033[32m"
#define C_HIGH "\033[31m"
#define C_NOTE "\033[2m"

/* o[key] = v as a JSON string, or null */
void format_put(struct json_object *o, const char *key, const char *v);

/* [{"type","value"}...] of "type:value" entries (NULL: []), new */
struct json_object *format_tags_json(const struct strvec *tags);
/* [{"agent_id","read"}...] of the recipients projection_sent() found */
struct json_object *format_recipient_state_json(const struct message *m);

/*
 * " (scope type:value)" (is_ref: " (ref type:value)") for each entry
 * of tags that only describes the message (those that address it are
 * its "to"), on the header line
 */
void format_tags_text(const struct strvec *tags, int is_ref, int use_color,
		      FILE *out);
/* "read: a, b" and "unread: c" under a message I sent, after indent */
void format_recipient_state_text(const struct message *m, const char *indent,
				 int use_color, FILE *out);

/* the work contexts of agent_id in w, as a new JSON array */
struct json_object *format_work_array(const struct work_list *w,
				      const char *agent_id);

/* "  on <branch>: <n> changes" for each work context of agent_id in w */
void format_work_lines(const struct work_list *w, const char *agent_id,
		       FILE *out);

#endif

/*
 * event.c owns the event codec.  Reading is strict about shape (one JSON
 * object, valid UTF-8, nothing after it, string fields that are strings,
 * the fields each known type needs) and lenient about content: unknown
 * types and unknown fields parse fine and are simply not represented, so
 * the projection ignores them while the log keeps their bytes.  Writing is
 * canonical: keys sorted at every level, compact, "/" unescaped.
 */
#include "thrum.h"
#include <json-c/json.h>
#include "event.h"
#include "event-internal.h"
#include "date.h"
#include "sign.h"
#include "strbuf.h"
#include "ulid.h"
#include "wrapper.h"

static const char *const type_names[EV_TYPE_MAX] = {
	[EV_UNKNOWN] = NULL,
	[EV_MESSAGE_CREATE] = "message.create",
	[EV_MESSAGE_EDIT] = "message.edit",
	[EV_MESSAGE_DELETE] = "message.delete",
	[EV_MESSAGE_RECEIPT] = "message.receipt",
	[EV_AGENT_REGISTER] = "agent.register",
	[EV_AGENT_SESSION_START] = "agent.session.start",
	[EV_AGENT_SESSION_END] = "agent.session.end",
	[EV_AGENT_UPDATE] = "agent.update",
	[EV_AGENT_CLEANUP] = "agent.cleanup",
	[EV_GROUP_CREATE] = "group.create",
	[EV_GROUP_MEMBER_ADD] = "group.member.add",
	[EV_GROUP_MEMBER_REMOVE] = "group.member.remove",
	[EV_GROUP_UPDATE] = "group.update",
	[EV_GROUP_DELETE] = "group.delete",
	[EV_PURGE_EXECUTED] = "purge.executed",
	[EV_AGENT_VOUCH] = "agent.vouch",
};

/* the plain string fields, by JSON key */
static const struct {
	const char *key;
	size_t off;
} str_fields[] = {
#define F(name) { #name, offsetof(struct event, name) }
	F(agent_id), F(cutoff), F(description), F(display), F(event_id),
	F(group_id), F(hostname), F(kind), F(member_type), F(member_value),
	F(message_id), F(method), F(module), F(name), F(origin_daemon),
	F(priority), F(pubkey), F(reason), F(receipt_type), F(role),
	F(session_id), F(thread_id),
	F(timestamp), F(worktree),
#undef F
};

/* who did it, under the key the original uses for each group event */
static const char *actor_key(enum event_type type)
{
	switch (type) {
	case EV_GROUP_CREATE:
		return "created_by";
	case EV_GROUP_MEMBER_ADD:
		return "added_by";
	case EV_GROUP_MEMBER_REMOVE:
		return "removed_by";
	case EV_GROUP_UPDATE:
		return "updated_by";
	case EV_GROUP_DELETE:
		return "deleted_by";
	default:
		return NULL;
	}
}

static const char *const actor_keys[] = {
	"created_by", "added_by", "removed_by", "updated_by", "deleted_by",
};

#define FIELD(ev, off) ((char **)((char *)(ev) + (off)))

const char *event_type_name(enum event_type type)
{
	return type > EV_UNKNOWN && type < EV_TYPE_MAX ? type_names[type]
						       : NULL;
}

enum event_type event_type_from_name(const char *name)
{
	int i;

	for (i = EV_UNKNOWN + 1; i < EV_TYPE_MAX; i++)
		if (!strcmp(type_names[i], name))
			return i;
	return EV_UNKNOWN;
}

void event_release(struct event *ev)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(str_fields); i++)
		free(*FIELD(ev, str_fields[i].off));
	free(ev->type_name);
	free(ev->body_format);
	free(ev->body_content);
	free(ev->body_structured);
	free(ev->intent);
	for (i = 0; i < ev->nr_wcs; i++)
		event_work_context_release(&ev->wcs[i]);
	free(ev->wcs);
	free(ev->actor);
	free(ev->sig);
	free(ev->signer);
	free(ev->new_name);
	free(ev->new_description);
	event_free_pairs(ev->scopes, ev->nr_scopes);
	event_free_pairs(ev->refs, ev->nr_refs);
	for (i = 0; i < ev->nr_recipients; i++)
		free(ev->recipients[i]);
	free(ev->recipients);
	for (i = 0; i < ev->nr_vouched; i++)
		free(ev->vouched[i]);
	free(ev->vouched);
	memset(ev, 0, sizeof(*ev));
}

/*
 * A copy of v with the keys of every object in sorted order; json-c keeps
 * insertion order, so this is how canonical output is made.
 */
static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_object *sorted_copy(json_object *v)
{
	json_object *out;
	size_t i, n;

	switch (json_object_get_type(v)) {
	case json_type_object: {
		const char **keys;

		n = json_object_object_length(v);
		keys = xcalloc(n ? n : 1, sizeof(*keys));
		i = 0;
		json_object_object_foreach(v, k, val) {
			(void)val;
			keys[i++] = k;
		}
		qsort(keys, i, sizeof(*keys), key_cmp);
		out = json_object_new_object();
		for (n = i, i = 0; i < n; i++)
			json_object_object_add(out, keys[i],
				sorted_copy(json_object_object_get(v, keys[i])));
		free(keys);
		return out;
	}
	case json_type_array:
		n = json_object_array_length(v);
		out = json_object_new_array_ext(n);
		for (i = 0; i < n; i++)
			json_object_array_add(out,
				sorted_copy(json_object_array_get_idx(v, i)));
		return out;
	default:
		return json_object_get(v);
	}
}

/* are the keys of every object in v in sorted order already? */
static int is_sorted(json_object *v)
{
	const char *prev = NULL;
	size_t i, n;

	switch (json_object_get_type(v)) {
	case json_type_object: {
		json_object_object_foreach(v, k, val) {
			if ((prev && strcmp(prev, k) >= 0) || !is_sorted(val))
				return 0;
			prev = k;
		}
		return 1;
	}
	case json_type_array:
		n = json_object_array_length(v);
		for (i = 0; i < n; i++)
			if (!is_sorted(json_object_array_get_idx(v, i)))
				return 0;
		return 1;
	default:
		return 1;
	}
}

static const char *to_text(json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* a string field: absent or null is fine; any other type is not */
static int get_string(json_object *obj, const char *key, char **dst)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	free(*dst);
	*dst = xstrndup(json_object_get_string(v),
			json_object_get_string_len(v));
	return 0;
}

static int get_body(json_object *obj, struct event *ev)
{
	json_object *body, *s;

	if (!json_object_object_get_ex(obj, "body", &body) || !body)
		return 0;
	if (json_object_is_type(body, json_type_string)) {
		ev->body_content = xstrdup(json_object_get_string(body));
		return 0;
	}
	if (!json_object_is_type(body, json_type_object) ||
	    get_string(body, "format", &ev->body_format) ||
	    get_string(body, "content", &ev->body_content))
		return -1;
	if (json_object_object_get_ex(body, "structured", &s) && s) {
		json_object *copy = sorted_copy(s);

		ev->body_structured = xstrdup(to_text(copy));
		json_object_put(copy);
	}
	return 0;
}

/*
 * Call fn on each element of the array obj[key]: absent or null is an
 * empty array, anything else but an array is malformed (-1), as is an
 * element fn refuses; fn returning 1 stops early.
 */
static int each_element(json_object *obj, const char *key,
			int (*fn)(json_object *e, struct event *ev),
			struct event *ev)
{
	json_object *arr;
	size_t i, n;
	int ret;

	if (!json_object_object_get_ex(obj, key, &arr) || !arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return -1;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++)
		if ((ret = fn(json_object_array_get_idx(arr, i), ev)))
			return ret < 0 ? -1 : 0;
	return 0;
}

/* recipients[]: strings, each one recipient */
static int add_recipient(json_object *e, struct event *ev)
{
	if (!json_object_is_type(e, json_type_string))
		return -1;
	event_add_recipient(ev, json_object_get_string(e));
	return 0;
}

/* vouched[]: "<digest>:<event_id>" strings */
static int add_vouched(json_object *e, struct event *ev)
{
	if (!json_object_is_type(e, json_type_string))
		return -1;
	return event_add_vouched(ev, json_object_get_string(e));
}

/* work_contexts[]: the first object's "intent" is the intent */
static int take_intent(json_object *e, struct event *ev)
{
	if (json_object_is_type(e, json_type_object) &&
	    get_string(e, "intent", &ev->intent))
		return -1;
	return ev->intent ? 1 : 0;
}

/* group.update's fields{}: the name and description it sets */
static int get_fields(json_object *obj, struct event *ev)
{
	json_object *f;

	if (!json_object_object_get_ex(obj, "fields", &f) || !f)
		return 0;
	if (!json_object_is_type(f, json_type_object) ||
	    get_string(f, "name", &ev->new_name) ||
	    get_string(f, "description", &ev->new_description))
		return -1;
	return 0;
}

/* the fields each known type cannot do without */
static const char *missing_field(const struct event *ev)
{
	switch (ev->type) {
	case EV_MESSAGE_CREATE:
		if (!ev->agent_id)
			return "message.create without agent_id";
		/* fall through */
	case EV_MESSAGE_EDIT:
		if (!ev->body_content)
			return "message without body content";
		/* fall through */
	case EV_MESSAGE_DELETE:
		if (!ev->message_id)
			return "message event without message_id";
		return NULL;
	case EV_MESSAGE_RECEIPT:
		if (!ev->message_id || !ev->agent_id)
			return "receipt without message_id or agent_id";
		return NULL;
	case EV_AGENT_REGISTER:
	case EV_AGENT_UPDATE:
		return ev->agent_id ? NULL : "agent event without agent_id";
	case EV_AGENT_SESSION_START:
		if (!ev->agent_id)
			return "session start without agent_id";
		/* fall through */
	case EV_AGENT_SESSION_END:
		return ev->session_id ? NULL : "session event without session_id";
	case EV_AGENT_CLEANUP:
		return ev->agent_id ? NULL : "agent.cleanup without agent_id";
	case EV_PURGE_EXECUTED:
		return ev->cutoff ? NULL : "purge.executed without cutoff";
	case EV_AGENT_VOUCH:
		return ev->agent_id && ev->nr_vouched ? NULL :
		       "agent.vouch without agent_id or vouched ids";
	case EV_GROUP_CREATE:
		if (!ev->name)
			return "group.create without name";
		/* fall through */
	case EV_GROUP_UPDATE:
	case EV_GROUP_DELETE:
		return ev->group_id ? NULL : "group event without group_id";
	case EV_GROUP_MEMBER_ADD:
	case EV_GROUP_MEMBER_REMOVE:
		if (!ev->group_id || !ev->member_type || !ev->member_value)
			return "group member event without group_id or member";
		return NULL;
	default:
		return NULL;
	}
}

/*
 * The ids a line names, when present, must be opaque ids too: a line whose
 * message_id holds a control character is not an event.
 */
static const char *bad_id_field(const struct event *ev)
{
	static const struct {
		const char *key;
		size_t off;
	} ids[] = {
#define F(name) { "'" #name "'", offsetof(struct event, name) }
		F(message_id), F(session_id), F(group_id), F(thread_id),
#undef F
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		const char *v = *FIELD(ev, ids[i].off);

		if (v && !event_opaque_id(v))
			return "an id field is empty, too long or holds a "
			       "control character";
	}
	for (i = 0; i < ev->nr_refs; i++)
		if (!strcmp(ev->refs[i].type, "reply_to") &&
		    !event_opaque_id(ev->refs[i].value))
			return "a reply_to ref is not a valid id";
	return NULL;
}

static int fill_event(struct event *ev, json_object *obj, unsigned flags,
		      const char **why)
{
	json_object *v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(str_fields); i++)
		if (get_string(obj, str_fields[i].key,
			       FIELD(ev, str_fields[i].off))) {
			*why = "a field that must be a string is not";
			return -1;
		}
	if (get_string(obj, "sig", &ev->sig)) {
		*why = "a field that must be a string is not";
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(actor_keys); i++)
		if (get_string(obj, actor_keys[i], &ev->actor)) {
			*why = "a field that must be a string is not";
			return -1;
		}
	if (get_string(obj, "type", &ev->type_name) || get_body(obj, ev) ||
	    event_get_pairs(obj, "scopes", &ev->scopes, &ev->nr_scopes) ||
	    event_get_pairs(obj, "refs", &ev->refs, &ev->nr_refs) ||
	    each_element(obj, "recipients", add_recipient, ev) ||
	    each_element(obj, "vouched", add_vouched, ev) ||
	    each_element(obj, "work_contexts", take_intent, ev) ||
	    event_wc_parse(obj, ev) ||
	    get_fields(obj, ev)) {
		*why = "a field has the wrong shape";
		return -1;
	}
	if (json_object_object_get_ex(obj, "v", &v) && v) {
		if (!json_object_is_type(v, json_type_int)) {
			*why = "'v' is not an integer";
			return -1;
		}
		ev->v = (long)json_object_get_int64(v);
	}
	if (ev->type_name)
		ev->type = event_type_from_name(ev->type_name);
	if (flags & EVENT_PARSE_BARE)
		return 0;

	if (!ev->type_name) {
		*why = "no 'type'";
		return -1;
	}
	if (!event_opaque_id(ev->event_id)) {
		*why = "no valid 'event_id'";
		return -1;
	}
	if ((*why = bad_id_field(ev)))
		return -1;
	if (!ev->timestamp ||
	    date_parse_rfc3339(ev->timestamp, &ev->ts_ns) < 0) {
		*why = "no valid 'timestamp'";
		return -1;
	}
	if ((*why = missing_field(ev)))
		return -1;
	if (ev->type == EV_PURGE_EXECUTED &&
	    date_parse_rfc3339(ev->cutoff, &ev->cutoff_ns) < 0) {
		*why = "no valid 'cutoff'";
		return -1;
	}
	return 0;
}

/*
 * Does a JSON string in line hold "\u0000"?  json-c would decode it, and
 * every C string made of it would end there: a body cut short without a
 * word.  The escape is real when an odd number of backslashes lead to
 * it (outside strings valid JSON has no backslash).
 */
static int has_escaped_nul(const char *line, size_t len)
{
	const char *p = line, *end = line + len;

	while ((p = memmem(p, end - p, "\\u0000", 6))) {
		const char *b = p;

		while (b > line && b[-1] == '\\')
			b--;
		if ((p - b) % 2 == 0)
			return 1;
		p++;
	}
	return 0;
}

/* EVENT_PARSE_VERIFY: the signed bytes are the canonical line sans "sig" */
static void verify_sig(struct event *ev, json_object *obj, const char *line,
		       size_t len)
{
	char pk[SIGN_PUBKEY_TEXT_MAX + 1];
	json_object *sorted;
	const char *t;

	json_object_object_del(obj, "sig");
	/* a line our writer made is sorted: its own text, without a copy */
	sorted = is_sorted(obj) ? json_object_get(obj) : sorted_copy(obj);
	t = to_text(sorted);
	ev->sig_state = EVENT_SIG_BAD;
	if (sign_verify_line(ev->sig, line, len, t, strlen(t), pk)) {
		ev->sig_state = EVENT_SIG_GOOD;
		ev->signer = xstrdup(pk);
	}
	json_object_put(sorted);
}

int event_parse(struct event *ev, const char *line, size_t len,
		unsigned flags, const char **why)
{
	json_tokener *tok = NULL;
	json_object *obj = NULL;
	const char *reason = NULL;
	int ret = THRUM_EINVALID;

	memset(ev, 0, sizeof(*ev));
	if (len > EVENT_MAX_LINE) {
		reason = "line too long";
		goto out;
	}
	if (memchr(line, '\0', len)) {
		reason = "NUL byte in line";
		goto out;
	}
	if (has_escaped_nul(line, len)) {
		reason = "\\u0000 in a string";
		goto out;
	}
	tok = json_tokener_new();
	if (!tok) {
		reason = "out of memory";
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
			       JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		reason = "not valid JSON";
		goto out;
	}
	if (json_tokener_get_parse_end(tok) != len) {
		reason = "trailing bytes after the JSON object";
		goto out;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		reason = "not a JSON object";
		goto out;
	}
	if (fill_event(ev, obj, flags, &reason) < 0)
		goto out;
	if ((flags & EVENT_PARSE_VERIFY) && ev->sig)
		verify_sig(ev, obj, line, len);
	else if (flags & EVENT_PARSE_VERIFY)
		sign_line_digest(line, len, ev->digest);
	ret = 0;
out:
	json_object_put(obj);
	if (tok)
		json_tokener_free(tok);
	if (ret)
		event_release(ev);
	if (why)
		*why = reason;
	return ret;
}

static void put_str(json_object *obj, const char *key, const char *value)
{
	if (value)
		json_object_object_add(obj, key, json_object_new_string(value));
}

static void put_strings(json_object *obj, const char *key, char **v,
			size_t n)
{
	json_object *arr;
	size_t i;

	if (!n)
		return;
	arr = json_object_new_array_ext(n);
	for (i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(v[i]));
	json_object_object_add(obj, key, arr);
}

static int serialize(const struct event *ev, struct strbuf *out,
		     unsigned flags, const struct sign_key *key)
{
	json_object *obj = json_object_new_object(), *sorted;
	struct event check = EVENT_INIT;
	const char *text;
	size_t i;
	int ret = 0;

	if (!(flags & EVENT_PARSE_BARE) &&
	    (!ev->event_id || !ev->timestamp || !ev->type_name)) {
		json_object_put(obj);
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(str_fields); i++)
		put_str(obj, str_fields[i].key,
			*FIELD(ev, str_fields[i].off));
	put_str(obj, "type", ev->type_name);
	if (ev->actor && actor_key(ev->type))
		put_str(obj, actor_key(ev->type), ev->actor);
	if (ev->body_content) {
		json_object *body = json_object_new_object();

		put_str(body, "content", ev->body_content);
		put_str(body, "format",
			ev->body_format ? ev->body_format : "markdown");
		if (ev->body_structured) {
			json_object *s = json_tokener_parse(ev->body_structured);

			if (s)
				json_object_object_add(body, "structured", s);
		}
		json_object_object_add(obj, "body", body);
	}
	if (ev->nr_scopes)
		json_object_object_add(obj, "scopes",
				       event_pairs_array(ev->scopes, ev->nr_scopes));
	if (ev->nr_refs)
		json_object_object_add(obj, "refs",
				       event_pairs_array(ev->refs, ev->nr_refs));
	put_strings(obj, "recipients", ev->recipients, ev->nr_recipients);
	put_strings(obj, "vouched", ev->vouched, ev->nr_vouched);
	if (ev->nr_wcs) {
		json_object_object_add(obj, "work_contexts",
				       event_wc_array(ev));
	} else if (ev->intent) {
		json_object *arr = json_object_new_array();
		json_object *ctx = json_object_new_object();

		put_str(ctx, "intent", ev->intent);
		put_str(ctx, "session_id", ev->session_id);
		json_object_array_add(arr, ctx);
		json_object_object_add(obj, "work_contexts", arr);
	}
	if (ev->new_name || ev->new_description) {
		json_object *f = json_object_new_object();

		put_str(f, "name", ev->new_name);
		put_str(f, "description", ev->new_description);
		json_object_object_add(obj, "fields", f);
	}
	if (ev->v)
		json_object_object_add(obj, "v", json_object_new_int64(ev->v));

	sorted = sorted_copy(obj);
	text = to_text(sorted);
	if (key) {
		struct strbuf sig = STRBUF_INIT;

		ret = sign_message(key, text, strlen(text), &sig);
		json_object_object_add(obj, "sig",
				       json_object_new_string(sig.buf));
		strbuf_release(&sig);
		json_object_put(sorted);
		sorted = sorted_copy(obj);
		text = to_text(sorted);
	}
	/*
	 * never write a line that readers would skip (a string that is not
	 * UTF-8, a missing field): it would be lost without a word
	 */
	if (ret < 0 || (!(flags & EVENT_PARSE_BARE) &&
			event_parse(&check, text, strlen(text), 0, NULL) < 0))
		ret = -1;
	else if (strbuf_addstr(out, text) < 0)
		ret = -1;
	event_release(&check);
	json_object_put(sorted);
	json_object_put(obj);
	return ret;
}

int event_serialize(const struct event *ev, struct strbuf *out,
		    unsigned flags)
{
	return serialize(ev, out, flags, NULL);
}

int event_serialize_signed(const struct event *ev, struct strbuf *out,
			   const struct sign_key *key)
{
	return serialize(ev, out, 0, key);
}

int event_init_new(struct event *ev, enum event_type type,
		   const char *origin_daemon)
{
	char ts[DATE_RFC3339_LEN + 1];

	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->type_name = xstrdup(event_type_name(type));
	ev->event_id = ulid_new_id("evt_");
	if (!ev->event_id)
		return -1;
	ev->ts_ns = date_now_ns();
	date_format_rfc3339(ev->ts_ns, ts);
	ev->timestamp = xstrdup(ts);
	ev->v = 1;
	ev->origin_daemon = xstrdup_or_null(origin_daemon);
	return 0;
}

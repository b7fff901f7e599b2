/*
 * mcp-tools.c: the tools of the MCP server (see mcp.h): their schemas,
 * their arguments checked against them before anything is written, and
 * wait_for_message, whose calls stay pending until a message for the
 * agent is in the log or their time runs out.  A tool that fails says why
 * in one line (isError), taken from the error() the failing code
 * reported.
 */
#include "thrum.h"
#include "mcp.h"
#include "mcp-internal.h"
#include "cmd.h"
#include "config.h"
#include "format.h"
#include "messaging.h"
#include "projection.h"
#include "rpc.h"
#include "strbuf.h"
#include "sync.h"
#include "usage.h"
#include "watch.h"
#include "wrapper.h"

#define CHECK_DEFAULT_LIMIT 50
#define JSON_TEXT (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define MAX_CONTENT (512 * 1024)

/* --- building answers --- */

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* a tool's answer: the object as text and as structured content */
json_object *mcp_tool_result(json_object *data, int is_error)
{
	json_object *res = json_object_new_object();
	json_object *content = json_object_new_array();
	json_object *text = json_object_new_object();

	json_object_object_add(text, "type", json_object_new_string("text"));
	json_object_object_add(text, "text", json_object_new_string(
		json_object_to_json_string_ext(data, JSON_TEXT)));
	json_object_array_add(content, text);
	json_object_object_add(res, "content", content);
	if (!is_error)
		json_object_object_add(res, "structuredContent", data);
	else
		json_object_put(data);
	json_object_object_add(res, "isError",
			       json_object_new_boolean(is_error));
	return res;
}

/* a tool error: one clear line */
json_object *mcp_tool_error(const char *msg)
{
	json_object *res = json_object_new_object();
	json_object *content = json_object_new_array();
	json_object *text = json_object_new_object();

	json_object_object_add(text, "type", json_object_new_string("text"));
	json_object_object_add(text, "text", json_object_new_string(msg));
	json_object_array_add(content, text);
	json_object_object_add(res, "content", content);
	json_object_object_add(res, "isError", json_object_new_boolean(1));
	return res;
}

json_object *mcp_tool_failed(struct mcp_server *s, const char *fallback)
{
	return mcp_tool_error(s->last_error.len ? s->last_error.buf : fallback);
}

/* MessageInfo, as the original shapes it, plus what we know more */
json_object *mcp_message_info(const struct message *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "message_id", jstr(m->message_id));
	json_object_object_add(o, "from", jstr(m->agent_id));
	json_object_object_add(o, "content", jstr(m->content));
	json_object_object_add(o, "timestamp", jstr(m->created_at));
	json_object_object_add(o, "thread_id", jstr(m->thread_id));
	json_object_object_add(o, "reply_to", jstr(m->reply_to));
	json_object_object_add(o, "priority",
			       jstr(m->priority ? m->priority : "normal"));
	json_object_object_add(o, "is_read",
			       json_object_new_boolean(m->is_read));
	return o;
}

void mcp_send_result(struct mcp_server *s, json_object *id,
		     json_object *result)
{
	if (rpc_send_result(s->out_fd, id, result) < 0)
		warning("cannot write to the MCP client: %s", strerror(errno));
}

void mcp_send_error(struct mcp_server *s, json_object *id, int code,
		    const char *msg)
{
	if (rpc_send_error(s->out_fd, id, code, msg) < 0)
		warning("cannot write to the MCP client: %s", strerror(errno));
}

/* --- arguments, checked against the schemas below --- */

/*
 * *out: the string argument key, or NULL when absent and optional.
 * 0, or -1 with the problem in why.
 */
static int arg_string(json_object *args, const char *key, int required,
		      const char **out, struct strbuf *why)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(args, key, &v) || !v) {
		if (required) {
			strbuf_addf(why, "missing argument '%s'", key);
			return -1;
		}
		return 0;
	}
	if (!json_object_is_type(v, json_type_string)) {
		strbuf_addf(why, "argument '%s' must be a string", key);
		return -1;
	}
	if (strlen(json_object_get_string(v)) !=
	    (size_t)json_object_get_string_len(v)) {
		strbuf_addf(why, "argument '%s' holds a NUL character", key);
		return -1;
	}
	*out = json_object_get_string(v);
	return 0;
}

int mcp_arg_int(json_object *args, const char *key, int64_t min, int64_t max,
		int64_t *out, struct strbuf *why)
{
	json_object *v;

	if (!json_object_object_get_ex(args, key, &v) || !v)
		return 0;	/* *out keeps its default */
	if (!json_object_is_type(v, json_type_int) &&
	    !(json_object_is_type(v, json_type_double) &&
	      json_object_get_double(v) == (double)(int64_t)
	      json_object_get_double(v))) {
		strbuf_addf(why, "argument '%s' must be an integer", key);
		return -1;
	}
	*out = json_object_get_int64(v);
	if (*out < min || *out > max) {
		strbuf_addf(why, "argument '%s' must be between %" PRId64
			    " and %" PRId64, key, min, max);
		return -1;
	}
	return 0;
}

static int arg_bool(json_object *args, const char *key, int *out,
		    struct strbuf *why)
{
	json_object *v;

	if (!json_object_object_get_ex(args, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean)) {
		strbuf_addf(why, "argument '%s' must be a boolean", key);
		return -1;
	}
	*out = json_object_get_boolean(v);
	return 0;
}

/* arguments the schema does not name are refused, as a typo would be */
int mcp_only_args(json_object *args, const char *const *known,
		  struct strbuf *why)
{
	json_object_object_foreach(args, key, val) {
		const char *const *k;

		(void)val;
		for (k = known; *k && strcmp(*k, key); k++)
			;
		if (!*k) {
			strbuf_addf(why, "unknown argument '%s'", key);
			return -1;
		}
	}
	return 0;
}

static int check_content(const char *content, struct strbuf *why)
{
	const char *p;

	for (p = content; *p && isspace((unsigned char)*p); p++)
		;
	if (!*p) {
		strbuf_addstr(why, "empty message content");
		return -1;
	}
	if (strlen(content) > MAX_CONTENT) {
		strbuf_addf(why, "message content is longer than %d bytes",
			    MAX_CONTENT);
		return -1;
	}
	return 0;
}

/* --- the tools --- */

/* the projection caught up: each call sees what arrived since the last */
void mcp_fresh_projection(struct thrum_ctx *ctx)
{
	ctx->proj_current = 0;
	ctx_need_projection(ctx);
}

static json_object *do_send(struct mcp_server *s, const char *to,
			    const char *content, const char *reply_to,
			    const char *priority)
{
	struct thrum_ctx *ctx = s->ctx;
	struct audience aud = AUDIENCE_INIT;
	struct send_request rq = { content, to, priority, reply_to };
	char *msg_id = NULL, *thread_id = NULL, *parent = NULL;
	json_object *res = NULL, *o;
	size_t resolved;

	mcp_fresh_projection(ctx);
	if (ctx_need_me(ctx) < 0 ||
	    message_send_request(ctx_core(ctx), &rq, &aud, &msg_id,
				 &thread_id, &parent) < 0) {
		res = mcp_tool_failed(s, "the message was not sent");
		goto out;
	}
	resolved = aud.agents.nr + aud.mentions.nr + aud.groups.nr +
		   !!aud.everyone;
	o = json_object_new_object();
	json_object_object_add(o, "status",
			       json_object_new_string("delivered"));
	json_object_object_add(o, "message_id", jstr(msg_id));
	json_object_object_add(o, "thread_id", jstr(thread_id));
	json_object_object_add(o, "resolved_to",
			       json_object_new_int64((int64_t)resolved));
	if (aud.mentions.nr) {
		json_object *w = json_object_new_array();

		json_object_array_add(w, json_object_new_string(
			"a role reaches every agent that has it, now and "
			"later"));
		json_object_object_add(o, "warnings", w);
	}
	res = mcp_tool_result(o, 0);
out:
	free(msg_id);
	free(thread_id);
	free(parent);
	audience_release(&aud);
	return res;
}

/* content and priority, as send_message and reply_message take them */
static int content_args(json_object *args, const char **content,
			const char **priority, struct strbuf *why)
{
	if (arg_string(args, "content", 1, content, why) < 0 ||
	    arg_string(args, "priority", 0, priority, why) < 0 ||
	    check_content(*content, why) < 0)
		return -1;
	if (*priority && !message_valid_priority(*priority)) {
		strbuf_addf(why, "unknown priority '%s': want critical, high, "
			    "normal or low", *priority);
		return -1;
	}
	return 0;
}

static json_object *tool_send_message(struct mcp_server *s, json_object *args,
				      struct strbuf *why)
{
	static const char *const known[] = { "to", "content", "reply_to",
					     "priority", "metadata", NULL };
	const char *to, *content, *reply_to, *priority;

	if (mcp_only_args(args, known, why) < 0 ||
	    arg_string(args, "to", 1, &to, why) < 0 ||
	    arg_string(args, "reply_to", 0, &reply_to, why) < 0 ||
	    content_args(args, &content, &priority, why) < 0)
		return NULL;
	if (!*to) {
		strbuf_addstr(why, "empty 'to': name an @agent, @role, @group "
			      "or @everyone");
		return NULL;
	}
	return do_send(s, to, content, reply_to, priority);
}

static json_object *tool_reply_message(struct mcp_server *s,
				       json_object *args, struct strbuf *why)
{
	static const char *const known[] = { "message_id", "content",
					     "priority", NULL };
	const char *id, *content, *priority;

	if (mcp_only_args(args, known, why) < 0 ||
	    arg_string(args, "message_id", 1, &id, why) < 0 ||
	    content_args(args, &content, &priority, why) < 0)
		return NULL;
	return do_send(s, NULL, content, id, priority);
}

/* my unread messages, newest first; all of them when limit is 0 */
int mcp_unread_for_me(struct thrum_ctx *ctx, long limit, int64_t after,
			 int unread_only, struct message_list *l)
{
	struct inbox_query q;

	memset(&q, 0, sizeof(q));
	q.me = ctx->me.agent_id;
	q.role = ctx->me.role;
	q.unread_only = unread_only;
	q.limit = limit;
	q.after_seq = after;
	return projection_inbox(ctx->proj, &q, l);
}

static json_object *tool_check_messages(struct mcp_server *s,
					json_object *args, struct strbuf *why)
{
	static const char *const known[] = { "limit", "unread_only", NULL };
	struct thrum_ctx *ctx = s->ctx;
	struct message_list l = MESSAGE_LIST_INIT, all = MESSAGE_LIST_INIT;
	int64_t limit = CHECK_DEFAULT_LIMIT;
	int unread_only = 1;
	json_object *o, *arr, *res;
	size_t i, unread_shown = 0, unread_total = 0;

	if (mcp_only_args(args, known, why) < 0 ||
	    mcp_arg_int(args, "limit", 1, 1000, &limit, why) < 0 ||
	    arg_bool(args, "unread_only", &unread_only, why) < 0)
		return NULL;
	mcp_fresh_projection(ctx);
	if (ctx_need_reader(ctx) < 0 ||
	    mcp_unread_for_me(ctx, (long)limit, 0, unread_only, &l) < 0 ||
	    mcp_unread_for_me(ctx, 0, 0, 1, &all) < 0)
		goto fail;
	arr = json_object_new_array();
	/* oldest first, as a conversation reads */
	for (i = l.nr; i > 0; i--) {
		json_object_array_add(arr, mcp_message_info(&l.items[i - 1]));
		unread_shown += !l.items[i - 1].is_read;
	}
	unread_total = all.nr;
	/* what was returned counts as read, as inbox does */
	if (message_mark_read(ctx_core(ctx), &l) < 0) {
		json_object_put(arr);
		goto fail;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(
		l.nr ? "messages" : "empty"));
	json_object_object_add(o, "messages", arr);
	json_object_object_add(o, "remaining", json_object_new_int64(
		(int64_t)(unread_total > unread_shown
			  ? unread_total - unread_shown : 0)));
	res = mcp_tool_result(o, 0);
	goto out;
fail:
	res = mcp_tool_failed(s, "cannot read the messages");
out:
	message_list_release(&l);
	message_list_release(&all);
	return res;
}

static json_object *tool_get_message(struct mcp_server *s, json_object *args,
				     struct strbuf *why)
{
	static const char *const known[] = { "message_id", NULL };
	struct thrum_ctx *ctx = s->ctx;
	struct message_list l = MESSAGE_LIST_INIT;
	const char *id;
	json_object *o, *m, *aud, *res;
	size_t i;

	if (mcp_only_args(args, known, why) < 0 ||
	    arg_string(args, "message_id", 1, &id, why) < 0)
		return NULL;
	mcp_fresh_projection(ctx);
	if (ctx_need_reader(ctx) < 0 || message_lookup(ctx_core(ctx), id, &l) < 0) {
		message_list_release(&l);
		return mcp_tool_failed(s, "no such message");
	}
	m = mcp_message_info(&l.items[0]);
	json_object_object_add(m, "edited",
			       json_object_new_boolean(l.items[0].edited));
	json_object_object_add(m, "deleted",
			       json_object_new_boolean(l.items[0].deleted));
	aud = json_object_new_array();
	for (i = 0; l.items[0].audience && i < l.items[0].audience->nr; i++)
		json_object_array_add(aud, json_object_new_string(
			l.items[0].audience->v[i]));
	json_object_object_add(m, "audience", aud);
	o = json_object_new_object();
	json_object_object_add(o, "message", m);
	res = mcp_tool_result(o, 0);
	message_list_release(&l);
	return res;
}

static json_object *tool_list_agents(struct mcp_server *s, json_object *args,
				     struct strbuf *why)
{
	static const char *const known[] = { "include_offline", NULL };
	struct agent_list l = AGENT_LIST_INIT;
	int include_offline = 1;
	json_object *o, *arr;
	size_t i, count = 0;

	if (mcp_only_args(args, known, why) < 0 ||
	    arg_bool(args, "include_offline", &include_offline, why) < 0)
		return NULL;
	mcp_fresh_projection(s->ctx);
	if (projection_agents(s->ctx->proj, &l) < 0)
		return mcp_tool_failed(s, "cannot read the agents");
	arr = json_object_new_array();
	for (i = 0; i < l.nr; i++) {
		const struct agent_info *a = &l.items[i];
		json_object *e;

		if (!include_offline && !a->session_id)
			continue;
		e = json_object_new_object();
		json_object_object_add(e, "name", jstr(a->name));
		json_object_object_add(e, "role", jstr(a->role));
		json_object_object_add(e, "module", jstr(a->module));
		json_object_object_add(e, "status", json_object_new_string(
			a->session_id ? "active" : "offline"));
		json_object_object_add(e, "intent", jstr(a->intent));
		json_object_array_add(arr, e);
		count++;
	}
	o = json_object_new_object();
	json_object_object_add(o, "agents", arr);
	json_object_object_add(o, "count", json_object_new_int64(
		(int64_t)count));
	agent_list_release(&l);
	return mcp_tool_result(o, 0);
}

static json_object *tool_sync_status(struct mcp_server *s, json_object *args,
				     struct strbuf *why)
{
	static const char *const known[] = { NULL };
	struct sync_status st = SYNC_STATUS_INIT;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	json_object *o = NULL;

	if (mcp_only_args(args, known, why) < 0)
		return NULL;
	ctx_need_config(s->ctx);
	if (sync_status_read(&s->ctx->repo, &st) < 0)
		return mcp_tool_failed(s, "cannot read the sync status");
	/* the same object `git thrum sync status --json` prints */
	f = open_memstream(&text, &len);
	if (f) {
		format_sync_status_json(&st, s->ctx->cfg.local_only, f);
		fclose(f);
		o = json_tokener_parse(text);
	}
	free(text);
	sync_status_release(&st);
	return o ? mcp_tool_result(o, 0)
		 : mcp_tool_error("cannot read the status");
}

/* --- the tool table and its schemas --- */

typedef json_object *(*tool_fn)(struct mcp_server *s, json_object *args,
				struct strbuf *why);

struct tool {
	const char *name;
	const char *description;
	const char *schema;	/* inputSchema, JSON */
	tool_fn call;		/* NULL: wait_for_message, which may pend */
};

static const struct tool tools[] = {
	{ "send_message",
	  "Send a message to another agent via Thrum. Use to=@agent_name "
	  "for a direct message, @role to reach every agent of that role, "
	  "@group, or to=@everyone to broadcast. Names may be "
	  "comma-separated.",
	  "{\"type\":\"object\",\"properties\":{"
	  "\"to\":{\"type\":\"string\",\"description\":\"Recipients: @agent,"
	  " @role, @group or @everyone, comma-separated\"},"
	  "\"content\":{\"type\":\"string\",\"description\":\"Message text "
	  "(markdown)\"},"
	  "\"reply_to\":{\"type\":\"string\",\"description\":\"Message ID to "
	  "reply to (same thread)\"},"
	  "\"priority\":{\"type\":\"string\",\"enum\":[\"critical\",\"high\","
	  "\"normal\",\"low\"]},"
	  "\"metadata\":{\"type\":\"object\",\"additionalProperties\":"
	  "{\"type\":\"string\"},\"description\":\"Accepted for the "
	  "original's clients; not stored\"}},"
	  "\"required\":[\"to\",\"content\"],\"additionalProperties\":false}",
	  tool_send_message },
	{ "check_messages",
	  "Check for new messages addressed to this agent (directly, to its "
	  "role, a group or everyone). What it returns is marked read.",
	  "{\"type\":\"object\",\"properties\":{"
	  "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,"
	  "\"description\":\"Max messages to return. Default 50\"},"
	  "\"unread_only\":{\"type\":\"boolean\",\"description\":\"Only "
	  "unread messages. Default true\"}},"
	  "\"additionalProperties\":false}",
	  tool_check_messages },
	{ "wait_for_message",
	  "Block until a message for this agent arrives or the timeout "
	  "expires. Designed for background listener sub-agents.",
	  "{\"type\":\"object\",\"properties\":{"
	  "\"timeout\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":600,"
	  "\"description\":\"Max seconds to wait. Default 300, max 600\"}},"
	  "\"additionalProperties\":false}",
	  NULL },
	{ "list_agents",
	  "List all registered agents and their status.",
	  "{\"type\":\"object\",\"properties\":{"
	  "\"include_offline\":{\"type\":\"boolean\",\"description\":"
	  "\"Include agents without an open session. Default true\"}},"
	  "\"additionalProperties\":false}",
	  tool_list_agents },
	{ "reply_message",
	  "Reply to a message: to its author and its audience, in its "
	  "thread.",
	  "{\"type\":\"object\",\"properties\":{"
	  "\"message_id\":{\"type\":\"string\",\"description\":\"The message "
	  "to answer (an id or a unique prefix)\"},"
	  "\"content\":{\"type\":\"string\"},"
	  "\"priority\":{\"type\":\"string\",\"enum\":[\"critical\",\"high\","
	  "\"normal\",\"low\"]}},"
	  "\"required\":[\"message_id\",\"content\"],"
	  "\"additionalProperties\":false}",
	  tool_reply_message },
	{ "get_message",
	  "One message by id (or a unique prefix), with its audience.",
	  "{\"type\":\"object\",\"properties\":{"
	  "\"message_id\":{\"type\":\"string\"}},"
	  "\"required\":[\"message_id\"],\"additionalProperties\":false}",
	  tool_get_message },
	{ "sync_status",
	  "How the last sync with the remote went (state, last sync, "
	  "errors), as `git thrum sync status --json` prints it.",
	  "{\"type\":\"object\",\"properties\":{},"
	  "\"additionalProperties\":false}",
	  tool_sync_status },
};

json_object *mcp_tools_list(void)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tools); i++) {
		json_object *t = json_object_new_object();
		json_object *schema = json_tokener_parse(tools[i].schema);

		if (!schema)
			BUG("the schema of '%s' is not JSON", tools[i].name);
		json_object_object_add(t, "name",
				       json_object_new_string(tools[i].name));
		json_object_object_add(t, "description",
			json_object_new_string(tools[i].description));
		json_object_object_add(t, "inputSchema", schema);
		json_object_array_add(arr, t);
	}
	json_object_object_add(o, "tools", arr);
	return o;
}

void mcp_tools_call(struct mcp_server *s, json_object *id,
		    json_object *params)
{
	struct strbuf why = STRBUF_INIT;
	json_object *name, *args = NULL, *res = NULL;
	const struct tool *t;
	const char *n;

	if (!json_object_object_get_ex(params, "name", &name) ||
	    !json_object_is_type(name, json_type_string)) {
		mcp_send_error(s, id, RPC_INVALID_PARAMS, "tools/call needs a "
			   "tool 'name'");
		return;
	}
	if (json_object_object_get_ex(params, "arguments", &args) && args &&
	    !json_object_is_type(args, json_type_object)) {
		mcp_send_error(s, id, RPC_INVALID_PARAMS,
			       "'arguments' must be an object");
		return;
	}
	if (!args)
		args = json_object_new_object();
	else
		json_object_get(args);
	n = json_object_get_string(name);
	strbuf_reset(&s->last_error);
	for (t = tools; t < tools + ARRAY_SIZE(tools); t++)
		if (!strcmp(n, t->name))
			break;
	if (t == tools + ARRAY_SIZE(tools)) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addf(&msg, "unknown tool '%s'", n);
		mcp_send_error(s, id, RPC_INVALID_PARAMS, msg.buf);
		strbuf_release(&msg);
		goto out;
	}
	if (t->call)
		res = t->call(s, args, &why);
	else if (mcp_tool_wait_for_message(s, id, args, &why) >= 0)
		goto out;	/* answered, or pending */
	/* bad arguments: a tool error the model can read and correct */
	if (!res)
		res = mcp_tool_error(why.len ? why.buf : "invalid arguments");
	mcp_send_result(s, id, res);
out:
	json_object_put(args);
	strbuf_release(&why);
}


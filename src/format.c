/*
 * format.c: the output layer of the CLI.  Human output aims to read like
 * git's (one header line per item, the body indented); --json output is a
 * single object per command with the fields git-thrum(1) documents.
 */
#include "thrum.h"
#include <json-c/json.h>
#include "format.h"
#include "format-internal.h"
#include "date.h"
#include "hooks.h"
#include "identity.h"
#include "peer.h"
#include "projection.h"
#include "sign.h"
#include "strbuf.h"
#include "strvec.h"
#include "sync.h"
#include "utf8.h"

void format_json(json_object *obj, FILE *out)
{
	fputs(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE),
	      out);
	fputc('\n', out);
	json_object_put(obj);
}

void format_put(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

static void put_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static void put_bool(json_object *o, const char *key, int v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

/* "@name" for each addressee, once, "@everyone" for a broadcast */
static void audience_names(const struct message *m, struct strvec *out)
{
	size_t i, j;

	for (i = 0; m->audience && i < m->audience->nr; i++) {
		const char *entry = m->audience->v[i];
		const char *v = strchr(entry, ':') + 1;
		int dup = 0;

		if (!strncmp(entry, "broadcast:", 10))
			v = "everyone";
		for (j = 0; j < out->nr && !dup; j++)
			dup = !strcmp(out->v[j] + 1, v);
		if (!dup)
			strvec_pushf(out, "@%s", v);
	}
}

/*
 * "verified": true (signed by the key of its name), false (does not
 * count: shown with --include-bad only), null (its name has no key);
 * "key": the fingerprint of the key that signed it, or null
 */
static void sign_json(json_object *o, const struct message *m)
{
	struct strbuf fp = STRBUF_INIT;

	json_object_object_add(o, "verified", m->verified < 0 ? NULL :
			       json_object_new_boolean(m->verified));
	if (m->signer && !sign_fingerprint(m->signer, &fp))
		format_put(o, "key", fp.buf);
	else
		json_object_object_add(o, "key", NULL);
	strbuf_release(&fp);
}

static json_object *message_json(const struct message *m)
{
	json_object *o = json_object_new_object();
	json_object *body = json_object_new_object();
	json_object *rcpt = json_object_new_array();
	struct strvec names = STRVEC_INIT;
	size_t i;

	format_put(o, "message_id", m->message_id);
	format_put(o, "thread_id", m->thread_id);
	format_put(o, "agent_id", m->agent_id);
	format_put(o, "session_id", m->session_id);
	format_put(o, "created_at", m->created_at);
	format_put(body, "format", m->format ? m->format : "markdown");
	format_put(body, "content", m->content);
	json_object_object_add(o, "body", body);
	audience_names(m, &names);
	for (i = 0; i < names.nr; i++)
		json_object_array_add(rcpt, json_object_new_string(names.v[i]));
	strvec_clear(&names);
	json_object_object_add(o, "recipients", rcpt);
	format_put(o, "priority", m->priority ? m->priority : "normal");
	format_put(o, "reply_to", m->reply_to);
	put_bool(o, "is_read", m->is_read);
	put_bool(o, "edited", m->edited);
	put_bool(o, "deleted", m->deleted);
	sign_json(o, m);
	json_object_object_add(o, "scopes", format_tags_json(m->scopes));
	json_object_object_add(o, "refs", format_tags_json(m->refs));
	if (m->resolved)
		json_object_object_add(o, "recipient_state",
				       format_recipient_state_json(m));
	return o;
}

void format_messages_json(const struct message_list *l, FILE *out)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < l->nr; i++)
		json_object_array_add(arr, message_json(&l->items[i]));
	json_object_object_add(o, "messages", arr);
	format_json(o, out);
}

void format_thread_json(const struct message_list *l, const int *depth,
			FILE *out)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < l->nr; i++) {
		json_object *m = message_json(&l->items[i]);

		put_int(m, "depth", depth[i]);
		json_object_array_add(arr, m);
	}
	json_object_object_add(o, "messages", arr);
	format_json(o, out);
}

void format_message_json(const struct message_list *l, size_t i, FILE *out)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "message", message_json(&l->items[i]));
	format_json(o, out);
}

void format_search_json(const struct message_list *l,
			const struct strvec *snippets, FILE *out)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < l->nr; i++) {
		json_object *m = message_json(&l->items[i]);

		format_put(m, "snippet", snippets->v[i]);
		json_object_array_add(arr, m);
	}
	json_object_object_add(o, "messages", arr);
	format_json(o, out);
}

static void print_indented(const char *raw, const char *indent, FILE *out)
{
	struct strbuf text = STRBUF_INIT;
	const char *p;

	format_escape(&text, raw, FORMAT_KEEP_LINES);
	p = text.buf;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		fprintf(out, "%s    %.*s\n", indent, (int)n, p);
		p += n + (nl ? 1 : 0);
	}
	strbuf_release(&text);
}

static int use_color;

void format_set_color(int on)
{
	use_color = on;
}


/* "from alice to @bob,@team" */
static void who_line(const struct message *m, struct strbuf *sb)
{
	struct strvec names = STRVEC_INIT;
	size_t j;

	strbuf_addstr(sb, "from ");
	format_escape(sb, m->agent_id, 0);
	strbuf_addstr(sb, " to ");
	audience_names(m, &names);
	for (j = 0; j < names.nr; j++) {
		if (j)
			strbuf_addch(sb, ',');
		format_escape(sb, names.v[j], 0);
	}
	strvec_clear(&names);
}

/* at most this many levels of a thread are indented */
#define MAX_INDENT 8

/*
 * One header line per message, aligned, newest first as given:
 *
 *   * msg_01J...  from alice to @bob   5 minutes ago  [high] (edited)
 *       the body, indented
 *
 * '*' marks what I have not read yet; times are relative to now (the
 * exact instant is in --json).  With depth, message i and its body are
 * indented four columns for each level of depth[i]; a message I sent
 * (projection_sent()) ends with who read it.
 */
static void messages_text(const struct message_list *l, const int *depth,
			  FILE *out)
{
	struct strbuf who = STRBUF_INIT, id = STRBUF_INIT, note = STRBUF_INIT;
	static const char spaces[] = "                                ";
	int64_t now = date_now_ns();
	size_t i, width = 0;

	for (i = 0; i < l->nr; i++) {
		strbuf_reset(&who);
		who_line(&l->items[i], &who);
		if (who.len > width)
			width = who.len;
	}
	if (width > 60)
		width = 60;
	for (i = 0; i < l->nr; i++) {
		const struct message *m = &l->items[i];
		int d = depth ? depth[i] : 0;
		const char *indent;
		char when[DATE_RELATIVE_LEN];

		if (d > MAX_INDENT)
			d = MAX_INDENT;
		indent = spaces + sizeof(spaces) - 1 - 4 * d;
		strbuf_reset(&who);
		who_line(m, &who);
		date_format_relative(m->created_ns, now, when);
		if (i)
			fputc('\n', out);
		fputs(indent, out);
		if (m->is_read)
			fputc(' ', out);
		else
			fprintf(out, "%s*%s", COLOR(C_UNREAD), COLOR(C_RESET));
		fprintf(out, " %s%s%s  %s%-*s%s  %s%s%s",
			COLOR(C_ID), format_safe(&id, m->message_id),
			COLOR(C_RESET), COLOR(C_WHO),
			(int)width, who.buf, COLOR(C_RESET), COLOR(C_WHEN),
			when, COLOR(C_RESET));
		if (m->priority && strcmp(m->priority, "normal"))
			fprintf(out, "  %s[%s]%s",
				strcmp(m->priority, "low") ? COLOR(C_HIGH) : "",
				format_safe(&note, m->priority),
				COLOR(C_RESET));
		if (m->reply_to)
			fprintf(out, " %s(reply to %s)%s", COLOR(C_NOTE),
				format_safe(&note, m->reply_to),
				COLOR(C_RESET));
		format_tags_text(m->scopes, 0, use_color, out);
		format_tags_text(m->refs, 1, use_color, out);
		if (m->edited)
			fprintf(out, " %s(edited)%s", COLOR(C_NOTE),
				COLOR(C_RESET));
		if (m->deleted)
			fprintf(out, " %s(deleted)%s", COLOR(C_NOTE),
				COLOR(C_RESET));
		/* quiet for a name without key; loud for what does not count */
		if (m->verified < 0)
			fprintf(out, " %s(unverified)%s", COLOR(C_NOTE),
				COLOR(C_RESET));
		else if (!m->verified)
			fprintf(out, " %s(BAD SIGNATURE: does not count)%s",
				COLOR(C_HIGH), COLOR(C_RESET));
		fputc('\n', out);
		print_indented(m->content ? m->content : "", indent, out);
		if (m->resolved)
			format_recipient_state_text(m, indent, use_color,
						    out);
	}
	strbuf_release(&who);
	strbuf_release(&id);
	strbuf_release(&note);
}

void format_signer_text(const struct message *m, FILE *out)
{
	struct strbuf fp = STRBUF_INIT;

	if (m->signer && !sign_fingerprint(m->signer, &fp))
		fprintf(out, "    %skey %s%s%s\n", COLOR(C_NOTE), fp.buf,
			m->verified > 0 ? "" : " (not the key of its name)",
			COLOR(C_RESET));
	strbuf_release(&fp);
}

void format_messages_text(const struct message_list *l, FILE *out)
{
	messages_text(l, NULL, out);
}

void format_thread_text(const struct message_list *l, const int *depth,
			FILE *out)
{
	messages_text(l, depth, out);
}

static const char *ns_to_date(const char *ns_text, char *buf)
{
	long long ns;
	char *end;

	if (!ns_text)
		return NULL;
	ns = strtoll(ns_text, &end, 10);
	if (*end)
		return NULL;
	date_format_rfc3339_sec(ns, buf);
	return buf;
}

static void agents_json(const struct agent_list *l, const struct work_list *w,
			FILE *out)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < l->nr; i++) {
		const struct agent_info *a = &l->items[i];
		json_object *e = json_object_new_object();
		char buf[DATE_RFC3339_LEN + 1];

		format_put(e, "agent_id", a->agent_id);
		format_put(e, "name", a->name);
		format_put(e, "kind", a->kind);
		format_put(e, "role", a->role);
		format_put(e, "module", a->module);
		format_put(e, "worktree", a->worktree);
		format_put(e, "hostname", a->hostname);
		format_put(e, "intent", a->intent);
		format_put(e, "registered_at", ns_to_date(a->registered_at, buf));
		format_put(e, "last_seen_at", ns_to_date(a->last_seen_at, buf));
		format_put(e, "session_id", a->session_id);
		put_bool(e, "active", !!a->session_id);
		put_bool(e, "key_conflict", a->key_conflict);
		if (w)
			json_object_object_add(e, "work_contexts",
				format_work_array(w, a->agent_id));
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "agents", arr);
	format_json(o, out);
}

void format_agents_json(const struct agent_list *l, FILE *out)
{
	agents_json(l, NULL, out);
}

void format_team_json(const struct agent_list *l, const struct work_list *w,
		      FILE *out)
{
	agents_json(l, w, out);
}

/* "5 minutes ago" for a nanosecond count held as text, or "-" */
static void seen_text(const char *ns_text, int64_t now, char *out)
{
	long long ns;
	char *end;

	if (!ns_text || (ns = strtoll(ns_text, &end, 10), *end)) {
		snprintf(out, DATE_RELATIVE_LEN, "-");
		return;
	}
	date_format_relative(ns, now, out);
}

/* the columns of one agent, escaped */
struct agent_cols {
	struct strbuf name, role, module, intent;
};

static void agent_cols(struct agent_cols *c, const struct agent_info *a)
{
	format_safe(&c->name, a->name ? a->name : a->agent_id);
	format_safe(&c->role, a->role ? a->role : "-");
	format_safe(&c->module, a->module ? a->module : "-");
	format_safe(&c->intent, a->intent);
}

/*
 * one aligned line per agent: name, role, module, session, last seen;
 * with w, a line for each of its work contexts under it
 */
static void agents_text(const struct agent_list *l, const struct work_list *w,
			FILE *out)
{
	struct agent_cols c = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT,
				STRBUF_INIT };
	size_t i, wn = 4, wr = 4, wm = 6, ws = 1;
	int64_t now = date_now_ns();
	char seen[DATE_RELATIVE_LEN];

	for (i = 0; i < l->nr; i++) {
		agent_cols(&c, &l->items[i]);
		if (c.name.len > wn)
			wn = c.name.len;
		if (c.role.len > wr)
			wr = c.role.len;
		if (c.module.len > wm)
			wm = c.module.len;
		seen_text(l->items[i].last_seen_at, now, seen);
		if (strlen(seen) > ws)
			ws = strlen(seen);
	}
	for (i = 0; i < l->nr; i++) {
		const struct agent_info *a = &l->items[i];

		agent_cols(&c, a);
		seen_text(a->last_seen_at, now, seen);
		fprintf(out, "%s%-*s%s  %-*s  %-*s  %-8s  %-*s%s%s%s\n",
			COLOR(C_WHO), (int)wn, c.name.buf, COLOR(C_RESET),
			(int)wr, c.role.buf, (int)wm, c.module.buf,
			a->session_id ? "active" : "inactive",
			a->intent ? (int)ws : 0, seen, a->intent ? "  " : "",
			c.intent.buf, a->key_conflict ?
			"  (key conflict: see git thrum fsck)" : "");
		if (w)
			format_work_lines(w, a->agent_id, out);
	}
	strbuf_release(&c.name);
	strbuf_release(&c.role);
	strbuf_release(&c.module);
	strbuf_release(&c.intent);
}

void format_agents_text(const struct agent_list *l, FILE *out)
{
	agents_text(l, NULL, out);
}

void format_team_text(const struct agent_list *l, const struct work_list *w,
		      FILE *out)
{
	agents_text(l, w, out);
}

void format_identity_json(const struct identity *id, FILE *out)
{
	json_object *o = json_object_new_object();

	format_put(o, "name", id->name);
	format_put(o, "agent_id", id->agent_id);
	format_put(o, "kind", id->kind);
	format_put(o, "role", id->role);
	format_put(o, "module", id->module);
	format_put(o, "session_id", id->session_id);
	format_put(o, "intent", id->intent);
	format_json(o, out);
}

void format_kv_json(FILE *out, ...)
{
	json_object *o = json_object_new_object();
	const char *key;
	va_list ap;

	va_start(ap, out);
	while ((key = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);

		if (v)
			format_put(o, key, v);
	}
	va_end(ap);
	format_json(o, out);
}

static json_object *sync_status_object(const struct sync_status *st,
				       int local_only)
{
	json_object *o = json_object_new_object();

	format_put(o, "state", sync_state_name(st->state));
	format_put(o, "sync_state", sync_spec_state(st));
	put_bool(o, "running", st->running);
	put_bool(o, "local_only", local_only);
	format_put(o, "remote", st->remote);
	format_put(o, "last_sync_at", st->last_sync_at);
	format_put(o, "last_error", st->last_error);
	format_put(o, "retry_at", st->retry_at);
	put_int(o, "auth_failures", st->auth_failures);
	put_int(o, "new_events", st->new_events);
	put_int(o, "skipped", st->skipped);
	put_int(o, "skipped_entries", st->skipped_entries);
	put_int(o, "conflicts", st->conflicts);
	put_int(o, "ahead", st->ahead);
	put_int(o, "behind", st->behind);
	put_bool(o, "committed", st->committed);
	put_bool(o, "pushed", st->pushed);
	put_int(o, "duration_us", st->duration_us);
	format_put(o, "daemon", st->daemon_pid ? "running" : "stopped");
	if (st->daemon_pid > 0)
		put_int(o, "daemon_pid", st->daemon_pid);
	return o;
}

void format_sync_status_json(const struct sync_status *st, int local_only,
			     FILE *out)
{
	format_json(sync_status_object(st, local_only), out);
}

static void put_ms(json_object *o, const char *key, int64_t ms)
{
	char when[DATE_RFC3339_LEN + 1];

	if (!ms) {
		format_put(o, key, NULL);
		return;
	}
	date_format_rfc3339(ms * 1000000, when);
	format_put(o, key, when);
}

static json_object *peers_object(const struct peer_report *rep)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	json_object *drops = json_object_new_object();
	size_t i;
	int v;

	format_put(o, "listen", rep->listen);
	for (i = 0; i < rep->nr; i++) {
		const struct peer_stat *ps = &rep->v[i];
		json_object *p = json_object_new_object();
		json_object *pd = json_object_new_object();

		format_put(p, "name", ps->name);
		format_put(p, "address", ps->address);
		put_ms(p, "last_sent_at", ps->last_sent_ms);
		put_ms(p, "last_received_at", ps->last_received_ms);
		put_int(p, "sent", ps->sent);
		put_int(p, "send_failed", ps->send_failed);
		put_int(p, "received", ps->received);
		for (v = PEER_OK + 1; v < PEER_VERDICT_MAX; v++)
			if (v != PEER_UNKNOWN && v != PEER_OVERSIZE &&
			    v != PEER_MALFORMED)
				put_int(pd, peer_verdict_key(v),
					ps->dropped[v]);
		json_object_object_add(p, "dropped", pd);
		json_object_array_add(arr, p);
	}
	json_object_object_add(o, "peers", arr);
	put_int(drops, peer_verdict_key(PEER_UNKNOWN), rep->unknown);
	put_int(drops, peer_verdict_key(PEER_OVERSIZE), rep->oversize);
	put_int(drops, peer_verdict_key(PEER_MALFORMED), rep->malformed);
	json_object_object_add(o, "dropped", drops);
	put_int(o, "last_nudge_us", rep->last_nudge_us);
	return o;
}

void format_peers_json(const struct peer_report *rep, FILE *out)
{
	format_json(peers_object(rep), out);
}

void format_sync_status_peers_json(const struct sync_status *st,
				   int local_only,
				   const struct peer_report *rep, FILE *out)
{
	json_object *o = sync_status_object(st, local_only);

	if (rep)
		json_object_object_add(o, "peers", peers_object(rep));
	format_json(o, out);
}

static void when_text(int64_t ms, int64_t now_ns, char *out)
{
	if (!ms)
		snprintf(out, DATE_RELATIVE_LEN, "never");
	else
		date_format_relative(ms * 1000000, now_ns, out);
}

void format_peers_text(const struct peer_report *rep, const char *indent,
		       FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	int64_t now = date_now_ns();
	size_t i;
	int v;

	for (i = 0; i < rep->nr; i++) {
		const struct peer_stat *ps = &rep->v[i];
		char sent[DATE_RELATIVE_LEN], got[DATE_RELATIVE_LEN];
		unsigned long dropped = 0;

		when_text(ps->last_sent_ms, now, sent);
		when_text(ps->last_received_ms, now, got);
		fprintf(out, "%s%s (%s): last nudge sent %s, received %s\n",
			indent, format_safe(&sb, ps->name),
			ps->address ? ps->address : "address not known yet",
			sent, got);
		for (v = PEER_OK + 1; v < PEER_VERDICT_MAX; v++)
			dropped += ps->dropped[v];
		fprintf(out, "%s  %lu sent (%lu failed), %lu accepted, "
			"%lu dropped", indent, ps->sent, ps->send_failed,
			ps->received, dropped);
		for (v = PEER_OK + 1; v < PEER_VERDICT_MAX; v++)
			if (ps->dropped[v])
				fprintf(out, ", %lu %s", ps->dropped[v],
					peer_verdict_name(v));
		fputc('\n', out);
	}
	if (rep->unknown || rep->oversize || rep->malformed)
		fprintf(out, "%sdropped from nobody paired: %lu unknown peer, "
			"%lu oversize, %lu malformed\n", indent, rep->unknown,
			rep->oversize, rep->malformed);
	strbuf_release(&sb);
}

void format_hooks_json(const struct hooks_report *rep, FILE *out)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	size_t i;

	put_bool(o, "ok", !rep->bad);
	format_put(o, "hooks_path_reset", rep->hooks_path_reset);
	for (i = 0; i < rep->nr; i++) {
		json_object *h = json_object_new_object();

		format_put(h, "name", rep->v[i].name);
		format_put(h, "state", hook_state_name(rep->v[i].state));
		format_put(h, "path", rep->v[i].path);
		format_put(h, "chains_to", rep->v[i].chains_to);
		json_object_array_add(arr, h);
	}
	json_object_object_add(o, "hooks", arr);
	format_json(o, out);
}

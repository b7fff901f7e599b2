/*
 * messaging.c: writing messages.  Addressing, as git-thrum(1) says: "@x"
 * names an agent, a group or a role (looked up in that order in the
 * projection), "@everyone" broadcasts, and an unknown name is an error
 * before anything is written.  A message to agents carries them in
 * recipients[] and as mention refs (what the original writes); a role is
 * a mention ref only, so agents who take the role later see it too.
 */
#include "thrum.h"
#include "messaging.h"
#include "core.h"
#include "event.h"
#include "format.h"
#include "identity.h"
#include "projection.h"
#include "strbuf.h"
#include "ulid.h"
#include "usage.h"
#include "wrapper.h"

void audience_release(struct audience *a)
{
	strvec_clear(&a->agents);
	strvec_clear(&a->mentions);
	strvec_clear(&a->groups);
	a->everyone = 0;
}

static void push_unique(struct strvec *sv, const char *s)
{
	if (!strvec_has(sv, s))
		strvec_push(sv, s);
}

int audience_parse(struct core *c, const char *list, struct audience *a)
{
	struct strbuf unknown = STRBUF_INIT;
	const char *p = list;
	int ret = 0;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char *name;
		enum recipient_kind kind;

		while (n && isspace((unsigned char)*p)) {
			p++;
			n--;
		}
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (n && *p == '@') {
			p++;
			n--;
		}
		name = xstrndup(p, n);
		p += n;
		while (*p && *p != ',')
			p++;
		if (*p == ',')
			p++;
		if (!*name) {
			free(name);
			continue;
		}
		if (!strcmp(name, "everyone") || !strcmp(name, "all")) {
			a->everyone = 1;
		} else if (core_resolve(c, name, &kind) < 0) {
			ret = -1;
		} else if (kind == RECIPIENT_AGENT) {
			push_unique(&a->agents, name);
		} else if (kind == RECIPIENT_GROUP) {
			push_unique(&a->groups, name);
		} else if (kind == RECIPIENT_ROLE) {
			push_unique(&a->mentions, name);
		} else {
			strbuf_addf(&unknown, "%s@%s", unknown.len ? ", " : "",
				    name);
		}
		free(name);
	}
	if (unknown.len)
		ret = error("unknown recipient %s: no agent, group or role of "
			    "that name", unknown.buf);
	else if (!ret && !a->everyone && !a->agents.nr && !a->mentions.nr &&
		 !a->groups.nr)
		ret = error("no recipient in '%s'", list);
	strbuf_release(&unknown);
	return ret;
}

void audience_for_reply(const struct message *parent, const char *me,
			struct audience *a)
{
	size_t i;

	for (i = 0; parent->audience && i < parent->audience->nr; i++) {
		const char *entry = parent->audience->v[i];
		const char *v = strchr(entry, ':') + 1;

		if (!strncmp(entry, "broadcast:", 10))
			a->everyone = 1;
		else if (!strncmp(entry, "group:", 6))
			push_unique(&a->groups, v);
		else if (!strcmp(v, me))
			continue;
		else if (!strncmp(entry, "to:", 3))
			push_unique(&a->agents, v);
	}
	/* mentions that are not recipients are roles */
	for (i = 0; parent->audience && i < parent->audience->nr; i++) {
		const char *entry = parent->audience->v[i];

		if (!strncmp(entry, "mention:", 8) &&
		    !strvec_has(&a->agents, entry + 8) && strcmp(entry + 8, me))
			push_unique(&a->mentions, entry + 8);
	}
	if (strcmp(parent->agent_id, me))
		push_unique(&a->agents, parent->agent_id);
	if (!a->everyone && !a->agents.nr && !a->mentions.nr && !a->groups.nr)
		push_unique(&a->agents, me);	/* replying to oneself */
}

const char *message_tag_invalid(const char *s, int is_ref)
{
	const char *colon = strchr(s, ':'), *p;
	size_t n;

	if (!colon)
		return "want type:value";
	n = colon - s;
	if (!n)
		return "the type is empty";
	if (!colon[1])
		return "the value is empty";
	for (p = s; p < colon; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_-.", *p))
			return "the type may hold only letters, digits, '_', "
			       "'-' and '.'";
	if (event_tag_addressing(s, n, is_ref))
		return is_ref ? "that type is written by --to and --reply-to"
			      : "that type is written by --to";
	return NULL;
}

/* each "type:value" of tags, by add (event_add_scope or event_add_ref) */
static void add_tags(struct event *ev, const struct strvec *tags,
		     void (*add)(struct event *, const char *, const char *))
{
	size_t i;

	for (i = 0; tags && i < tags->nr; i++) {
		const char *colon = strchr(tags->v[i], ':');
		char *type = xstrndup(tags->v[i], colon - tags->v[i]);

		add(ev, type, colon + 1);
		free(type);
	}
}

int message_valid_priority(const char *p)
{
	static const char *const ok[] = { "critical", "high", "normal",
					  "low" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++)
		if (!strcmp(p, ok[i]))
			return 1;
	return 0;
}

int message_send(struct core *c, const struct compose *m,
		 char **message_id, char **thread_id)
{
	struct event ev = EVENT_INIT;
	struct event *list[1] = { &ev };
	size_t i;
	int ret = -1;

	if (core_need_writer(c) < 0 ||
	    core_new_event(c, &ev, EV_MESSAGE_CREATE) < 0)
		goto out;
	ev.message_id = ulid_new_id("msg_");
	ev.agent_id = xstrdup(c->me->agent_id);
	ev.session_id = xstrdup_or_null(c->me->session_id);
	ev.body_format = xstrdup("markdown");
	ev.body_content = xstrdup(m->body);
	if (m->priority && strcmp(m->priority, "normal"))
		ev.priority = xstrdup(m->priority);
	/* the sender's own first, as the original writes them */
	add_tags(&ev, m->scopes, event_add_scope);
	add_tags(&ev, m->refs, event_add_ref);
	for (i = 0; i < m->to->agents.nr; i++) {
		event_add_recipient(&ev, m->to->agents.v[i]);
		event_add_ref(&ev, "mention", m->to->agents.v[i]);
	}
	for (i = 0; i < m->to->mentions.nr; i++)
		event_add_ref(&ev, "mention", m->to->mentions.v[i]);
	for (i = 0; i < m->to->groups.nr; i++) {
		event_add_ref(&ev, "group", m->to->groups.v[i]);
		event_add_scope(&ev, "group", m->to->groups.v[i]);
	}
	if (m->to->everyone) {
		event_add_ref(&ev, "broadcast", "everyone");
		event_add_scope(&ev, "broadcast", "everyone");
	}
	if (m->parent) {
		event_add_ref(&ev, "reply_to", m->parent->message_id);
		ev.thread_id = m->parent->thread_id
			? xstrdup(m->parent->thread_id) : ulid_new_id("thr_");
	}
	if (core_append(c, c->me->name, list, 1) < 0)
		goto out;
	*message_id = xstrdup(ev.message_id);
	*thread_id = xstrdup_or_null(ev.thread_id);
	ret = 0;
out:
	event_release(&ev);
	return ret;
}

static int check_tags(const struct strvec *tags, int is_ref)
{
	size_t i;
	const char *why;

	for (i = 0; tags && i < tags->nr; i++)
		if ((why = message_tag_invalid(tags->v[i], is_ref)))
			return error("invalid %s '%s': %s",
				     is_ref ? "ref" : "scope", tags->v[i], why);
	return 0;
}

int message_send_request(struct core *c, const struct send_request *rq,
			 struct audience *to, char **message_id,
			 char **thread_id, char **parent_id)
{
	struct message_list parent = MESSAGE_LIST_INIT;
	struct compose m = { 0 };
	int ret = -1;

	*parent_id = NULL;
	if (check_tags(rq->scopes, 0) < 0 || check_tags(rq->refs, 1) < 0 ||
	    core_need_writer(c) < 0)
		goto out;
	if (rq->reply_to) {
		if (message_lookup(c, rq->reply_to, &parent) < 0)
			goto out;
		if (parent.items[0].deleted) {
			error("message '%s' is deleted",
			      parent.items[0].message_id);
			goto out;
		}
	}
	if (rq->to) {
		if (audience_parse(c, rq->to, to) < 0)
			goto out;
	} else if (parent.nr) {
		audience_for_reply(&parent.items[0], c->me->agent_id, to);
	} else {
		to->everyone = 1;
	}
	m.body = rq->body;
	m.scopes = rq->scopes;
	m.refs = rq->refs;
	m.priority = rq->priority;
	m.parent = parent.nr ? &parent.items[0] : NULL;
	m.to = to;
	if (message_send(c, &m, message_id, thread_id) < 0)
		goto out;
	if (parent.nr)
		*parent_id = xstrdup(parent.items[0].message_id);
	ret = 0;
out:
	message_list_release(&parent);
	return ret;
}

int message_change(struct core *c, const char *id, const char *body,
		   const char *reason, char **message_id, char **event_id)
{
	struct message_list l = MESSAGE_LIST_INIT;
	struct event ev = EVENT_INIT;
	struct event *list[1] = { &ev };
	const struct message *m;
	int ret = -1;

	if (core_need_writer(c) < 0 || message_lookup(c, id, &l) < 0)
		goto out;
	m = &l.items[0];
	if (strcmp(m->agent_id, c->me->agent_id)) {
		struct strbuf who = STRBUF_INIT, msg = STRBUF_INIT;

		error("only the author ('%s') can %s message '%s'",
		      format_safe(&who, m->agent_id), body ? "edit" : "delete",
		      format_safe(&msg, m->message_id));
		strbuf_release(&who);
		strbuf_release(&msg);
		goto out;
	}
	if (m->deleted) {
		error("message '%s' is already deleted", m->message_id);
		goto out;
	}
	if (core_new_event(c, &ev, body ? EV_MESSAGE_EDIT
					: EV_MESSAGE_DELETE) < 0)
		goto out;
	ev.message_id = xstrdup(m->message_id);
	ev.agent_id = xstrdup(c->me->agent_id);
	ev.session_id = xstrdup_or_null(c->me->session_id);
	if (body) {
		ev.body_format = xstrdup("markdown");
		ev.body_content = xstrdup(body);
	} else if (reason) {
		ev.reason = xstrdup(reason);
	}
	if (core_append(c, c->me->name, list, 1) < 0)
		goto out;
	*message_id = xstrdup(m->message_id);
	*event_id = xstrdup(ev.event_id);
	ret = 0;
out:
	event_release(&ev);
	message_list_release(&l);
	return ret;
}

int message_mark_read(struct core *c, const struct message_list *l)
{
	struct event *evs = xcalloc(l->nr ? l->nr : 1, sizeof(*evs));
	struct event **list = xcalloc(l->nr ? l->nr : 1, sizeof(*list));
	size_t i, nr = 0;
	int ret = -1;

	if (!c->me) {
		ret = 0;	/* nobody reads: nothing to mark */
		goto out;
	}
	for (i = 0; i < l->nr; i++) {
		const struct message *m = &l->items[i];
		struct event *ev = &evs[nr];

		if (m->is_read || !strcmp(m->agent_id, c->me->agent_id))
			continue;
		if (core_new_event(c, ev, EV_MESSAGE_RECEIPT) < 0)
			goto out;
		ev->message_id = xstrdup(m->message_id);
		ev->agent_id = xstrdup(c->me->agent_id);
		ev->session_id = xstrdup_or_null(c->me->session_id);
		ev->receipt_type = xstrdup("read");
		list[nr++] = ev;
	}
	if (!nr)
		ret = 0;
	else if (c->me_is_user)
		/* the human user's read marks stay in this clone */
		ret = core_append_local(c, list, nr);
	else
		ret = core_append(c, c->me->name, list, nr);
out:
	for (i = 0; i < l->nr; i++)
		event_release(&evs[i]);
	free(evs);
	free(list);
	return ret;
}

int message_lookup(struct core *c, const char *id, struct message_list *out)
{
	int ret;

	ret = projection_message(c->proj, id, c->me ? c->me->agent_id : NULL,
				 out);
	if (ret == THRUM_ENOTFOUND)
		return error("no message '%s'", id);
	if (ret == THRUM_EINVALID)
		return error("message id '%s' is ambiguous", id);
	return ret < 0 ? -1 : 0;
}

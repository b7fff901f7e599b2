/*
 * Sessions (session.h): the events first, then the identity file, so that
 * an identity never names a session the log does not have.
 */
#include "thrum.h"
#include "session.h"
#include "core.h"
#include "event.h"
#include "identity.h"
#include "ulid.h"
#include "usage.h"
#include "wrapper.h"

/* an agent.register, then an end, a start and an update at most */
#define SESSION_EVENTS_MAX 4

static struct event *add_event(struct core *c, struct event *evs,
			       size_t *nr, enum event_type type)
{
	struct event *ev = &evs[*nr];

	if (*nr >= SESSION_EVENTS_MAX)
		BUG("too many session events");
	if (core_new_event(c, ev, type) < 0)
		return NULL;
	ev->agent_id = xstrdup(c->me->agent_id);
	(*nr)++;
	return ev;
}

static int change(struct core *c, int start, const char *text,
		  struct event *first)
{
	struct event evs[SESSION_EVENTS_MAX];
	struct event *list[SESSION_EVENTS_MAX], *ev;
	size_t nr = 0, i;
	int ret = -1;

	memset(evs, 0, sizeof(evs));
	if (first) {
		evs[nr++] = *first;
		*first = (struct event)EVENT_INIT;
	}
	if (core_need_writer(c) < 0)
		goto out;
	if (!start && !c->me->session_id) {
		error("no open session for '%s'", c->me->name);
		goto out;
	}
	if (c->me->session_id) {
		if (!(ev = add_event(c, evs, &nr, EV_AGENT_SESSION_END)))
			goto out;
		ev->session_id = xstrdup(c->me->session_id);
		ev->reason = xstrdup(start ? "restart" : text ? text
								: "normal");
	}
	free(c->me->session_id);
	c->me->session_id = NULL;
	if (start) {
		c->me->session_id = ulid_new_id("ses_");
		if (!(ev = add_event(c, evs, &nr, EV_AGENT_SESSION_START)))
			goto out;
		ev->session_id = xstrdup(c->me->session_id);
	}
	if (start && text) {
		if (!(ev = add_event(c, evs, &nr, EV_AGENT_UPDATE)))
			goto out;
		ev->session_id = xstrdup(c->me->session_id);
		ev->intent = xstrdup(text);
		free(c->me->intent);
		c->me->intent = xstrdup(text);
	}
	for (i = 0; i < nr; i++)
		list[i] = &evs[i];
	if (core_append(c, NULL, list, nr) < 0 ||
	    identity_save(c->repo, c->me) < 0)
		goto out;
	ret = 0;
out:
	for (i = 0; i < ARRAY_SIZE(evs); i++)
		event_release(&evs[i]);
	return ret;
}

int session_start(struct core *c, const char *intent)
{
	return change(c, 1, intent, NULL);
}

int session_start_after(struct core *c, struct event *first,
			const char *intent)
{
	return change(c, 1, intent, first);
}

int session_end(struct core *c, const char *reason)
{
	return change(c, 0, reason, NULL);
}

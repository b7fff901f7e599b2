/*
 * Quickstart and delete (agents.h): the old identity decides the agent
 * id and whether a new agent.register is needed; only an agent with an
 * identity here can be deleted from here.
 */
#include "thrum.h"
#include "agents.h"
#include "core.h"
#include "event.h"
#include "identity.h"
#include "session.h"
#include "usage.h"
#include "wrapper.h"

static int differs(const char *a, const char *b)
{
	return !a != !b || (a && strcmp(a, b));
}

int agent_quickstart(struct core *c, const struct agent_start *rq,
		     struct identity *id, int *updated)
{
	struct identity old = IDENTITY_INIT;
	struct event reg = EVENT_INIT;
	struct core as_me = *c;
	int have_old, ret = -1;

	have_old = identity_load(c->repo, rq->name, &old);
	if (have_old == THRUM_EINVALID)
		warning("replacing the corrupt identity of '%s'", rq->name);
	have_old = have_old == 0;
	id->name = xstrdup(rq->name);
	id->agent_id = xstrdup(have_old ? old.agent_id : rq->name);
	id->kind = xstrdup("agent");
	id->role = xstrdup(rq->role);
	id->module = xstrdup(rq->module);
	id->worktree = xstrdup(rq->worktree);
	/* the session left open is ended ("restart") by the new one */
	id->session_id = have_old ? xstrdup_or_null(old.session_id) : NULL;
	id->intent = have_old ? xstrdup_or_null(old.intent) : NULL;

	if (!have_old || differs(old.role, id->role) ||
	    differs(old.module, id->module) ||
	    differs(old.worktree, id->worktree)) {
		if (core_new_event(c, &reg, EV_AGENT_REGISTER) < 0)
			goto out;
		reg.agent_id = xstrdup(id->agent_id);
		reg.kind = xstrdup(id->kind);
		reg.name = xstrdup(id->name);
		reg.role = xstrdup(id->role);
		reg.module = xstrdup(id->module);
		reg.worktree = xstrdup(id->worktree);
		if (rq->hostname && *rq->hostname)
			reg.hostname = xstrdup(rq->hostname);
	}
	as_me.me = id;
	as_me.me_is_user = 0;
	if (session_start_after(&as_me, reg.event_id ? &reg : NULL,
				rq->intent) < 0)
		goto out;
	*updated = have_old;
	ret = 0;
out:
	c->appended |= as_me.appended;
	event_release(&reg);
	identity_release(&old);
	return ret;
}

/*
 * A cleanup counts only when signed by the key of the agent it deletes
 * (Documentation/security.adoc, "Cleanups and purges"): it is written
 * as that agent, with its key, when its key file is here.  Without one
 * (an identity made before keys) the current identity writes it, as
 * before; it then counts only while the agent has no key.
 */
int agent_delete(struct core *c, const char *name, char **agent_id)
{
	struct identity id = IDENTITY_INIT;
	struct event ev = EVENT_INIT;
	struct event *list[1] = { &ev };
	struct core as_it = *c;
	char *key = NULL;
	int r, ret = -1;

	r = identity_load(c->repo, name, &id);
	if (r == THRUM_ENOTFOUND) {
		error("'%s' is not an agent of this work tree: only those with "
		      "an identity here can be deleted here", name);
		goto out;
	}
	if (r < 0)
		goto out;
	key = identity_key_path(c->repo, id.name);
	if (!access(key, F_OK)) {
		as_it.me = &id;
		as_it.me_is_user = 0;
	} else {
		warning("'%s' has no key here: the deletion is signed by "
			"another, and counts only while '%s' has no key",
			name, name);
	}
	if (core_new_event(&as_it, &ev, EV_AGENT_CLEANUP) < 0)
		goto out;
	ev.agent_id = xstrdup(id.agent_id);
	ev.reason = xstrdup("manual deletion");
	ev.method = xstrdup("manual");
	/* the log first: an identity without its cleanup could be retried */
	if (core_append(&as_it, NULL, list, 1) < 0 ||
	    identity_remove(c->repo, name) < 0)
		goto out;
	c->appended |= as_it.appended;
	*agent_id = xstrdup(id.agent_id);
	ret = 0;
out:
	free(key);
	event_release(&ev);
	identity_release(&id);
	return ret;
}

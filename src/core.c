/*
 * The parts every core operation shares (core.h).
 */
#include "thrum.h"
#include "core.h"
#include "event.h"
#include "identity.h"
#include "store.h"
#include "usage.h"

int core_need_writer(const struct core *c)
{
	if (!c->me || c->me_is_user)
		return error("no identity in this work tree; create one with "
			     "'git thrum quickstart --role R --module M' "
			     "(--name N to choose the name)");
	return 0;
}

int core_new_event(struct core *c, struct event *ev, enum event_type type)
{
	if (!c->origin)
		return error("this clone has no origin id");
	return event_init_new(ev, type, c->origin);
}

int core_append(struct core *c, const char *shard, struct event **evs,
		size_t nr)
{
	c->appended = 1;
	return store_append(c->store, shard, evs, nr);
}

int core_append_local(struct core *c, struct event **evs, size_t nr)
{
	c->appended = 1;
	return store_append_local(c->store, evs, nr);
}

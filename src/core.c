/*
 * The parts every core operation shares (core.h).
 */
#include "thrum.h"
#include <sodium.h>
#include "core.h"
#include "event.h"
#include "identity.h"
#include "repo.h"
#include "sign.h"
#include "store.h"
#include "strbuf.h"
#include "wrapper.h"
#include "projection.h"
#include "usage.h"

int core_need_writer(const struct core *c)
{
	if (!c->me || c->me_is_user)
		return error("no identity in this work tree; create one with "
			     "'git thrum quickstart --role R --module M' "
			     "(--name N to choose the name)");
	return 0;
}

int core_resolve(struct core *c, const char *name, enum recipient_kind *kind)
{
	if (c->resolve)
		return c->resolve(c, name, kind);
	return projection_resolve(c->proj, name, kind);
}

int core_new_event(struct core *c, struct event *ev, enum event_type type)
{
	if (!c->origin)
		return error("this clone has no origin id");
	return event_init_new(ev, type, c->origin);
}

/* a registration of me, in the shape quickstart writes, with my key */
static int new_registration(struct core *c, struct event *reg)
{
	const struct identity *me = c->me;

	if (core_new_event(c, reg, EV_AGENT_REGISTER) < 0)
		return -1;
	reg->agent_id = xstrdup(me->agent_id);
	reg->kind = xstrdup_or_null(me->kind);
	reg->name = xstrdup(me->name);
	reg->role = xstrdup_or_null(me->role);
	reg->module = xstrdup_or_null(me->module);
	reg->worktree = xstrdup_or_null(me->worktree);
	reg->display = xstrdup_or_null(me->display);
	return 0;
}

/*
 * An agent signs everything it writes, and every agent.register of it
 * names its key.  An identity without a key (made before keys, or its
 * key file lost) gets one now, with a new agent.register ahead of evs;
 * the key file is written once the log holds that registration, so a
 * failed append leaves no key that the log does not know.
 */
int core_append(struct core *c, const char *shard, struct event **evs,
		size_t nr)
{
	struct event reg = EVENT_INIT, **all = evs;
	struct strbuf pk = STRBUF_INIT;
	struct sign_key key;
	char *path = NULL;
	int fresh = 0, ret = -1, have_reg = 0;
	size_t i;

	c->appended = 1;
	if (!c->me || c->me_is_user || !c->repo)
		return store_append(c->store, shard, evs, nr);
	path = identity_key_path(c->repo, c->me->name);
	ret = sign_key_load(path, &key);
	if (ret == THRUM_ENOTFOUND) {
		fresh = 1;
		ret = sign_keygen(&key);
	}
	if (ret < 0)
		goto out;
	ret = -1;
	sign_pubkey_text(key.pk, &pk);
	for (i = 0; i < nr; i++)
		if (evs[i]->type == EV_AGENT_REGISTER) {
			free(evs[i]->pubkey);
			evs[i]->pubkey = xstrdup(pk.buf);
			have_reg = 1;
		}
	if (fresh && !have_reg) {
		if (new_registration(c, &reg) < 0)
			goto out;
		reg.pubkey = xstrdup(pk.buf);
		all = xcalloc(nr + 1, sizeof(*all));
		all[0] = &reg;
		memcpy(all + 1, evs, nr * sizeof(*evs));
		nr++;
	}
	c->store->sign_key = &key;
	ret = store_append(c->store, shard, all, nr);
	c->store->sign_key = NULL;
	if (!ret && fresh) {
		char *dir = path_join(c->repo->local_thrum_dir, "identities");

		if (mkdir_p(dir, 0700) < 0)
			ret = error_errno("cannot create '%s'", dir);
		else
			ret = sign_key_save(path, &key);
		free(dir);
	}
out:
	sodium_memzero(&key, sizeof(key));
	if (all != evs)
		free(all);
	event_release(&reg);
	strbuf_release(&pk);
	free(path);
	return ret;
}

int core_rotate_key(struct core *c, struct strbuf *old_pk,
		    struct strbuf *new_pk)
{
	struct event reg = EVENT_INIT, *list[1] = { &reg };
	struct sign_key old, fresh;
	char *path = NULL, *next = NULL;
	int ret;

	if ((ret = core_need_writer(c)) < 0)
		return ret;
	path = identity_key_path(c->repo, c->me->name);
	next = xstrfmt("%s.new", path);
	ret = sign_key_load(path, &old);
	if (ret == THRUM_ENOTFOUND) {
		error("'%s' has no key yet: its next command that writes "
		      "makes one", c->me->name);
		goto out;
	}
	if (ret < 0 || (ret = sign_keygen(&fresh)) < 0)
		goto out;
	ret = -1;
	sign_pubkey_text(old.pk, old_pk);
	sign_pubkey_text(fresh.pk, new_pk);
	if (new_registration(c, &reg) < 0)
		goto out;
	reg.pubkey = xstrdup(new_pk->buf);
	/* the new key is kept before the log names it */
	if (sign_key_save(next, &fresh) < 0)
		goto out;
	c->appended = 1;
	c->store->sign_key = &old;
	ret = store_append(c->store, NULL, list, 1);
	c->store->sign_key = NULL;
	if (ret < 0) {
		unlink(next);
		goto out;
	}
	/* the line is durable: only now does the old key go */
	if (rename(next, path) < 0)
		ret = error_errno("cannot replace '%s' (the new key is in "
				  "'%s')", path, next);
out:
	sodium_memzero(&old, sizeof(old));
	sodium_memzero(&fresh, sizeof(fresh));
	event_release(&reg);
	free(path);
	free(next);
	return ret;
}

int core_append_local(struct core *c, struct event **evs, size_t nr)
{
	c->appended = 1;
	return store_append_local(c->store, evs, nr);
}

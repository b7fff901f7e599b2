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
#include "strvec.h"
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
 * What a new key owns (projection_vouchable()), from a projection of its
 * own brought up to date with the log: the caller's may be behind, and
 * the daemon's cores have none.  0 or -1.
 */
static int vouchable(struct core *c, struct strvec *ids)
{
	struct projection *own = NULL;
	int ret;

	if (!c->store)
		return error("no database to find the lines of '%s' in",
			     c->me->agent_id);
	ret = projection_open(&own, c->store->var_dir) < 0 ||
	      projection_update(own, c->store, NULL, NULL) < 0 ||
	      projection_vouchable(own, c->me->agent_id, ids) < 0 ? -1 : 0;
	projection_free(own);
	return ret;
}

/*
 * A name's first key owns its unsigned lines that this clone holds: the
 * lines an identity made before keys wrote (the original Thrum's).  One
 * agent.vouch per EVENT_VOUCH_MAX of them, signed by the key
 * (Documentation/security.adoc, "Lines from before a key").
 * *out gets the events (*nr of them).  0 or -1.
 */
static int new_vouches(struct core *c, struct event **out, size_t *nr)
{
	struct strvec ids = STRVEC_INIT;
	struct event *v = NULL;
	size_t i, k = 0;
	int ret = -1;

	*out = NULL;
	*nr = 0;
	if (vouchable(c, &ids) < 0)
		goto out;
	if (ids.nr)
		v = xcalloc((ids.nr + EVENT_VOUCH_MAX - 1) / EVENT_VOUCH_MAX,
			    sizeof(*v));
	for (i = 0; i < ids.nr; i++) {
		if (!(i % EVENT_VOUCH_MAX)) {
			struct event *e = &v[k++];

			if (core_new_event(c, e, EV_AGENT_VOUCH) < 0)
				goto out;
			e->agent_id = xstrdup(c->me->agent_id);
		}
		if (event_add_vouched(&v[k - 1], ids.v[i]) < 0) {
			error("cannot vouch for '%s'", ids.v[i]);
			goto out;
		}
	}
	ret = 0;
out:
	if (ret < 0) {
		for (i = 0; i < k; i++)
			event_release(&v[i]);
		free(v);
		v = NULL;
		k = 0;
	}
	*out = v;
	*nr = k;
	strvec_clear(&ids);
	return ret;
}

/*
 * An agent signs everything it writes, and every agent.register of it
 * names its key.  An identity without a key (made before keys, or its
 * key file lost) gets one now, with a new agent.register ahead of evs
 * and the vouches for its unsigned lines after them (new_vouches());
 * the key file is written once the log holds that registration, so a
 * failed append leaves no key that the log does not know.
 */
int core_append(struct core *c, const char *shard, struct event **evs,
		size_t nr)
{
	struct event reg = EVENT_INIT, **all = evs, *vouches = NULL;
	struct strbuf pk = STRBUF_INIT;
	struct sign_key key;
	char *path = NULL;
	int fresh = 0, ret = -1, have_reg = 0;
	size_t i, nr_vouches = 0, n;

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
	}
	if (fresh && new_vouches(c, &vouches, &nr_vouches) < 0)
		goto out;
	if (fresh) {
		n = 0;
		all = xcalloc(nr + nr_vouches + 1, sizeof(*all));
		if (!have_reg)
			all[n++] = &reg;
		memcpy(all + n, evs, nr * sizeof(*evs));
		n += nr;
		for (i = 0; i < nr_vouches; i++)
			all[n++] = &vouches[i];
		nr = n;
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
	for (i = 0; i < nr_vouches; i++)
		event_release(&vouches[i]);
	free(vouches);
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

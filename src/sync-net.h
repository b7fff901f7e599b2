#ifndef THRUM_SYNC_NET_H
#define THRUM_SYNC_NET_H

/*
 * The network step of a sync cycle (sync.c's only): `git fetch` and `git
 * push` of a-sync, and what their failures mean.  *err receives a
 * message, owned by the caller (free()), whenever the result is not
 * NET_OK; *failed the failure class (a state of sync.h) for NET_FAILED
 * and NET_REJECTED.
 */
#include "sync.h"

struct repo;
struct thrum_config;

enum net_result {
	NET_OK, NET_NO_BRANCH, NET_REJECTED, NET_REFUSED, NET_FAILED
};

/*
 * Fetch thrum.remote's a-sync into refs/remotes/<remote>/a-sync.
 * NET_NO_BRANCH: the remote has no a-sync yet (the first push makes
 * it).  A ref lock held by a concurrent git fetch is tried a few times,
 * then reported as NET_FAILED with SYNC_BUSY.  flags: enum sync_flags.
 * clones: every clone's ref too, into refs/thrum/remotes/<remote>/.
 */
enum net_result sync_fetch(const struct repo *r,
			   const struct thrum_config *cfg, unsigned flags,
			   int clones, char **err, enum sync_state *failed);

/*
 * Push a-sync to thrum.remote.  NET_REJECTED: the remote moved, or
 * another push held its ref (a race: fetch, merge and try again);
 * NET_REFUSED: the remote refused it for any other reason (a hook, a
 * protected branch), which trying again will not change.  Both with
 * SYNC_REJECTED.
 */
enum net_result sync_push(const struct repo *r,
			  const struct thrum_config *cfg, unsigned flags,
			  char **err, enum sync_state *failed);

/*
 * Push several refs in one `git push`.  A ref with a lease is forced,
 * provided the remote's is still lease (a commit id; "": it must not
 * exist); one without must fast-forward.  Each ref's res receives
 * NET_OK, NET_REJECTED (a race, as above), NET_REFUSED, and why git's
 * reason (free() it); the return is NET_FAILED (with *err and *failed)
 * when the push did not get through at all, else NET_OK.
 */
struct push_ref {
	const char *src, *dst;	/* "refs/heads/a-sync" */
	const char *lease;	/* NULL: no force */
	enum net_result res;
	char *why;
};
enum net_result sync_push_refs(const struct repo *r,
			       const struct thrum_config *cfg, unsigned flags,
			       struct push_ref *refs, size_t nr, char **err,
			       enum sync_state *failed);

#endif

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

enum net_result { NET_OK, NET_NO_BRANCH, NET_REJECTED, NET_FAILED };

/*
 * Fetch thrum.remote's a-sync into refs/remotes/<remote>/a-sync.
 * NET_NO_BRANCH: the remote has no a-sync yet (the first push makes
 * it).  A ref lock held by a concurrent git fetch is tried a few times,
 * then reported as NET_FAILED with SYNC_BUSY.  flags: enum sync_flags.
 */
enum net_result sync_fetch(const struct repo *r,
			   const struct thrum_config *cfg, unsigned flags,
			   char **err, enum sync_state *failed);

/* push a-sync to thrum.remote; NET_REJECTED when the remote refused it */
enum net_result sync_push(const struct repo *r,
			  const struct thrum_config *cfg, unsigned flags,
			  char **err, enum sync_state *failed);

#endif

#ifndef THRUM_SYNC_NET_H
#define THRUM_SYNC_NET_H

/*
 * The network step of a sync cycle (sync.c's only): `git fetch` and `git
 * push` of a-sync.  *err receives a message, owned by the caller
 * (free()), whenever the result is not NET_OK.
 */
struct repo;
struct thrum_config;

enum net_result { NET_OK, NET_NO_BRANCH, NET_REJECTED, NET_FAILED };

/*
 * Fetch thrum.remote's a-sync into refs/remotes/<remote>/a-sync.
 * NET_NO_BRANCH: the remote has no a-sync yet (the first push makes it).
 */
enum net_result sync_fetch(const struct repo *r,
			   const struct thrum_config *cfg, char **err);

/* push a-sync to thrum.remote; NET_REJECTED when the remote refused it */
enum net_result sync_push(const struct repo *r,
			  const struct thrum_config *cfg, char **err);

#endif

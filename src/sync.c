/*
 * sync.c: the sync cycle, exchanging a-sync with the remote, as steps:
 * fetch (sync-net.c), merge (sync-merge.c), project, commit
 * (sync-commit.c), push (sync-net.c), then the status (sync-status.c).
 *
 * Invariants:
 *  - one cycle at a time per repository: a lock on var/sync.lock, and a
 *    held lock means "busy", never an error;
 *  - the network goes through the git command (the user's credentials,
 *    ssh configuration and helpers apply); objects and refs through
 *    libgit2; a-sync only ever moves by compare-and-swap;
 *  - an idle cycle makes no commit and loads no libgit2; an active one
 *    makes at most one commit per attempt, whose parent is the remote
 *    tip (linear history).
 */
#include "thrum.h"
#include "sync.h"
#include "blob-cache.h"
#include "sync-internal.h"
#include "clock.h"
#include "config.h"
#include "date.h"
#include "gitx.h"
#include "lockfile.h"
#include "merge.h"
#include "projection.h"
#include "repo.h"
#include "store.h"
#include "strbuf.h"
#include "strvec.h"
#include "sync-net.h"
#include "synctree.h"
#include "usage.h"
#include "wrapper.h"

/*
 * A rejected push is tried again after a pause drawn at random below a
 * ceiling that doubles after each rejection ("full jitter": the clones
 * that lost the same race spread out instead of colliding again).  It
 * starts at the length of the attempt that was rejected (at least
 * PUSH_BACKOFF_MIN_MS): that is the window another clone's push needs,
 * longer on a slow remote or a loaded machine.  It stops doubling at
 * PUSH_BACKOFF_MAX_MS or eight attempts' length, for as long as the
 * cycle's time budget lasts: two thrum.syncInterval, within
 * PUSH_BUDGET_MIN_MS and PUSH_BUDGET_MAX_MS (each retry merges and
 * projects what it fetched, so the clone still receives while it waits
 * to push).  Past it the cycle gives up as rejected; its
 * commit stays, and the next cycle pushes it.
 */
#define PUSH_BACKOFF_MIN_MS 40
#define PUSH_BACKOFF_MAX_MS 1000
#define PUSH_BUDGET_MIN_MS 4000
#define PUSH_BUDGET_MAX_MS 60000
/* a remote that refused clone refs is asked again after this long */
#define CLONES_OFF_MS (3600 * 1000)

/* --- the cycle --- */

long sync_random_below(long n)
{
	uint32_t x = 0;

	if (n <= 1)
		return 0;
	if (getrandom(&x, sizeof(x), 0) != sizeof(x))
		x = (uint32_t)getpid() * 2654435761u ^ (uint32_t)now_ms();
	return (long)(x % (uint32_t)n);
}

static long push_budget_ms(const struct thrum_config *cfg)
{
	long ms = cfg->sync_interval > PUSH_BUDGET_MAX_MS / 2000 ?
		  PUSH_BUDGET_MAX_MS : cfg->sync_interval * 2000;

	return ms < PUSH_BUDGET_MIN_MS ? PUSH_BUDGET_MIN_MS : ms;
}

/*
 * After the n-th rejection of an attempt that took attempt_ms: pause,
 * and 1 to try again, or 0 when the pause would end past the deadline
 * (the cycle gives up)
 */
static int backoff(int n, int64_t attempt_ms, int64_t deadline)
{
	long ceiling = attempt_ms > PUSH_BACKOFF_MIN_MS ? (long)attempt_ms
		       : PUSH_BACKOFF_MIN_MS, pause;
	long most = attempt_ms * 8 > PUSH_BACKOFF_MAX_MS ? (long)attempt_ms * 8
		    : PUSH_BACKOFF_MAX_MS;

	while (--n > 0 && ceiling < most)
		ceiling *= 2;
	if (ceiling > most)
		ceiling = most;
	pause = sync_random_below(ceiling) + 1;
	if (now_ms() + pause >= deadline)
		return 0;
	sleep_ms(pause);
	return 1;
}

/*
 * A cycle with nothing to do, decided without libgit2 (loading it costs
 * more than the rest of such a cycle): a-sync is where the last cycle
 * left it, the remote branch is there too (the fetch brought nothing new,
 * and nothing waits to be pushed), and no log file changed since.  With
 * clone refs (cs not NULL): no clone's ref moved since it was merged,
 * nothing of ours waits to be pushed, and a-sync need not be drained
 * (by id, this clone's), nor pushed (foreground: a command pushes it
 * whenever it holds more than the remote's).
 * Fills *st and returns 1 when the cycle was idle.
 */
static int idle_cycle(const struct repo *r, const struct thrum_config *cfg,
		      struct store *s, const char *remote_ref,
		      const struct clone_state *cs, const char *id,
		      int foreground, struct sync_status *st)
{
	struct blob_cache cache = BLOB_CACHE_INIT;
	char local[GITX_OID_HEXSZ + 1], remote[GITX_OID_HEXSZ + 1];
	int idle = 0;

	blob_cache_read(r, &cache);
	if (!*cache.tip || repo_read_ref(r, GITX_SYNC_REF, local) ||
	    strcmp(local, cache.tip))
		goto out;
	if (!cfg->local_only && repo_read_ref(r, remote_ref, remote))
		goto out;
	if (!cfg->local_only && !cs && strcmp(remote, local))
		goto out;
	if (cs && (cs->pending || (cs->ahead && foreground) ||
		   strcmp(cs->base, local) ||
		   strcmp(cs->remote_tip, remote) || clone_drain_due(cs, id, cfg) ||
		   clone_refs_moved(r, cfg->remote, cs)))
		goto out;
	if (store_lock(s, LOCK_SH) < 0)
		goto out;
	idle = blob_cache_matches(&cache, s);
	store_unlock(s);
	if (!idle)
		goto out;
	if (cfg->local_only) {
		struct sync_status prev = SYNC_STATUS_INIT;

		/* the remote branch did not move: neither did the counts */
		if (!sync_status_read(r, &prev)) {
			st->ahead = prev.ahead;
			st->behind = prev.behind;
			st->remote_tip = prev.remote_tip;
			prev.remote_tip = NULL;
		}
		sync_status_release(&prev);
		st->state = SYNC_LOCAL_ONLY;
	} else {
		st->remote_tip = xstrdup(remote);
		st->state = SYNC_SYNCED;
	}
out:
	blob_cache_release(&cache);
	return idle;
}

static int lock_sync(const struct repo *r, int *fd, long wait_ms)
{
	char *path = path_join(r->var_dir, "sync.lock");
	int ret;

	/* a bounded wait: the other cycle's network step has a timeout too */
	ret = lock_take(path, LOCK_EX, wait_ms, 0600, fd);
	free(path);
	return ret;
}

int sync_running(const struct repo *r)
{
	char *path = path_join(r->var_dir, "sync.lock");
	int running = lock_held(path);

	free(path);
	return running;
}

/* what the remote's a-sync holds now, as far as this cycle knows */
void sync_set_remote_tip(struct sync_status *st, const struct gitx_oid *oid)
{
	char hex[GITX_OID_HEXSZ + 1];

	gitx_oid_hex(oid, hex);
	free(st->remote_tip);
	st->remote_tip = xstrdup(hex);
}

/*
 * The merge step and the projection of what it changed: the projection
 * is brought up to date first, so that the lines the merge brings are
 * all it has to read afterwards.
 */
int sync_merge_step(struct gitx_repo *repo, struct sync_merge_tip *tips,
		    size_t nr, const struct gitx_oid *local_tip,
		    const struct thrum_config *cfg, struct store *s,
		    struct projection *p, struct sync_status *st,
		    struct blob_cache *learned, struct log_changes *merged)
{
	struct catch_up_stats cs = { 0 };

	if (projection_update(p, s, NULL, NULL) < 0 ||
	    sync_merge(repo, tips, nr, local_tip, cfg, s, st, learned,
		       merged) < 0 ||
	    projection_update(p, s, merged, &cs) < 0)
		return -1;
	st->new_events += cs.applied;
	st->skipped += cs.unparseable;
	st->conflicts += cs.conflicts;
	return 0;
}

int sync_open_projection(struct cycle *c)
{
	if (c->p)
		return 0;
	if (projection_open(&c->own, c->r->var_dir) < 0) {
		c->err = xstrdup("cannot open the database");
		return -1;
	}
	c->p = c->own;
	return 0;
}

/* does commit a descend from b (or equal it)? */
static int descends(struct gitx_repo *repo, const struct gitx_oid *a,
		    const struct gitx_oid *b)
{
	size_t ahead, behind;

	return gitx_oid_equal(a, b) ||
	       (!gitx_ahead_behind(repo, a, b, &ahead, &behind) && !behind);
}

/*
 * An append made after the attempt looked for them is in the commit it
 * makes: ours all the same, remembered (durably) before the commit
 * hides it.
 */
static int late_appends(void *data)
{
	struct cycle *c = data;

	if (c->cs.pending)
		return 0;
	c->cs.pending = 1;
	return clone_state_write(c->r, &c->cs, 1);
}

/*
 * One attempt: fetch, merge and project, commit, push.  ATTEMPT_AGAIN
 * when the push was rejected because the remote moved.
 */
static enum attempt_result attempt(struct cycle *c, int first)
{
	const struct thrum_config *cfg = c->cfg;
	struct sync_status *st = c->st;
	struct gitx_oid remote_tip, local_tip, tip;
	struct sync_appends appends;
	const struct gitx_oid *parent;
	char hex[GITX_OID_HEXSZ + 1];
	int have_remote, have_local, offline = 0;
	enum net_result nr = NET_OK;
	enum sync_state failed = SYNC_ERROR;

	free(c->err);
	c->err = NULL;
	blob_cache_release(&c->learned);
	log_changes_release(&c->merged);
	/* local appends to deliver: our ref needs no fetch before it */
	c->push_only = first && c->clones && c->track &&
		       (c->flags & SYNC_PUSH_ONLY);
	if (!cfg->local_only && !(c->flags & SYNC_NO_NETWORK) &&
	    !c->push_only) {
		nr = sync_fetch(c->r, cfg, c->flags, c->clones, &c->err,
				&failed);
		offline = nr == NET_FAILED;
		if (nr == NET_NO_BRANCH) {
			free(c->err);
			c->err = NULL;
		}
	}
	if (first && nr == NET_OK && !c->push_only &&
	    idle_cycle(c->r, cfg, c->s, c->remote_ref.buf,
		       c->clones ? &c->cs : NULL, c->clone_id,
		       !(c->flags & SYNC_BACKGROUND), st))
		return ATTEMPT_DONE;
	/*
	 * appends since the last commit: ours, and after this commit no
	 * longer visible as changed files, so remembered first (durably)
	 */
	if (c->track && !c->cs.pending &&
	    sync_worktree_changed(c->r, c->s)) {
		c->cs.pending = 1;
		if (clone_state_write(c->r, &c->cs, 1) < 0)
			return ATTEMPT_FAILED;
	}
	if (!c->repo && gitx_open(&c->repo, c->r->git_dir) < 0) {
		c->err = xstrdup("cannot open the repository");
		return ATTEMPT_FAILED;
	}
	have_remote = !gitx_resolve(c->repo, c->remote_ref.buf, &remote_tip);
	have_local = !gitx_resolve(c->repo, GITX_SYNC_REF, &local_tip);
	if (c->track) {
		/*
		 * the record holds only while a-sync is where it left it: a
		 * cycle without it may have committed appends (push them)
		 * and the tips merged before may be gone (merge all again)
		 */
		if (have_local)
			gitx_oid_hex(&local_tip, hex);
		if (!have_local || strcmp(hex, c->cs.base)) {
			clone_tips_release(&c->cs.merged);
			c->cs.pending = 1; /* appends it missed */
		}
	}
	if (have_remote && !c->clones && sync_open_projection(c) < 0)
		return ATTEMPT_FAILED;
	/* the remote's a-sync and every clone ref that moved, in one merge */
	if (c->clones) {
		if (clone_merge(c, have_local ? &local_tip : NULL,
				have_remote ? &remote_tip : NULL) < 0)
			return ATTEMPT_FAILED;
	} else if (have_remote) {
		struct sync_merge_tip one = { .tip = remote_tip };

		if (sync_merge_step(c->repo, &one, 1,
				    have_local ? &local_tip : NULL, cfg, c->s,
				    c->p, st, &c->learned, &c->merged) < 0 ||
		    one.failed)
			return ATTEMPT_FAILED;
	}
	if (have_remote) {
		sync_set_remote_tip(st, &remote_tip);
		if (c->clones && strcmp(c->cs.remote_tip, st->remote_tip)) {
			memcpy(c->cs.remote_tip, st->remote_tip,
			       GITX_OID_HEXSZ + 1);
			c->cs.remote_seen_ms = clone_wall_ms();
		}
	}
	/*
	 * on top of the remote's tip (linear history); with clone refs on
	 * top of ours when it already holds the remote's, so that our ref
	 * and a-sync both fast-forward
	 */
	parent = have_remote ? &remote_tip : have_local ? &local_tip : NULL;
	if (c->clones && have_remote && have_local &&
	    descends(c->repo, &local_tip, &remote_tip))
		parent = &local_tip;
	appends.merged = &c->merged;
	appends.appended = late_appends;
	appends.data = c;
	if (sync_commit(c->repo, c->r, cfg, c->s, parent,
			have_local ? &local_tip : NULL, &c->learned,
			c->track && !c->cs.pending ? &appends : NULL, st,
			&tip) < 0)
		return ATTEMPT_FAILED;
	if (!have_local || !gitx_oid_equal(&local_tip, &tip))
		c->moved = 1;
	if (c->track) {
		gitx_oid_hex(&tip, c->cs.base);
		c->cs.ahead = !have_remote || !gitx_oid_equal(&remote_tip, &tip);
		clone_state_write(c->r, &c->cs, 0);
	}
	if (cfg->local_only) {
		st->state = SYNC_LOCAL_ONLY;
		return ATTEMPT_DONE;
	}
	if ((c->flags & SYNC_NO_NETWORK) ||
	    (!offline && have_remote && gitx_oid_equal(&remote_tip, &tip) &&
	     !(c->clones && c->cs.pending))) {
		st->state = SYNC_SYNCED;
		return ATTEMPT_DONE;
	}
	if (offline) {
		/* committed here; the events wait for the network */
		st->state = failed;
		return ATTEMPT_DONE;
	}
	if (c->clones) {
		enum attempt_result res = clone_push(c, &tip, have_remote);

		clone_state_write(c->r, &c->cs, 0);
		return res;
	}
	st->push_attempts++;
	nr = sync_push(c->r, cfg, c->flags, &c->err, &failed);
	if (nr == NET_REJECTED || nr == NET_REFUSED)
		st->push_rejections++;
	if (nr == NET_OK) {
		/* the remote, and git's tracking ref, now hold ours */
		sync_set_remote_tip(st, &tip);
		st->pushed = 1;
		st->state = SYNC_SYNCED;
		free(c->err);
		c->err = NULL;
		return ATTEMPT_DONE;
	}
	if (nr == NET_FAILED || nr == NET_REFUSED) {
		st->state = failed;
		return ATTEMPT_DONE;
	}
	return ATTEMPT_AGAIN;
}

/*
 * The index of the sync work tree follows a-sync (a `git reset`, one
 * process, 6 ms of CPU).  A daemon's cycle that moved a-sync leaves it
 * for later, marked by var/sync-index-stale: under load that is every
 * cycle of every clone, and nothing reads that index but a user's `git
 * status` there (our commits are built from the files, our pushes send
 * refs).  The next cycle that finds nothing to do, or was run by a
 * command, brings it up to date.
 */
static void refresh_index(struct cycle *c)
{
	char *stale = path_join(c->r->var_dir, "sync-index-stale");

	if (c->moved && (c->flags & SYNC_BACKGROUND)) {
		if (access(stale, F_OK))
			write_file_derived(stale, "", 0, 0644);
	} else if (c->moved || !access(stale, F_OK)) {
		sync_refresh_index(c->r);
		unlink(stale);
	}
	free(stale);
}

/* the status of the cycle, recorded: ok is 0, or -1 after a real error */
static void record_status(struct cycle *c, int ok, int64_t started)
{
	struct sync_status *st = c->st;
	char when[DATE_RFC3339_LEN + 1];
	struct gitx_oid a, b;
	size_t ahead = 0, behind = 0;

	if (ok < 0) {
		st->state = SYNC_ERROR;
		if (c->err)
			error("%s", c->err);
	}
	free(st->last_error);
	st->last_error = c->err;
	c->err = NULL;
	date_format_rfc3339_sec(date_now_ns(), when);
	st->last_sync_at = xstrdup(when);
	if (c->repo && !gitx_resolve(c->repo, GITX_SYNC_REF, &a) &&
	    !gitx_resolve(c->repo, c->remote_ref.buf, &b) &&
	    !gitx_ahead_behind(c->repo, &a, &b, &ahead, &behind)) {
		st->ahead = (long)ahead;
		st->behind = (long)behind;
	}
	st->duration_us = (long)((date_now_ns() - started) / 1000);
	sync_status_write(c->r, st);
}

int sync_cycle(const struct repo *r, const struct thrum_config *cfg,
	       struct store *s, struct projection *p, unsigned flags,
	       struct sync_status *st)
{
	struct cycle c = {
		.r = r, .cfg = cfg, .s = s, .p = p, .flags = flags, .st = st,
		.remote_ref = STRBUF_INIT, .learned = BLOB_CACHE_INIT,
		.merged = LOG_CHANGES_INIT,
	};
	struct strbuf why = STRBUF_INIT;
	int lock_fd = -1, n, ret;
	int64_t started = date_now_ns(), deadline;

	memset(st, 0, sizeof(*st));
	st->remote = xstrdup(cfg->remote);
	ret = lock_sync(r, &lock_fd, (flags & SYNC_WAIT)
			? (cfg->network_timeout * 2 + 10) * 1000 : 0);
	if (ret == THRUM_EBUSY) {
		st->state = SYNC_BUSY;
		return 0;
	}
	if (ret < 0)
		return -1;
	strbuf_addf(&c.remote_ref, "refs/remotes/%s/a-sync", cfg->remote);
	if (cfg->clone_refs) {
		clone_state_read(r, &c.cs);
		c.track = 1;
		c.clones = !cfg->local_only && !(c.cs.off_ms &&
			     clone_wall_ms() - c.cs.off_ms < CLONES_OFF_MS) &&
			   !sync_clone_id(r, c.clone_id);
	}
	if (synctree_health(r, &why)) {
		c.err = xstrfmt("the sync work tree is broken (%s); run 'git "
				"thrum init --force'", why.buf);
		ret = -1;
	}
	deadline = now_ms() + push_budget_ms(cfg);
	for (n = 1; !ret; n++) {
		int64_t begun = now_ms();
		enum attempt_result res = attempt(&c, n == 1);

		if (res == ATTEMPT_FAILED)
			ret = -1;
		if (res != ATTEMPT_AGAIN)
			break;
		/*
		 * rejected: the remote moved; fetch, merge what it gained
		 * since (the files whose blobs differ from our last
		 * commit's), commit, push again.  Still rejected when the
		 * budget ends: the remote was reachable, so the class is
		 * rejected, never offline.
		 */
		if (!backoff(n, now_ms() - begun, deadline)) {
			st->state = SYNC_REJECTED; /* reachable, not offline */
			break;
		}
	}
	refresh_index(&c);
	record_status(&c, ret, started);
	blob_cache_release(&c.learned);
	log_changes_release(&c.merged);
	clone_state_release(&c.cs);
	gitx_close(c.repo);
	projection_free(c.own);
	strbuf_release(&c.remote_ref);
	strbuf_release(&why);
	lock_release(lock_fd);
	return ret;
}

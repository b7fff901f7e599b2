/*
 * sync-clones.c: the clone refs of a sync cycle (technical/scaling.adoc,
 * "Past the limit"): what the cycle keeps of them, and its merge and push
 * steps with them.  Every clone pushes its a-sync to a ref of its own on
 * the remote, refs/thrum/clones/<id>, and fetches everyone's into
 * refs/thrum/remotes/<remote>/<id>; a-sync goes along when it can.  Only
 * this clone writes its ref, so that push is never rejected because
 * another clone pushed first: delivery does not wait for a turn on the
 * one shared branch.
 *
 * What the cycle remembers of them is var/sync-clones, an INI file (read
 * with inih, written whole by rename):
 *
 *   [sync]
 *   base = <the a-sync commit this record was written for>
 *   pending = 1		events of ours no ref of the remote holds yet
 *   off_ms = 0		when the remote refused refs/thrum/: a-sync
 *			only, for an hour
 *   remote_tip = <hex>	the remote's a-sync, as last merged
 *   remote_seen_ms = <ms>	since when it is that commit
 *   ahead = 1		a-sync here holds lines the remote's lacks
 *   [clones]
 *   <id> = <hex>		the tip of each clone's ref, as last merged
 *
 * Invariants:
 *  - pending is set, durably, before the commit that takes local appends
 *    in (after it they no longer show as changed files), also for
 *    appends made while the cycle merged (sync_commit() finds them), and
 *    cleared only after a push of this clone's ref went through: a crash
 *    costs a push, never an event that stays behind;
 *  - the tips under [clones] are trusted only while a-sync is still at
 *    base, which includes what they brought; otherwise every clone ref
 *    is merged against a-sync alone (slower, never wrong);
 *  - nothing here is read from the remote but ref names and ids:
 *    names that are not clone ids are skipped.
 */
#include "thrum.h"
#include <ini.h>
#include <sys/random.h>
#include "sync-internal.h"
#include "config.h"
#include "date.h"
#include "sync-net.h"
#include "sync.h"
#include "gitx.h"
#include "lockfile.h"
#include "repo.h"
#include "strbuf.h"
#include "ulid.h"
#include "usage.h"
#include "wrapper.h"

/* clone refs beyond this many are not merged (a hostile remote's flood) */
#define MAX_CLONE_REFS 4096

int clone_id_valid(const char *id, size_t len)
{
	size_t i;

	if (!len || len > CLONE_ID_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)id[i]))
			return 0;
	return 1;
}

int sync_clone_id(const struct repo *r, char *out)
{
	char *path = path_join(r->var_dir, "clone-id");
	struct strbuf sb = STRBUF_INIT;
	uint8_t raw[10];
	int ret = -1;

	if (strbuf_read_file(&sb, path, 64) >= 0) {
		strbuf_trim(&sb);
		if (sb.len == CLONE_ID_LEN && clone_id_valid(sb.buf, sb.len)) {
			memcpy(out, sb.buf, CLONE_ID_LEN + 1);
			ret = 0;
			goto out;
		}
	}
	/* 80 random bits, 16 characters of Crockford base32 */
	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw)) {
		error_errno("cannot draw a clone id");
		goto out;
	}
	crockford_encode(raw, sizeof(raw), out);
	out[CLONE_ID_LEN] = '\0';
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s\n", out);
	ret = write_file_atomic(path, sb.buf, sb.len, 0644);
out:
	strbuf_release(&sb);
	free(path);
	return ret;
}

/* --- var/sync-clones --- */

/* src fits: ids are checked by clone_id_valid(), commits by is_hex() */
static void put(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		BUG("'%s' does not fit in %zu bytes", src, size);
	memcpy(dst, src, n + 1);
}

/* 40 hex digits, as git writes an object id */
static int is_hex(const char *s)
{
	struct gitx_oid oid;

	return strlen(s) == GITX_OID_HEXSZ && !gitx_oid_from_hex(&oid, s);
}

void clone_tips_release(struct clone_tips *t)
{
	free(t->v);
	t->v = NULL;
	t->nr = t->alloc = 0;
}

static int tip_cmp(const void *a, const void *b)
{
	return strcmp(((const struct clone_tip *)a)->id,
		      ((const struct clone_tip *)b)->id);
}

const struct clone_tip *clone_tips_find(const struct clone_tips *t,
					const char *id)
{
	struct clone_tip key;

	if (strlen(id) > CLONE_ID_MAX || !t->nr)
		return NULL;
	put(key.id, sizeof(key.id), id);
	return bsearch(&key, t->v, t->nr, sizeof(*t->v), tip_cmp);
}

/* set id's tip (adding it); sorted again before the next find */
void clone_tips_set(struct clone_tips *t, const char *id, const char *hex)
{
	struct clone_tip *hit = (struct clone_tip *)clone_tips_find(t, id);

	if (!hit) {
		ALLOC_GROW(t->v, t->nr + 1, t->alloc);
		hit = &t->v[t->nr++];
		put(hit->id, sizeof(hit->id), id);
		put(hit->hex, sizeof(hit->hex), hex);
		qsort(t->v, t->nr, sizeof(*t->v), tip_cmp);
		return;
	}
	put(hit->hex, sizeof(hit->hex), hex);
}

static int state_handler(void *payload, const char *section,
			 const char *name, const char *value)
{
	struct clone_state *cs = payload;
	long n;

	if (!strcmp(section, "clones")) {
		if (clone_id_valid(name, strlen(name)) && is_hex(value) &&
		    cs->merged.nr < MAX_CLONE_REFS)
			clone_tips_set(&cs->merged, name, value);
		return 1;
	}
	if (strcmp(section, "sync"))
		return 1;
	if ((!strcmp(name, "base") || !strcmp(name, "remote_tip")) &&
	    is_hex(value))
		put(*name == 'b' ? cs->base : cs->remote_tip, GITX_OID_HEXSZ + 1,
		    value);
	else if (!strcmp(name, "remote_seen_ms") &&
		 !thrum_parse_long(value, 0, LONG_MAX, &n))
		cs->remote_seen_ms = n;
	else if (!strcmp(name, "off_ms") &&
		 !thrum_parse_long(value, 0, LONG_MAX, &n))
		cs->off_ms = n;
	else if (!strcmp(name, "pending"))
		cs->pending = strcmp(value, "0") != 0;
	else if (!strcmp(name, "ahead"))
		cs->ahead = !strcmp(value, "1");
	return 1;
}

void clone_state_read(const struct repo *r, struct clone_state *cs)
{
	char *path = path_join(r->var_dir, "sync-clones");

	memset(cs, 0, sizeof(*cs));
	/*
	 * none yet (a clone from before clone refs, or var/ wiped): what
	 * a-sync holds may never have been pushed, so push once
	 */
	cs->pending = 1;
	if (access(path, F_OK) || ini_parse(path, state_handler, cs)) {
		clone_tips_release(&cs->merged);
		memset(cs, 0, sizeof(*cs));
		cs->pending = 1;
	}
	free(path);
}

int clone_state_write(const struct repo *r, const struct clone_state *cs,
		      int durable)
{
	char *path = path_join(r->var_dir, "sync-clones");
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int ret;

	strbuf_addf(&sb, "[sync]\nbase = %s\npending = %d\noff_ms = %lld\n"
		    "remote_tip = %s\nremote_seen_ms = %lld\nahead = %d\n"
		    "[clones]\n", cs->base, cs->pending,
		    (long long)cs->off_ms, cs->remote_tip,
		    (long long)cs->remote_seen_ms, cs->ahead);
	for (i = 0; i < cs->merged.nr; i++)
		strbuf_addf(&sb, "%s = %s\n", cs->merged.v[i].id,
			    cs->merged.v[i].hex);
	ret = durable ? write_file_atomic(path, sb.buf, sb.len, 0644)
		      : write_file_derived(path, sb.buf, sb.len, 0644);
	strbuf_release(&sb);
	free(path);
	return ret;
}

void clone_state_release(struct clone_state *cs)
{
	clone_tips_release(&cs->merged);
}

/* --- the tracking refs, read without libgit2 --- */

/* refs/thrum/remotes/<remote>/ */
char *clone_tracking_prefix(const char *remote)
{
	return xstrfmt("refs/thrum/remotes/%s/", remote);
}

struct listing {
	struct clone_tips *out;
	size_t *skipped;
};

static void list_one(const char *name, size_t len, const char *hex,
		     void *payload)
{
	struct listing *l = payload;
	char id[CLONE_ID_MAX + 1];

	/* nested, a lock, not an id, or past the cap: not read */
	if (!hex || !clone_id_valid(name, len)) {
		(*l->skipped)++;
		return;
	}
	memcpy(id, name, len);
	id[len] = '\0';
	if (!clone_tips_find(l->out, id) && l->out->nr >= MAX_CLONE_REFS)
		(*l->skipped)++;
	else
		clone_tips_set(l->out, id, hex);
}

int clone_refs_list(const struct repo *r, const char *remote,
		    struct clone_tips *out, size_t *skipped)
{
	char *prefix = clone_tracking_prefix(remote);
	struct listing l = { out, skipped };

	repo_for_each_ref(r, prefix, list_one, &l);
	free(prefix);
	return 0;
}

int clone_refs_moved(const struct repo *r, const char *remote,
		     const struct clone_state *cs)
{
	struct clone_tips now = CLONE_TIPS_INIT;
	size_t i, skipped = 0;
	int moved = 0;

	clone_refs_list(r, remote, &now, &skipped);
	for (i = 0; !moved && i < now.nr; i++) {
		const struct clone_tip *t = clone_tips_find(&cs->merged,
							    now.v[i].id);

		moved = !t || strcmp(t->hex, now.v[i].hex);
	}
	clone_tips_release(&now);
	return moved;
}

/* --- the cycle's steps with clone refs --- */

/* kept in var/sync-clones across restarts: the wall clock, in ms */
int64_t clone_wall_ms(void)
{
	return date_now_ns() / 1000000;
}

/*
 * With clone refs, a-sync may be ahead of the remote's (it holds what
 * other clones' refs brought).  A clone whose events are all on the
 * remote pushes a-sync alone, to drain it, only when the remote's has
 * not moved for two intervals and one more for each clone id below its
 * own: the lowest id drains (the others find a-sync moved), the next
 * only if that one is gone, so that the last events of a burst reach
 * a-sync (for clones that read only it) without every clone pushing it.
 */
int clone_drain_due(const struct clone_state *cs, const char *id,
		     const struct thrum_config *cfg)
{
	size_t rank = 0, i;

	for (i = 0; i < cs->merged.nr; i++)
		if (strcmp(cs->merged.v[i].id, id) < 0)
			rank++;
	return cs->ahead && clone_wall_ms() - cs->remote_seen_ms >=
			    (int64_t)(2 + rank) * cfg->sync_interval * 1000;
}

/*
 * Merge the remote's a-sync (remote_tip, or NULL) and every clone's ref
 * that moved since it was last merged, each against a-sync here and
 * the commit of it merged last, in one merge (sync_merge(): each file
 * read, merged and flushed once, however many refs changed it) and one
 * catch-up of the projection.  A ref that cannot be read (a remote's
 * commit libgit2 rejects, say) is skipped and counted, and tried again
 * next cycle: it never stops the others.  0, or -1 (the remote's a-sync
 * could not be merged, or the merge failed).
 */
int clone_merge(struct cycle *c, const struct gitx_oid *local_tip,
		const struct gitx_oid *remote_tip)
{
	struct clone_tips now = CLONE_TIPS_INIT;
	struct sync_merge_tip *tips;
	const struct clone_tip **of;	/* the clone ref of each tip */
	size_t i, nr = 0, skipped = 0;
	int ret = 0;

	clone_refs_list(c->r, c->cfg->remote, &now, &skipped);
	c->st->skipped_entries += skipped;
	tips = xcalloc(now.nr + 1, sizeof(*tips));
	of = xcalloc(now.nr + 1, sizeof(*of));
	if (remote_tip) {
		tips[nr].tip = *remote_tip;
		of[nr++] = NULL;
	}
	for (i = 0; i < now.nr; i++) {
		const struct clone_tip *t = &now.v[i];
		const struct clone_tip *was = clone_tips_find(&c->cs.merged,
							      t->id);

		if (was && !strcmp(was->hex, t->hex))
			continue;
		if (gitx_oid_from_hex(&tips[nr].tip, t->hex) < 0)
			continue;
		tips[nr].have_before = was &&
			!gitx_oid_from_hex(&tips[nr].before, was->hex);
		of[nr++] = t;
	}
	if (!nr)
		goto out;
	if (sync_open_projection(c) < 0 ||
	    sync_merge_step(c->repo, tips, nr, local_tip, c->cfg, c->s, c->p,
			    c->st, &c->learned, &c->merged) < 0) {
		ret = -1;
		goto out;
	}
	for (i = 0; i < nr; i++) {
		if (!of[i]) {
			if (tips[i].failed)
				ret = -1;	/* the remote's a-sync */
			continue;
		}
		if (tips[i].failed) {
			warning("cannot merge the clone ref '%s%s'; skipped",
				CLONE_REF_PREFIX, of[i]->id);
			c->st->skipped_entries++;
			continue;
		}
		clone_tips_set(&c->cs.merged, of[i]->id, of[i]->hex);
	}
out:
	free(tips);
	free(of);
	clone_tips_release(&now);
	return ret;
}

/* refs/thrum/remotes/<remote>/<id> := tip, if it still was lease */
static void track_own_push(struct cycle *c, const struct gitx_oid *tip,
			   const char *lease)
{
	char *tracking = clone_tracking_prefix(c->cfg->remote);
	char *ref = xstrfmt("%s%s", tracking, c->clone_id);
	struct gitx_oid old;

	if (!lease || !gitx_oid_from_hex(&old, lease))
		gitx_ref_cas(c->repo, ref, tip, lease ? &old : NULL,
			     "thrum: pushed");
	free(ref);
	free(tracking);
}

/*
 * The push of a cycle with clone refs: our ref when events of ours are
 * not on the remote yet (forced, with the lease of what we fetched of
 * it: only we write it), and a-sync beside it when it fast-forwards the
 * remote's, or alone to drain it.  A rejected a-sync is not tried
 * again: our events are on the remote in our ref, and the next clone
 * that pushes a-sync carries them.
 */
enum attempt_result clone_push(struct cycle *c, const struct gitx_oid *tip,
			       int have_remote)
{
	const struct thrum_config *cfg = c->cfg;
	struct sync_status *st = c->st;
	struct strbuf own = STRBUF_INIT;
	struct push_ref refs[2], *mine = NULL, *async = NULL;
	char lease[GITX_OID_HEXSZ + 1] = "", hex[GITX_OID_HEXSZ + 1];
	enum sync_state failed = SYNC_ERROR;
	enum attempt_result ret = ATTEMPT_DONE;
	int background = c->flags & SYNC_BACKGROUND, want_async;
	size_t nr = 0, i;

	st->state = SYNC_SYNCED;
	if (!background && c->cs.pending)
		c->need_async = 1;
	/*
	 * a command pushes a-sync whenever it holds more than the
	 * remote's (as without clone refs); a daemon with events of its
	 * own, or to drain it
	 */
	want_async = c->cs.ahead &&
		     (!background || c->cs.pending || !have_remote ||
		      clone_drain_due(&c->cs, c->clone_id, cfg));
	if (!c->cs.pending && !want_async)
		return ATTEMPT_DONE;	/* nothing of ours to push */
	memset(refs, 0, sizeof(refs));
	gitx_oid_hex(tip, hex);
	strbuf_addf(&own, CLONE_REF_PREFIX "%s", c->clone_id);
	if (c->cs.pending) {
		char *tracking = clone_tracking_prefix(cfg->remote);
		char *ref = xstrfmt("%s%s", tracking, c->clone_id);

		if (repo_read_ref(c->r, ref, lease))
			*lease = '\0';	/* not there yet */
		free(ref);
		free(tracking);
		mine = &refs[nr++];
		*mine = (struct push_ref){ GITX_SYNC_REF, own.buf, lease };
	}
	if (want_async) {
		async = &refs[nr++];
		*async = (struct push_ref){ GITX_SYNC_REF, GITX_SYNC_REF };
	}
	st->push_attempts++;
	if (sync_push_refs(c->r, cfg, c->flags, refs, nr, &c->err,
			   &failed) != NET_OK) {
		st->state = failed;
		goto out;
	}
	if (async && async->res == NET_OK) {
		sync_set_remote_tip(st, tip);
		memcpy(c->cs.remote_tip, hex, sizeof(hex));
		c->cs.remote_seen_ms = clone_wall_ms();
		c->cs.ahead = 0;
		st->pushed = 1;
	}
	if (mine && mine->res == NET_OK) {
		/* the remote holds ours, whatever a-sync did */
		c->cs.pending = 0;
		clone_tips_set(&c->cs.merged, c->clone_id, hex);
		st->pushed = 1;
		/*
		 * and so does our tracking ref, as git's own push does for
		 * the refs it tracks: the lease of the next push, which may
		 * come before any fetch (SYNC_PUSH_ONLY)
		 */
		track_own_push(c, tip, *lease ? lease : NULL);
	} else if (mine && mine->res == NET_REJECTED) {
		/* our ref moved under us: a copy of this clone? merge it */
		st->push_rejections++;
		free(c->err);
		c->err = xstrfmt("git push: %s: %s", own.buf, mine->why);
		st->state = SYNC_REJECTED;
		ret = ATTEMPT_AGAIN;
		goto out;
	} else if (mine && async && async->res == NET_REFUSED) {
		/* the remote refuses both (a hook that declines all) */
		st->push_rejections++;
		free(c->err);
		c->err = xstrfmt("git push: %s", async->why);
		st->state = SYNC_REJECTED;
		goto out;
	} else if (mine) {
		/* a host that keeps to branches: a-sync alone, for an hour */
		warning("the remote refuses '%s' (%s); pushing a-sync only",
			own.buf, mine->why ? mine->why : "no answer");
		c->cs.off_ms = clone_wall_ms();
		c->clones = 0;
		if (!async || async->res != NET_OK) {
			ret = ATTEMPT_AGAIN;
			goto out;
		}
		c->cs.pending = 0;
	}
	if (!async || async->res == NET_OK)
		goto out;
	if (!c->need_async) {
		/* ours is on the remote; the next a-sync push carries it */
		st->async_rejections++;
		goto out;
	}
	/* a command the user ran pushed ours: a-sync must hold them too */
	st->push_rejections++;
	free(c->err);
	c->err = xstrfmt("git push: %s", async->why);
	st->state = SYNC_REJECTED;
	if (async->res == NET_REJECTED)
		ret = ATTEMPT_AGAIN;
out:
	for (i = 0; i < nr; i++)
		free(refs[i].why);
	strbuf_release(&own);
	return ret;
}

/*
 * sync-clones.c: the clone refs of a sync cycle (technical/scaling.adoc,
 * "Clone refs").  Every clone pushes its a-sync to a ref of its own on
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
 *    in (after it they no longer show as changed files), and cleared
 *    only after a push of this clone's ref went through: a crash costs a
 *    push, never an event that stays behind;
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

/* src fits: ids are checked by clone_id_valid(), ids by is_hex() */
static void put(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		BUG("'%s' does not fit in %zu bytes", src, size);
	memcpy(dst, src, n + 1);
}

static int is_hex(const char *s)
{
	size_t i;

	for (i = 0; i < GITX_OID_HEXSZ; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return !s[GITX_OID_HEXSZ];
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

/*
 * The refs under prefix: loose ones (one directory level) win over
 * packed-refs, as in git.  *skipped counts names that are no clone id.
 */
int clone_refs_list(const struct repo *r, const char *remote,
		    struct clone_tips *out, size_t *skipped)
{
	char *prefix = clone_tracking_prefix(remote);
	char *dir = path_join(r->common_dir, prefix);
	struct strbuf sb = STRBUF_INIT;
	size_t plen = strlen(prefix);
	const char *p, *end;
	struct dirent *de;
	DIR *d;

	/* packed first, so that a loose ref replaces its packed value */
	{
		char *packed = path_join(r->common_dir, "packed-refs");

		if (strbuf_read_file(&sb, packed, 0) < 0)
			strbuf_reset(&sb);
		free(packed);
	}
	for (p = sb.buf; p < sb.buf + sb.len; p = end + 1) {
		const char *name;
		char hex[GITX_OID_HEXSZ + 1], id[CLONE_ID_MAX + 1];
		size_t nlen;

		end = memchr(p, '\n', sb.buf + sb.len - p);
		if (!end)
			end = sb.buf + sb.len;
		if (end - p <= (ptrdiff_t)(41 + plen) || p[40] != ' ' ||
		    memcmp(p + 41, prefix, plen))
			continue;
		name = p + 41 + plen;
		nlen = end - name;
		memcpy(hex, p, GITX_OID_HEXSZ);
		hex[GITX_OID_HEXSZ] = '\0';
		if (!clone_id_valid(name, nlen) || !is_hex(hex) ||
		    out->nr >= MAX_CLONE_REFS) {
			(*skipped)++;
			continue;
		}
		memcpy(id, name, nlen);
		id[nlen] = '\0';
		clone_tips_set(out, id, hex);
	}
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char hex[GITX_OID_HEXSZ + 1];
		char *ref;

		if (de->d_name[0] == '.')
			continue;
		if (!clone_id_valid(de->d_name, strlen(de->d_name))) {
			(*skipped)++;	/* nested, a lock, not an id */
			continue;
		}
		ref = xstrfmt("%s%s", prefix, de->d_name);
		if (!repo_read_ref(r, ref, hex) &&
		    (clone_tips_find(out, de->d_name) ||
		     out->nr < MAX_CLONE_REFS))
			clone_tips_set(out, de->d_name, hex);
		else
			(*skipped)++;
		free(ref);
	}
	if (d)
		closedir(d);
	strbuf_release(&sb);
	free(dir);
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

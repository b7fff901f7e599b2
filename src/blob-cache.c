/*
 * blob-cache.c: the blob cache of the sync work tree (see blob-cache.h),
 * and the questions it answers cheaply: did any log file change since the
 * last commit, how much of a file is committed.
 */
#include "thrum.h"
#include "blob-cache.h"
#include "lockfile.h"
#include "repo.h"
#include "store.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

static int cmp_blob_stat(const void *a, const void *b)
{
	return strcmp(((const struct blob_stat *)a)->path,
		      ((const struct blob_stat *)b)->path);
}

void blob_cache_release(struct blob_cache *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		free(c->v[i].path);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

int blob_stat_key(const char *path, struct blob_stat *out)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	out->ino = (uint64_t)st.st_ino;
	out->size = (uint64_t)st.st_size;
	out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
			st.st_mtim.tv_nsec;
	return 0;
}

static int parse_u64(const char **p, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(*p, &end, 10);
	if (errno || end == *p || *end != ' ')
		return -1;
	*p = end + 1;
	return 0;
}

static int parse_cache_line(const char *line, struct blob_stat *e)
{
	const char *p = line + GITX_OID_HEXSZ + 1;
	uint64_t mtime;

	if (strlen(line) <= GITX_OID_HEXSZ + 1 ||
	    line[GITX_OID_HEXSZ] != ' ' ||
	    gitx_oid_from_hex(&e->blob, line) < 0 ||
	    parse_u64(&p, &e->ino) < 0 || parse_u64(&p, &e->size) < 0 ||
	    parse_u64(&p, &mtime) < 0 || !*p)
		return -1;
	e->mtime_ns = (int64_t)mtime;
	e->path = xstrdup(p);
	return 0;
}

void blob_cache_read(const struct repo *r, struct blob_cache *c)
{
	char *path = path_join(r->var_dir, "sync-cache");
	struct strbuf sb = STRBUF_INIT;
	char *line, *next;

	if (strbuf_read_file(&sb, path, 0) < 0)
		goto out;
	for (line = sb.buf; *line; line = next) {
		struct blob_stat e;

		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		if (!strncmp(line, "a-sync ", 7) &&
		    strlen(line + 7) == GITX_OID_HEXSZ) {
			memcpy(c->tip, line + 7, GITX_OID_HEXSZ + 1);
			continue;
		}
		if (parse_cache_line(line, &e) < 0) {
			blob_cache_release(c);	/* damaged: start again */
			break;
		}
		ALLOC_GROW(c->v, c->nr + 1, c->alloc);
		c->v[c->nr++] = e;
	}
	if (c->nr)
		qsort(c->v, c->nr, sizeof(*c->v), cmp_blob_stat);
out:
	free(path);
	strbuf_release(&sb);
}

const struct blob_stat *blob_cache_find(const struct blob_cache *c,
					const char *path)
{
	struct blob_stat key;

	key.path = (char *)path;
	return c->nr ? bsearch(&key, c->v, c->nr, sizeof(*c->v),
			       cmp_blob_stat) : NULL;
}

int blob_stat_same(const struct blob_stat *a, const struct blob_stat *b)
{
	return a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

void blob_cache_write(const struct repo *r, const struct blob_cache *c)
{
	char *path = path_join(r->var_dir, "sync-cache");
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (*c->tip)
		strbuf_addf(&sb, "a-sync %s\n", c->tip);
	for (i = 0; i < c->nr; i++) {
		const struct blob_stat *e = &c->v[i];
		char hex[GITX_OID_HEXSZ + 1];

		gitx_oid_hex(&e->blob, hex);
		strbuf_addf(&sb, "%s %" PRIu64 " %" PRIu64 " %" PRId64 " %s\n",
			    hex, e->ino, e->size, e->mtime_ns, e->path);
	}
	/* a cache that cannot be written only costs time next cycle */
	if (write_file_derived(path, sb.buf, sb.len, 0644) < 0)
		warning("the next sync cycle will re-read every log file");
	free(path);
	strbuf_release(&sb);
}

uint64_t sync_committed_size(const char *var_dir, const char *rel)
{
	struct repo r = REPO_INIT;
	struct blob_cache c = BLOB_CACHE_INIT;
	const struct blob_stat *e;
	uint64_t size;

	r.var_dir = (char *)var_dir;
	blob_cache_read(&r, &c);
	e = blob_cache_find(&c, rel);
	size = e ? e->size : 0;
	blob_cache_release(&c);
	return size;
}

void blob_cache_add(struct blob_cache *c, const struct blob_stat *key)
{
	ALLOC_GROW(c->v, c->nr + 1, c->alloc);
	c->v[c->nr++] = *key;
}

void blob_cache_sort(struct blob_cache *c)
{
	if (c->nr)
		qsort(c->v, c->nr, sizeof(*c->v), cmp_blob_stat);
}

int blob_cache_matches(const struct blob_cache *c, struct store *s)
{
	struct strvec files = STRVEC_INIT;
	size_t i;
	int same;

	store_list_files(s, &files);
	same = files.nr == c->nr;
	for (i = 0; same && i < files.nr; i++) {
		char *path = store_abs_path(s, files.v[i]);
		const struct blob_stat *known = blob_cache_find(c, files.v[i]);
		struct blob_stat key;

		same = known && !blob_stat_key(path, &key) &&
		       blob_stat_same(known, &key);
		free(path);
	}
	strvec_clear(&files);
	return same;
}

int sync_worktree_changed(const struct repo *r, struct store *s)
{
	struct blob_cache cache = BLOB_CACHE_INIT;
	int changed = 1;	/* unsure: a cycle will tell */

	blob_cache_read(r, &cache);
	if (!store_lock(s, LOCK_SH)) {
		changed = !blob_cache_matches(&cache, s);
		store_unlock(s);
	}
	blob_cache_release(&cache);
	return changed;
}

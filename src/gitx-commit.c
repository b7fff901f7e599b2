/*
 * gitx-commit.c: reading commits that someone else wrote, part of the
 * libgit2 module (see gitx.h).  Anyone who may push a-sync writes its
 * commits, and git reads commits that libgit2 refuses: an author with no
 * e-mail is only a warning to git fsck, and stops git_commit_lookup(),
 * git_reference_peel() and git_graph_ahead_behind() alike.  We need a
 * commit's tree and parents, never its author, so they are read here
 * from the header lines of the raw object, and nothing else of it is
 * looked at.
 */
#include "thrum.h"
#include <git2.h>
#include "gitx-module.h"
#include "wrapper.h"

/*
 * The tree and first parent of a commit, from the raw object: "tree
 * <hex>" is the first header line and the parents follow it; nothing
 * else of the commit is looked at.  parent may be NULL; *has_parent says
 * whether there was one.  0, or -1 with the error set.
 */
int gitx_read_commit(git_repository *repo, const git_oid *id, git_oid *tree,
		     git_oid *parent, int *has_parent)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	const char *p, *end;
	size_t len;
	int ret = -1;

	if (has_parent)
		*has_parent = 0;
	if (git_repository_odb(&odb, repo) < 0 ||
	    git_odb_read(&obj, odb, id) < 0)
		goto out;
	if (git_odb_object_type(obj) != GIT_OBJECT_COMMIT) {
		git_error_set_str(GIT_ERROR_OBJECT, "not a commit");
		goto out;
	}
	p = git_odb_object_data(obj);
	len = git_odb_object_size(obj);
	end = p + len;
	if (len < 5 + GIT_OID_HEXSZ + 1 || memcmp(p, "tree ", 5) ||
	    p[5 + GIT_OID_HEXSZ] != '\n' ||
	    git_oid_fromstrn(tree, p + 5, GIT_OID_HEXSZ) < 0) {
		git_error_set_str(GIT_ERROR_OBJECT, "a commit without a tree");
		goto out;
	}
	p += 5 + GIT_OID_HEXSZ + 1;
	if (parent && (size_t)(end - p) >= 7 + GIT_OID_HEXSZ + 1 &&
	    !memcmp(p, "parent ", 7) && p[7 + GIT_OID_HEXSZ] == '\n' &&
	    !git_oid_fromstrn(parent, p + 7, GIT_OID_HEXSZ) && has_parent)
		*has_parent = 1;
	ret = 0;
out:
	git_odb_object_free(obj);
	git_odb_free(odb);
	return ret;
}

/*
 * The walk below: every commit met, with the tips that reach it, its
 * committer time and its parents (read once, from the raw object).
 */
#define FROM_A 1u
#define FROM_B 2u
#define STALE 4u		/* reached from both: so are its ancestors */

struct wnode {
	git_oid id;
	int64_t time;
	unsigned flags;
	size_t parents, nparents;	/* into walk.parent */
};

struct walk {
	git_odb *odb;
	struct wnode *v;
	size_t nr, alloc;
	size_t *slot;		/* open addressing: index + 1 */
	size_t mask;
	git_oid *parent;
	size_t parent_nr, parent_alloc;
	size_t *heap;		/* indexes, newest commit first */
	size_t heap_nr, heap_alloc;
	size_t *root;		/* indexes of the commits without a parent */
	size_t root_nr, root_alloc;
};

#define WALK_MAX_COMMITS (1u << 20)

static size_t oid_hash(const git_oid *id)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h));
	return h;
}

static void slot_put(struct walk *w, size_t idx)
{
	size_t j;

	for (j = oid_hash(&w->v[idx].id) & w->mask; w->slot[j];
	     j = (j + 1) & w->mask)
		;
	w->slot[j] = idx + 1;
}

/* the committer time of a raw commit; 0 when it cannot be read */
static int64_t committer_time(const char *p, const char *end)
{
	const char *line, *eol, *sp;

	for (line = p; line < end && *line != '\n'; line = eol + 1) {
		eol = memchr(line, '\n', end - line);
		if (!eol)
			break;
		if ((size_t)(eol - line) < 10 || memcmp(line, "committer ", 10))
			continue;
		/* "committer <name> <<email>> <time> <tz>" */
		for (sp = eol - 1; sp > line && *sp != ' '; sp--)
			;
		while (sp > line && sp[-1] != ' ')
			sp--;
		return strtoll(sp, NULL, 10);
	}
	return 0;
}

/* the node of id, read from the object when new; its index, or -1 */
static long walk_node(struct walk *w, const git_oid *id)
{
	git_odb_object *obj = NULL;
	struct wnode *n;
	const char *p, *end;
	size_t j, idx;
	git_oid parent;

	for (j = oid_hash(id) & w->mask; w->slot[j]; j = (j + 1) & w->mask)
		if (git_oid_equal(&w->v[w->slot[j] - 1].id, id))
			return (long)(w->slot[j] - 1);
	if (w->nr >= WALK_MAX_COMMITS) {
		git_error_set_str(GIT_ERROR_OBJECT, "too many commits to count");
		return -1;
	}
	if (git_odb_read(&obj, w->odb, id) < 0)
		return -1;
	if (git_odb_object_type(obj) != GIT_OBJECT_COMMIT) {
		git_odb_object_free(obj);
		git_error_set_str(GIT_ERROR_OBJECT, "not a commit");
		return -1;
	}
	ALLOC_GROW(w->v, w->nr + 1, w->alloc);
	idx = w->nr++;
	n = &w->v[idx];
	memset(n, 0, sizeof(*n));
	git_oid_cpy(&n->id, id);
	n->parents = w->parent_nr;
	p = git_odb_object_data(obj);
	end = p + git_odb_object_size(obj);
	n->time = committer_time(p, end);
	/* the tree line, then one line per parent */
	p = memchr(p, '\n', end - p);
	while (p && (size_t)(end - ++p) > 7 + GIT_OID_HEXSZ &&
	       !memcmp(p, "parent ", 7) &&
	       !git_oid_fromstrn(&parent, p + 7, GIT_OID_HEXSZ)) {
		ALLOC_GROW(w->parent, w->parent_nr + 1, w->parent_alloc);
		git_oid_cpy(&w->parent[w->parent_nr++], &parent);
		n->nparents++;
		p = memchr(p, '\n', end - p);
	}
	git_odb_object_free(obj);
	if (!n->nparents) {
		ALLOC_GROW(w->root, w->root_nr + 1, w->root_alloc);
		w->root[w->root_nr++] = idx;
	}
	if (w->nr * 2 > w->mask) {
		size_t i;

		w->mask = w->mask * 2 + 1;
		free(w->slot);
		w->slot = xcalloc(w->mask + 1, sizeof(*w->slot));
		for (i = 0; i < w->nr; i++)
			slot_put(w, i);
	} else {
		slot_put(w, idx);
	}
	return (long)idx;
}

static int newer(const struct walk *w, size_t a, size_t b)
{
	return w->v[w->heap[a]].time > w->v[w->heap[b]].time;
}

static void heap_swap(struct walk *w, size_t a, size_t b)
{
	size_t t = w->heap[a];

	w->heap[a] = w->heap[b];
	w->heap[b] = t;
}

static void heap_push(struct walk *w, size_t idx)
{
	size_t i;

	ALLOC_GROW(w->heap, w->heap_nr + 1, w->heap_alloc);
	i = w->heap_nr++;
	w->heap[i] = idx;
	for (; i && newer(w, i, (i - 1) / 2); i = (i - 1) / 2)
		heap_swap(w, i, (i - 1) / 2);
}

static size_t heap_pop(struct walk *w)
{
	size_t top = w->heap[0], i = 0;

	w->heap[0] = w->heap[--w->heap_nr];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < w->heap_nr && newer(w, l, m))
			m = l;
		if (r < w->heap_nr && newer(w, r, m))
			m = r;
		if (m == i)
			break;
		heap_swap(w, i, m);
		i = m;
	}
	return top;
}

/*
 * Is anything left to learn: a queued commit not reached from both, or
 * a root commit met from one side only (a clock that went back let one
 * side get there first; as libgit2 does, walk on until both have)?
 */
static int interesting(const struct walk *w)
{
	size_t i;

	for (i = 0; i < w->heap_nr; i++)
		if (!(w->v[w->heap[i]].flags & STALE))
			return 1;
	for (i = 0; i < w->root_nr; i++)
		if (!(w->v[w->root[i]].flags & STALE))
			return 1;
	return 0;
}

/*
 * As git_graph_ahead_behind() counts, newest commit first, until every
 * commit still queued is reached from both tips; but from the raw
 * parent and committer lines, never parsing an author (that function
 * gives up on a commit git reads, and leaks when it does).
 */
int gitx_lenient_ahead_behind(git_repository *repo, const git_oid *a,
			      const git_oid *b, size_t *ahead, size_t *behind)
{
	struct walk w = { 0 };
	long ia, ib;
	size_t i;
	int ret = -1;

	*ahead = *behind = 0;
	if (git_oid_equal(a, b))
		return 0;
	w.mask = 15;
	w.slot = xcalloc(w.mask + 1, sizeof(*w.slot));
	if (git_repository_odb(&w.odb, repo) < 0 ||
	    (ia = walk_node(&w, a)) < 0 || (ib = walk_node(&w, b)) < 0)
		goto out;
	w.v[ia].flags = FROM_A;
	w.v[ib].flags = FROM_B;
	heap_push(&w, (size_t)ia);
	heap_push(&w, (size_t)ib);
	while (w.heap_nr && interesting(&w)) {
		size_t n = heap_pop(&w), k;
		unsigned flags = w.v[n].flags;

		if ((flags & (FROM_A | FROM_B)) == (FROM_A | FROM_B))
			flags |= STALE;
		w.v[n].flags = flags;
		for (k = 0; k < w.v[n].nparents; k++) {
			git_oid pid = w.parent[w.v[n].parents + k];
			long pi = walk_node(&w, &pid);

			if (pi < 0)
				goto out;
			if ((w.v[pi].flags & flags) == flags)
				continue;
			w.v[pi].flags |= flags;
			heap_push(&w, (size_t)pi);
		}
	}
	for (i = 0; i < w.nr; i++) {
		unsigned f = w.v[i].flags & (FROM_A | FROM_B | STALE);

		if (f == FROM_A)
			(*ahead)++;
		else if (f == FROM_B)
			(*behind)++;
	}
	ret = 0;
out:
	git_odb_free(w.odb);
	free(w.v);
	free(w.slot);
	free(w.parent);
	free(w.heap);
	free(w.root);
	return ret;
}

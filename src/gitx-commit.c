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
 * A commit for the lenient walk below: which of the two tips reach it
 * (bit 1: a, bit 2: b).
 */
struct walk_node {
	git_oid id;
	unsigned flags;
	int used;
};

struct walk {
	struct walk_node *slot;
	size_t mask, nr;
	size_t *todo;		/* indexes into slot */
	size_t todo_nr, todo_alloc;
};

#define WALK_MAX_COMMITS (1u << 20)

static size_t walk_hash(const git_oid *id)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h));
	return h;
}

static void walk_grow(struct walk *w);

/* mark id with flags; queue it when that changed anything */
static int walk_mark(struct walk *w, const git_oid *id, unsigned flags)
{
	size_t j;

	if (w->nr * 2 >= w->mask)
		walk_grow(w);
	for (j = walk_hash(id) & w->mask; w->slot[j].used;
	     j = (j + 1) & w->mask)
		if (git_oid_equal(&w->slot[j].id, id))
			break;
	if (!w->slot[j].used) {
		if (w->nr >= WALK_MAX_COMMITS) {
			git_error_set_str(GIT_ERROR_OBJECT,
					  "too many commits to count");
			return -1;
		}
		w->slot[j].used = 1;
		git_oid_cpy(&w->slot[j].id, id);
		w->nr++;
	} else if ((w->slot[j].flags | flags) == w->slot[j].flags) {
		return 0;
	}
	w->slot[j].flags |= flags;
	ALLOC_GROW(w->todo, w->todo_nr + 1, w->todo_alloc);
	w->todo[w->todo_nr++] = j;
	return 0;
}

static void walk_grow(struct walk *w)
{
	struct walk_node *old = w->slot;
	size_t old_cap = w->mask + 1, i, j;

	w->mask = old_cap * 2 - 1;
	w->slot = xcalloc(w->mask + 1, sizeof(*w->slot));
	w->todo_nr = 0;		/* slots move: queue everything again */
	for (i = 0; i < old_cap; i++) {
		if (!old[i].used)
			continue;
		for (j = walk_hash(&old[i].id) & w->mask; w->slot[j].used;
		     j = (j + 1) & w->mask)
			;
		w->slot[j] = old[i];
		ALLOC_GROW(w->todo, w->todo_nr + 1, w->todo_alloc);
		w->todo[w->todo_nr++] = j;
	}
	free(old);
}

/*
 * git_graph_ahead_behind() parses every commit it meets, author and all,
 * and gives up on one that git itself reads.  When it does, count again
 * from the raw parent lines: mark each commit with the tips that reach
 * it until nothing changes, then count the commits only one tip reaches.
 */
int gitx_lenient_ahead_behind(git_repository *repo, const git_oid *a,
			      const git_oid *b, size_t *ahead, size_t *behind)
{
	struct walk w = { NULL, 15, 0, NULL, 0, 0 };
	git_odb *odb = NULL;
	size_t i;
	int ret = -1;

	w.slot = xcalloc(w.mask + 1, sizeof(*w.slot));
	if (git_repository_odb(&odb, repo) < 0 ||
	    walk_mark(&w, a, 1) < 0 || walk_mark(&w, b, 2) < 0)
		goto out;
	while (w.todo_nr) {
		size_t j = w.todo[--w.todo_nr];
		git_oid id = w.slot[j].id, parent;
		unsigned flags = w.slot[j].flags;
		git_odb_object *obj = NULL;
		const char *p, *end;

		if (git_odb_read(&obj, odb, &id) < 0)
			goto out;
		p = git_odb_object_data(obj);
		end = p + git_odb_object_size(obj);
		/* the tree line, then one line per parent */
		p = memchr(p, '\n', end - p);
		while (p && (size_t)(end - ++p) > 7 + GIT_OID_HEXSZ &&
		       !memcmp(p, "parent ", 7) &&
		       !git_oid_fromstrn(&parent, p + 7, GIT_OID_HEXSZ)) {
			if (walk_mark(&w, &parent, flags) < 0) {
				git_odb_object_free(obj);
				goto out;
			}
			p = memchr(p, '\n', end - p);
		}
		git_odb_object_free(obj);
	}
	*ahead = *behind = 0;
	for (i = 0; i <= w.mask; i++) {
		if (w.slot[i].used && w.slot[i].flags == 1)
			(*ahead)++;
		else if (w.slot[i].used && w.slot[i].flags == 2)
			(*behind)++;
	}
	ret = 0;
out:
	git_odb_free(odb);
	free(w.slot);
	free(w.todo);
	return ret;
}

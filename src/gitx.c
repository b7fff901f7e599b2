/*
 * gitx.c: the thin layer between thrum and libgit2, built as the module
 * git-thrum-git2.so (see gitx.h and gitx-load.c); everything here is
 * reached through the table at the end.  Object hash verification on
 * read is turned off (git itself verifies what it fetches, and the check
 * doubles the cost of reading blobs), and so is the existence check of
 * every object a new tree names.  libgit2 fires no hooks, which is what
 * we want for our own ref updates.
 *
 * Commits on a-sync may have been written by anyone with push access, and
 * git reads commits that libgit2 refuses (an author with no e-mail is
 * only a warning to git fsck).  We need a commit's tree and parents,
 * never its author, so a commit is never parsed by libgit2 here: its
 * header lines are read from the raw object (gitx-commit.c).
 */
#include "thrum.h"
#include <git2.h>
#include <git2/sys/commit.h>
#include "gitx-internal.h"
#include "gitx-module.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

static int initialised;

/* called by gitx_unload() before the module goes (not at exit: no need) */
static void x_shutdown(void)
{
	if (initialised)
		git_libgit2_shutdown();
	initialised = 0;
}

static int gitx_init(void)
{
	if (initialised)
		return 0;
	if (git_libgit2_init() < 0)
		return gitx_error("cannot initialise libgit2");
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/*
	 * nor does a tree we build look up every blob it names (one odb
	 * look-up per segment, thousands in a big history): each blob was
	 * either written by us a moment ago or read from the tree we merge
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
	initialised = 1;
	return 0;
}

int gitx_error(const char *what)
{
	const git_error *e = git_error_last();

	return error("%s: %s", what, e && e->message ? e->message
						     : "unknown libgit2 error");
}

static int x_open(struct gitx_repo **xout, const char *git_dir)
{
	git_repository **out = (git_repository **)xout;

	if (gitx_init() < 0)
		return -1;
	if (git_repository_open_ext(out, git_dir,
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return gitx_error("cannot open repository");
	return 0;
}

static int gitx_signature(git_signature **out, const char *commit_author)
{
	const char *lt, *gt;
	char *name, *email;
	int ret;

	if (!commit_author || !*commit_author)
		commit_author = "Thrum <thrum@local>";
	lt = strchr(commit_author, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	if (!lt || !gt || lt == commit_author)
		return error("bad thrum.commitAuthor '%s': want 'Name <email>'",
			     commit_author);
	name = xstrndup(commit_author, lt - commit_author);
	while (*name && name[strlen(name) - 1] == ' ')
		name[strlen(name) - 1] = '\0';
	email = xstrndup(lt + 1, gt - lt - 1);
	ret = git_signature_now(out, name, email);
	free(name);
	free(email);
	return ret < 0 ? gitx_error("cannot make a signature") : 0;
}

static int x_ref_exists(struct gitx_repo *grepo, const char *ref)
{
	git_repository *repo = (git_repository *)grepo;
	git_reference *r = NULL;
	int ret = git_reference_lookup(&r, repo, ref);

	git_reference_free(r);
	if (ret == GIT_ENOTFOUND)
		return 0;
	if (ret < 0)
		return gitx_error("cannot read ref");
	return 1;
}

/*
 * Point a new refs/heads/a-sync at id; one that someone else created
 * first stands.  0 either way, or -1 after error().
 */
static int create_sync_ref(git_repository *repo, const git_oid *id,
			   const char *log_message)
{
	git_reference *ref = NULL;
	int ret = git_reference_create(&ref, repo, GITX_SYNC_REF, id, 0,
				       log_message);

	git_reference_free(ref);
	if (ret >= 0 ||
	    x_ref_exists((struct gitx_repo *)repo, GITX_SYNC_REF) == 1)
		return 0;
	return gitx_error("cannot create " GITX_SYNC_REF);
}

static int x_create_orphan_branch(struct gitx_repo *grepo,
				  const char *author)
{
	git_repository *repo = (git_repository *)grepo;
	git_treebuilder *tb = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_oid tree_id, commit_id;
	int ret = -1;

	if (gitx_signature(&sig, author) < 0)
		goto out;
	if (git_treebuilder_new(&tb, repo, NULL) < 0 ||
	    git_treebuilder_write(&tree_id, tb) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0) {
		gitx_error("cannot write the empty tree");
		goto out;
	}
	if (git_commit_create(&commit_id, repo, NULL, sig, sig, NULL,
			      "thrum: start the a-sync branch\n", tree,
			      0, NULL) < 0) {
		gitx_error("cannot write the first a-sync commit");
		goto out;
	}
	ret = create_sync_ref(repo, &commit_id, "thrum: create a-sync");
out:
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	return ret;
}

static int x_branch_from(struct gitx_repo *grepo, const char *refname)
{
	git_repository *repo = (git_repository *)grepo;
	git_oid id, tree;

	/* any commit with a tree will do: its author is none of our business */
	if (git_reference_name_to_id(&id, repo, refname) < 0 ||
	    gitx_read_commit(repo, &id, &tree, NULL, NULL) < 0)
		return gitx_error("cannot read the remote a-sync branch");
	return create_sync_ref(repo, &id, "thrum: a-sync from remote");
}

static int x_resolve(struct gitx_repo *grepo, const char *refname,
		     struct gitx_oid *xout)
{
	git_repository *repo = (git_repository *)grepo;
	git_oid *out = (git_oid *)xout;
	int ret = git_reference_name_to_id(out, repo, refname);

	if (ret == GIT_ENOTFOUND)
		return THRUM_ENOTFOUND;
	return ret < 0 ? gitx_error("cannot read ref") : 0;
}

static int is_blob_mode(git_filemode_t mode)
{
	return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

static int add_file(git_repository *repo, struct gitx_files *out,
		    const char *path, const git_tree_entry *e, size_t max,
		    const struct gitx_files *trusted)
{
	const struct gitx_file *known = trusted ? gitx_files_find(trusted, path)
						: NULL;
	git_odb *odb = NULL;
	size_t size = 0;
	git_object_t type;

	if (!is_blob_mode(git_tree_entry_filemode(e))) {
		out->skipped++;
		return 0;
	}
	if (max == SIZE_MAX)
		goto add;	/* our own tree: no cap to check */
	if (known && git_oid_equal((const git_oid *)&known->blob,
				   git_tree_entry_id(e)))
		goto add;	/* this very blob is ours already */
	/* the header only: a hostile blob is never inflated to learn its size */
	if (git_repository_odb(&odb, repo) < 0 ||
	    git_odb_read_header(&size, &type, odb, git_tree_entry_id(e)) < 0) {
		git_odb_free(odb);
		return gitx_error("cannot read a blob header");
	}
	git_odb_free(odb);
	if (type != GIT_OBJECT_BLOB || size > max) {
		out->skipped++;
		return 0;
	}
add:
	ALLOC_GROW(out->v, out->nr + 1, out->alloc);
	out->v[out->nr].path = xstrdup(path);
	git_oid_cpy((git_oid *)&out->v[out->nr].blob, git_tree_entry_id(e));
	out->v[out->nr].size = size;
	out->nr++;
	return 0;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct gitx_file *)a)->path,
		      ((const struct gitx_file *)b)->path);
}

struct file_pos {
	const char *path;
	size_t pos;		/* in tree order */
};

/* by path, then by position in the tree: the first of a name sorts first */
static int cmp_file_pos(const void *a, const void *b)
{
	const struct file_pos *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * A tree may name one file twice (git mktree refuses to write such a
 * tree, a hand-made object need not): like git, take the first entry of
 * a name and skip the others, counted.
 */
static void drop_duplicates(struct gitx_files *out)
{
	struct file_pos *by_path;
	size_t i, j;
	char *drop;

	if (out->nr < 2)
		return;
	by_path = xcalloc(out->nr, sizeof(*by_path));
	drop = xcalloc(out->nr, 1);
	for (i = 0; i < out->nr; i++) {
		by_path[i].path = out->v[i].path;
		by_path[i].pos = i;
	}
	qsort(by_path, out->nr, sizeof(*by_path), cmp_file_pos);
	for (i = 1; i < out->nr; i++)
		if (!strcmp(by_path[i].path, by_path[i - 1].path))
			drop[by_path[i].pos] = 1;
	for (i = j = 0; i < out->nr; i++) {
		if (drop[i]) {
			free(out->v[i].path);
			out->skipped++;
			continue;
		}
		out->v[j++] = out->v[i];
	}
	out->nr = j;
	free(drop);
	free(by_path);
}

/*
 * The entries of tree under prefix ("" or "messages/") that filter
 * takes; at the top (sub non-NULL), the directory it takes goes to *sub,
 * its path to sub_path.
 */
static int filter_tree(git_repository *repo, const git_tree *tree,
		       const char *prefix, const struct gitx_filter *filter,
		       const struct gitx_files *trusted, struct gitx_files *out,
		       git_tree **sub, struct strbuf *sub_path)
{
	struct strbuf path = STRBUF_INIT;
	size_t i, n = git_tree_entrycount(tree);
	int ret = 0;

	for (i = 0; !ret && i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		int is_tree = git_tree_entry_filemode(e) == GIT_FILEMODE_TREE;

		strbuf_reset(&path);
		strbuf_addf(&path, "%s%s", prefix, git_tree_entry_name(e));
		if (sub && is_tree) {
			/* a directory: one level, the last of a name */
			strbuf_addch(&path, '/');
			if (!filter->accept(path.buf, filter->payload)) {
				out->skipped++;
				continue;
			}
			git_tree_free(*sub);
			*sub = NULL;
			strbuf_reset(sub_path);
			strbuf_addbuf(sub_path, &path);
			ret = git_tree_lookup(sub, repo, git_tree_entry_id(e));
			if (ret < 0)
				ret = gitx_error("cannot read a directory of "
						 "a-sync");
			continue;
		}
		if (!filter->accept(path.buf, filter->payload))
			out->skipped++;
		else
			ret = add_file(repo, out, path.buf, e,
				       filter->max_bytes, trusted);
	}
	strbuf_release(&path);
	return ret;
}

static int x_log_files(struct gitx_repo *grepo,
		       const struct gitx_oid *xcommit_id,
		       const struct gitx_filter *filter,
		       const struct gitx_files *trusted, struct gitx_files *out)
{
	git_repository *repo = (git_repository *)grepo;
	const git_oid *commit_id = (const git_oid *)xcommit_id;
	git_tree *tree = NULL, *sub = NULL;
	struct strbuf dir = STRBUF_INIT;
	git_oid tree_id;
	int ret = -1;

	if (gitx_read_commit(repo, commit_id, &tree_id, NULL, NULL) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0) {
		gitx_error("cannot read an a-sync commit");
		goto out;
	}
	if (filter_tree(repo, tree, "", filter, trusted, out, &sub, &dir) < 0 ||
	    (sub && filter_tree(repo, sub, dir.buf, filter, trusted, out, NULL,
				NULL) < 0))
		goto out;
	drop_duplicates(out);
	/* tree order is path order already, but callers rely on it */
	if (out->nr)
		qsort(out->v, out->nr, sizeof(*out->v), cmp_file);
	ret = 0;
out:
	strbuf_release(&dir);
	git_tree_free(sub);
	git_tree_free(tree);
	return ret;
}

static int x_blob_read(struct gitx_repo *grepo, const struct gitx_oid *xid,
		       struct strbuf *sb)
{
	git_repository *repo = (git_repository *)grepo;
	const git_oid *id = (const git_oid *)xid;
	git_blob *blob = NULL;
	int ret;

	if (git_blob_lookup(&blob, repo, id) < 0)
		return gitx_error("cannot read a blob");
	strbuf_reset(sb);
	ret = strbuf_add(sb, git_blob_rawcontent(blob),
			 (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return ret < 0 ? error("blob too large") : 0;
}

static int x_blob_borrow(struct gitx_repo *grepo, const struct gitx_oid *xid,
			 struct gitx_blob **out, const char **buf, size_t *len)
{
	git_repository *repo = (git_repository *)grepo;
	git_blob *blob = NULL;

	*out = NULL;
	if (git_blob_lookup(&blob, repo, (const git_oid *)xid) < 0)
		return gitx_error("cannot read a blob");
	*buf = git_blob_rawcontent(blob);
	*len = (size_t)git_blob_rawsize(blob);
	*out = (struct gitx_blob *)blob;
	return 0;
}

static void x_blob_release(struct gitx_blob *blob)
{
	git_blob_free((git_blob *)blob);
}

static int x_blob_write(struct gitx_repo *grepo, const char *buf, size_t len,
			struct gitx_oid *xout)
{
	git_repository *repo = (git_repository *)grepo;
	git_oid *out = (git_oid *)xout;

	if (git_blob_create_from_buffer(out, repo, buf, len) < 0)
		return gitx_error("cannot write a blob");
	return 0;
}

static int insert_sorted(git_treebuilder *tb, const char *name,
			 const git_oid *id, git_filemode_t mode)
{
	if (git_treebuilder_insert(NULL, tb, name, id, mode) < 0)
		return gitx_error("cannot build a tree");
	return 0;
}

static int x_commit_files(struct gitx_repo *grepo,
			  const struct gitx_files *files,
			  const struct gitx_oid *xparent_id,
			  const struct gitx_oid *xcurrent, const char *message,
			  const char *author, struct gitx_oid *xout, int *made)
{
	git_repository *repo = (git_repository *)grepo;
	const git_oid *parent_id = (const git_oid *)xparent_id;
	const git_oid *current = (const git_oid *)xcurrent;
	git_oid *out = (git_oid *)xout;
	git_treebuilder *root = NULL, *msgs = NULL;
	git_signature *sig = NULL;
	git_oid tree_id, sub_id;
	size_t i, nmsgs = 0;
	int ret = -1;

	*made = 0;
	if (git_treebuilder_new(&root, repo, NULL) < 0 ||
	    git_treebuilder_new(&msgs, repo, NULL) < 0) {
		gitx_error("cannot build a tree");
		goto out;
	}
	for (i = 0; i < files->nr; i++) {
		const struct gitx_file *f = &files->v[i];
		const git_oid *blob = (const git_oid *)&f->blob;

		if (!strncmp(f->path, "messages/", 9)) {
			if (insert_sorted(msgs, f->path + 9, blob,
					  GIT_FILEMODE_BLOB) < 0)
				goto out;
			nmsgs++;
		} else if (insert_sorted(root, f->path, blob,
					 GIT_FILEMODE_BLOB) < 0) {
			goto out;
		}
	}
	if (nmsgs) {
		if (git_treebuilder_write(&sub_id, msgs) < 0 ||
		    insert_sorted(root, "messages", &sub_id,
				  GIT_FILEMODE_TREE) < 0) {
			gitx_error("cannot write messages/");
			goto out;
		}
	}
	if (git_treebuilder_write(&tree_id, root) < 0) {
		gitx_error("cannot write a tree");
		goto out;
	}
	if (parent_id) {
		git_oid parent_tree;

		if (gitx_read_commit(repo, parent_id, &parent_tree, NULL,
				     NULL) < 0) {
			gitx_error("cannot read the parent commit");
			goto out;
		}
		if (git_oid_equal(&parent_tree, &tree_id)) {
			git_oid_cpy(out, parent_id);
			ret = 0;
			goto out;
		}
	}
	if (current) {
		git_oid current_tree, current_parent;
		int has_parent;

		/*
		 * the commit a cycle that could not push made already: same
		 * tree, on the same parent (or none).  Making it again with
		 * a new date is noise in the history and the reflog.  (One
		 * we cannot read is simply not reused.)
		 */
		if (!gitx_read_commit(repo, current, &current_tree,
				      &current_parent, &has_parent) &&
		    git_oid_equal(&current_tree, &tree_id) &&
		    (parent_id ? has_parent && git_oid_equal(&current_parent,
							     parent_id)
			       : !has_parent)) {
			git_oid_cpy(out, current);
			ret = 0;
			goto out;
		}
	}
	if (gitx_signature(&sig, author) < 0)
		goto out;
	/* by id: the parent is never parsed (see gitx-module.h) */
	if (git_commit_create_from_ids(out, repo, NULL, sig, sig, NULL,
				       message, &tree_id, parent_id ? 1 : 0,
				       &parent_id) < 0) {
		gitx_error("cannot write a commit");
		goto out;
	}
	*made = 1;
	ret = 0;
out:
	git_signature_free(sig);
	git_treebuilder_free(msgs);
	git_treebuilder_free(root);
	return ret;
}

static int x_ref_cas(struct gitx_repo *grepo, const char *ref,
		     const struct gitx_oid *xnew_id,
		     const struct gitx_oid *xold_id, const char *log_message)
{
	git_repository *repo = (git_repository *)grepo;
	const git_oid *new_id = (const git_oid *)xnew_id;
	const git_oid *old_id = (const git_oid *)xold_id;
	git_reference *r = NULL;
	int ret;

	if (old_id)
		ret = git_reference_create_matching(&r, repo, ref, new_id, 1,
						    old_id, log_message);
	else
		ret = git_reference_create(&r, repo, ref, new_id, 0,
					   log_message);
	git_reference_free(r);
	if (ret == GIT_EMODIFIED || ret == GIT_EEXISTS)
		return THRUM_ECONFLICT;
	return ret < 0 ? gitx_error("cannot update a-sync") : 0;
}

static int x_ahead_behind(struct gitx_repo *grepo, const struct gitx_oid *xa,
			  const struct gitx_oid *xb, size_t *ahead,
			  size_t *behind)
{
	git_repository *repo = (git_repository *)grepo;
	const git_oid *a = (const git_oid *)xa;
	const git_oid *b = (const git_oid *)xb;

	if (gitx_lenient_ahead_behind(repo, a, b, ahead, behind) < 0)
		return gitx_error("cannot count commits");
	return 0;
}

static void x_close(struct gitx_repo *repo)
{
	git_repository_free((git_repository *)repo);
}

/* a struct gitx_oid is read and written as a git_oid */
typedef char oid_sizes_match[sizeof(git_oid) == sizeof(struct gitx_oid)
			     ? 1 : -1];

extern const struct gitx_ops thrum_gitx_ops;
const struct gitx_ops thrum_gitx_ops = {
	.abi = GITX_ABI,
	.shutdown = x_shutdown,
	.init = gitx_init,
	.open = x_open,
	.close = x_close,
	.ref_exists = x_ref_exists,
	.create_orphan_branch = x_create_orphan_branch,
	.branch_from = x_branch_from,
	.resolve = x_resolve,
	.log_files = x_log_files,
	.blob_read = x_blob_read,
	.blob_borrow = x_blob_borrow,
	.blob_release = x_blob_release,
	.blob_write = x_blob_write,
	.commit_files = x_commit_files,
	.ref_cas = x_ref_cas,
	.ahead_behind = x_ahead_behind,
};

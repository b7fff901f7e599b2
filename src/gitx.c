/*
 * gitx.c: the thin layer between thrum and libgit2.  libgit2 is
 * initialised on first use only; object hash verification on read is
 * turned off (git itself verifies what it fetches, and the check doubles
 * the cost of reading blobs).  libgit2 fires no hooks, which is what we
 * want for our own ref updates.
 */
#include "thrum.h"
#include "gitx.h"
#include "usage.h"
#include "wrapper.h"

static int initialised;

static void gitx_shutdown(void)
{
	git_libgit2_shutdown();
}

static int gitx_init(void)
{
	if (initialised)
		return 0;
	if (git_libgit2_init() < 0)
		return gitx_error("cannot initialise libgit2");
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	initialised = 1;
	atexit(gitx_shutdown);
	return 0;
}

int gitx_error(const char *what)
{
	const git_error *e = git_error_last();

	return error("%s: %s", what, e && e->message ? e->message
						     : "unknown libgit2 error");
}

int gitx_open(git_repository **out, const char *git_dir)
{
	if (gitx_init() < 0)
		return -1;
	if (git_repository_open_ext(out, git_dir,
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return gitx_error("cannot open repository");
	return 0;
}

int gitx_signature(git_signature **out, const char *commit_author)
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

int gitx_ref_exists(git_repository *repo, const char *ref)
{
	git_reference *r = NULL;
	int ret = git_reference_lookup(&r, repo, ref);

	git_reference_free(r);
	if (ret == GIT_ENOTFOUND)
		return 0;
	if (ret < 0)
		return gitx_error("cannot read ref");
	return 1;
}

int gitx_create_orphan_branch(git_repository *repo, const char *author)
{
	git_treebuilder *tb = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_reference *ref = NULL;
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
	if (git_reference_create(&ref, repo, GITX_SYNC_REF, &commit_id, 0,
				 "thrum: create a-sync") < 0) {
		/* someone else created it first: theirs stands */
		if (git_error_last() &&
		    gitx_ref_exists(repo, GITX_SYNC_REF) == 1) {
			ret = 0;
			goto out;
		}
		gitx_error("cannot create " GITX_SYNC_REF);
		goto out;
	}
	ret = 0;
out:
	git_reference_free(ref);
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	return ret;
}

int gitx_branch_from(git_repository *repo, const char *refname)
{
	git_reference *src = NULL, *dst = NULL;
	git_object *commit = NULL;
	int ret = -1;

	if (git_reference_lookup(&src, repo, refname) < 0 ||
	    git_reference_peel(&commit, src, GIT_OBJECT_COMMIT) < 0) {
		gitx_error("cannot read the remote a-sync branch");
		goto out;
	}
	if (git_reference_create(&dst, repo, GITX_SYNC_REF,
				 git_object_id(commit), 0,
				 "thrum: a-sync from remote") < 0) {
		if (gitx_ref_exists(repo, GITX_SYNC_REF) == 1) {
			ret = 0;
			goto out;
		}
		gitx_error("cannot create " GITX_SYNC_REF);
		goto out;
	}
	ret = 0;
out:
	git_object_free(commit);
	git_reference_free(dst);
	git_reference_free(src);
	return ret;
}

/*
 * t-gitx-commit: reading commits someone else wrote (src/gitx-commit.c),
 * against commits written byte by byte into a scratch repository: an
 * author git reads and libgit2 refuses, clocks that go back.
 */
#include "unit.h"
#include "unit-scratch.h"
#include <git2.h>
#include "gitx-module.h"
#include "strbuf.h"

static char tmpdir[] = "/tmp/t-gitx-commit-XXXXXX";
static git_repository *repo;
static git_oid empty_tree;

/* the module's error reporting, without the module */
int gitx_error(const char *what)
{
	const git_error *e = git_error_last();

	fprintf(stderr, "error: %s: %s\n", what, e ? e->message : "?");
	return -1;
}

/* a commit of the empty tree, by author, at time, on parents */
static git_oid commit(const char *author, long time, int nparents, ...)
{
	struct strbuf sb = STRBUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	git_odb *odb;
	git_oid id;
	va_list ap;
	int i;

	git_oid_tostr(hex, sizeof(hex), &empty_tree);
	strbuf_addf(&sb, "tree %s\n", hex);
	va_start(ap, nparents);
	for (i = 0; i < nparents; i++) {
		git_oid_tostr(hex, sizeof(hex), va_arg(ap, const git_oid *));
		strbuf_addf(&sb, "parent %s\n", hex);
	}
	va_end(ap);
	strbuf_addf(&sb, "author %s %ld +0000\ncommitter %s %ld +0000\n\nm\n",
		    author, time, author, time);
	assert_int_equal(git_repository_odb(&odb, repo), 0);
	assert_int_equal(git_odb_write(&id, odb, sb.buf, sb.len,
				       GIT_OBJECT_COMMIT), 0);
	git_odb_free(odb);
	strbuf_release(&sb);
	return id;
}

static void counts(const git_oid *a, const git_oid *b, size_t want_ahead,
		   size_t want_behind)
{
	size_t ahead = 99, behind = 99;

	assert_int_equal(gitx_lenient_ahead_behind(repo, a, b, &ahead,
						   &behind), 0);
	assert_int_equal(ahead, want_ahead);
	assert_int_equal(behind, want_behind);
	assert_int_equal(gitx_lenient_ahead_behind(repo, b, a, &ahead,
						   &behind), 0);
	assert_int_equal(ahead, want_behind);
	assert_int_equal(behind, want_ahead);
}

static void test_read_commit_without_email(void **state)
{
	git_oid root, c, tree, parent;
	int has_parent = -1;

	(void)state;
	root = commit("Evil", 1700000000, 0);
	c = commit("Evil", 1700000001, 1, &root);
	assert_int_equal(gitx_read_commit(repo, &c, &tree, &parent,
					  &has_parent), 0);
	assert_true(git_oid_equal(&tree, &empty_tree));
	assert_int_equal(has_parent, 1);
	assert_true(git_oid_equal(&parent, &root));
	assert_int_equal(gitx_read_commit(repo, &root, &tree, &parent,
					  &has_parent), 0);
	assert_int_equal(has_parent, 0);
	/* a blob is no commit */
	assert_int_equal(gitx_read_commit(repo, &empty_tree, &tree, NULL,
					  NULL), -1);
}

/* a line of history through commits libgit2 will not parse */
static void test_ahead_behind_bad_authors(void **state)
{
	git_oid r, m, a1, a2, b1;

	(void)state;
	r = commit("Evil", 100, 0);
	m = commit("A <a@example.com>", 200, 1, &r);
	a1 = commit("Evil", 300, 1, &m);
	a2 = commit("Evil", 400, 1, &a1);
	b1 = commit("B <b@example.com>", 350, 1, &m);
	counts(&a2, &b1, 2, 1);
	counts(&a2, &m, 2, 0);
	counts(&a2, &a2, 0, 0);
}

/*
 * A root dated in the future is reached from b's side first, and every
 * commit still queued is common before a's side gets there: walking on
 * until the root is common too is what keeps it out of "behind".
 */
static void test_ahead_behind_skewed_root(void **state)
{
	git_oid r, p, m, a1, b1;

	(void)state;
	r = commit("R <r@example.com>", 9999, 0);
	p = commit("P <p@example.com>", 50, 1, &r);
	m = commit("M <m@example.com>", 100, 1, &p);
	a1 = commit("A <a@example.com>", 200, 1, &m);
	b1 = commit("B <b@example.com>", 300, 2, &m, &r);
	counts(&a1, &b1, 1, 1);
}

static int setup(void **state)
{
	git_odb *odb = NULL;

	(void)state;
	if (!mkdtemp(tmpdir) || git_libgit2_init() < 0 ||
	    git_repository_init(&repo, tmpdir, 1) < 0 ||
	    git_repository_odb(&odb, repo) < 0 ||
	    git_odb_write(&empty_tree, odb, "", 0, GIT_OBJECT_TREE) < 0)
		return -1;
	git_odb_free(odb);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	git_repository_free(repo);
	git_libgit2_shutdown();
	unit_rm_rf(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_commit_without_email),
		cmocka_unit_test(test_ahead_behind_bad_authors),
		cmocka_unit_test(test_ahead_behind_skewed_root),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * synctree.c: creating, checking and repairing the sync work tree.
 * Invariant: repair never loses a line.  Before anything is removed, every
 * log file in the old directory is read into memory; after the fresh
 * checkout each line the branch does not already hold is appended back,
 * byte for byte.
 */
#include "thrum.h"
#include "synctree.h"
#include "event.h"
#include "repo.h"
#include "run-command.h"
#include "store.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

static const char *const sparse_patterns[] = {
	"/events.jsonl", "/messages/", "/messages.jsonl",
};

static char *read_small(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	sb.max = 1 << 16;
	if (strbuf_read_file(&sb, path, 256) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	strbuf_trim(&sb);
	return strbuf_detach(&sb, NULL);
}

static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

char *synctree_git_dir(const struct repo *r)
{
	char *dotgit = path_join(r->sync_dir, ".git");
	char *content = read_small(dotgit);
	char *dir = NULL;

	if (content && !strncmp(content, "gitdir: ", 8))
		dir = xstrdup(content + 8);
	free(content);
	free(dotgit);
	return dir;
}

int synctree_health(const struct repo *r, struct strbuf *why)
{
	char *dotgit = path_join(r->sync_dir, ".git");
	char *content = NULL, *admin = NULL, *back = NULL, *head = NULL;
	char *sparse = NULL, *p = NULL;
	struct stat st;
	int ret = 0;
	size_t i;

	if (lstat(dotgit, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = 1;
		if (why)
			strbuf_addf(why, "'%s' is not a file", dotgit);
		goto out;
	}
	content = read_small(dotgit);
	if (!content || strncmp(content, "gitdir: ", 8)) {
		ret = 2;
		if (why)
			strbuf_addf(why, "'%s' does not name a git directory",
				    dotgit);
		goto out;
	}
	admin = xstrdup(content + 8);
	p = path_join(admin, "gitdir");
	back = read_small(p);
	free(p);
	p = realpath(dotgit, NULL);
	if (!back || !p || strcmp(back, p)) {
		char *real_back = back ? realpath(back, NULL) : NULL;
		int same = real_back && p && !strcmp(real_back, p);

		free(real_back);
		if (!same) {
			ret = 2;
			if (why)
				strbuf_addf(why, "git does not list '%s' as a "
					    "work tree", r->sync_dir);
			goto out;
		}
	}
	free(p);
	p = path_join(admin, "HEAD");
	head = read_small(p);
	if (!head || strcmp(head, "ref: refs/heads/a-sync")) {
		ret = 3;
		if (why)
			strbuf_addf(why, "the sync work tree is on '%s', not "
				    "a-sync", head ? head : "?");
		goto out;
	}
	free(p);
	p = path_join(admin, "info/sparse-checkout");
	sparse = read_small(p);
	for (i = 0; i < ARRAY_SIZE(sparse_patterns) && !ret; i++)
		if (!sparse || !has_line(sparse, sparse_patterns[i])) {
			ret = 4;
			if (why)
				strbuf_addf(why, "sparse pattern '%s' is "
					    "missing", sparse_patterns[i]);
		}
out:
	free(dotgit);
	free(content);
	free(admin);
	free(back);
	free(head);
	free(sparse);
	free(p);
	return ret;
}

static int git_in(const char *dir, const char **args)
{
	return run_git_v(dir, RUN_GIT_NO_HOOKS, NULL, args);
}

int synctree_create(const struct repo *r)
{
	const char *prune[] = { "worktree", "prune", NULL };
	const char *add[] = { "worktree", "add", "--no-checkout", "--quiet",
			      r->sync_dir, "a-sync", NULL };
	const char *sparse[] = { "sparse-checkout", "set", "--no-cone",
				 sparse_patterns[0], sparse_patterns[1],
				 sparse_patterns[2], NULL };
	const char *reset[] = { "reset", "--quiet", "--hard", "HEAD", NULL };
	char *parent = path_join(r->common_dir, "thrum-sync");
	int ret;

	if (mkdir_p(parent, 0777) < 0) {
		ret = error_errno("cannot create '%s'", parent);
		free(parent);
		return ret;
	}
	free(parent);
	git_in(r->worktree, prune);
	if (git_in(r->worktree, add))
		return error("cannot add the sync work tree '%s'", r->sync_dir);
	if (git_in(r->sync_dir, sparse) || git_in(r->sync_dir, reset))
		return error("cannot check out the sync work tree '%s'",
			     r->sync_dir);
	return 0;
}

struct saved_file {
	char *rel;
	struct strbuf content;
};

static int cmp_hash(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* append the lines of saved that current does not hold */
static int restore_lines(struct store *s, const struct saved_file *f)
{
	struct strbuf current = STRBUF_INIT, missing = STRBUF_INIT;
	char *path = store_abs_path(s, f->rel);
	uint64_t *hashes = NULL;
	size_t nr = 0, alloc = 0;
	const char *p, *end;
	int ret = 0;

	if (strbuf_read_file(&current, path, 0) < 0 && errno != ENOENT) {
		ret = error_errno("cannot read '%s'", path);
		goto out;
	}
	for (p = current.buf, end = p + current.len; p < end; ) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		ALLOC_GROW(hashes, nr + 1, alloc);
		hashes[nr++] = event_line_hash(p, n);
		p += n + 1;
	}
	if (nr > 1)
		qsort(hashes, nr, sizeof(*hashes), cmp_hash);
	for (p = f->content.buf, end = p + f->content.len; p < end; ) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		uint64_t h = event_line_hash(p, n);

		if (n && (!nr || !bsearch(&h, hashes, nr, sizeof(h),
					  cmp_hash))) {
			strbuf_add(&missing, p, n);
			strbuf_addch(&missing, '\n');
		}
		p += n + 1;
	}
	if (missing.len)
		ret = store_append_raw(s, f->rel, &missing);
out:
	free(hashes);
	free(path);
	strbuf_release(&current);
	strbuf_release(&missing);
	return ret;
}

/*
 * Cheap repairs first, which touch no file of the log: links broken by a
 * moved repository (`git worktree repair`), a work tree switched to
 * another branch, sparse patterns lost.  0 when healthy afterwards.
 */
static int repair_in_place(const struct repo *r)
{
	const char *repair[] = { "worktree", "repair", r->sync_dir, NULL };
	const char *head[] = { "symbolic-ref", "HEAD", "refs/heads/a-sync",
			       NULL };
	const char *reset[] = { "reset", "--quiet", NULL };
	const char *sparse[] = { "sparse-checkout", "set", "--no-cone",
				 sparse_patterns[0], sparse_patterns[1],
				 sparse_patterns[2], NULL };
	int h;

	git_in(r->worktree, repair);
	h = synctree_health(r, NULL);
	if (h == 3 && !git_in(r->sync_dir, head))
		git_in(r->sync_dir, reset);
	h = synctree_health(r, NULL);
	if (h == 4)
		git_in(r->sync_dir, sparse);
	return synctree_health(r, NULL) ? -1 : 0;
}

int synctree_repair(const struct repo *r)
{
	struct store s = STORE_INIT;
	struct strvec files = STRVEC_INIT;
	struct saved_file *saved = NULL;
	size_t i, nr = 0;
	int ret = -1;

	if (!access(r->sync_dir, F_OK) && !repair_in_place(r))
		return 0;
	store_init(&s, r);
	store_list_files(&s, &files);
	saved = xcalloc(files.nr ? files.nr : 1, sizeof(*saved));
	for (i = 0; i < files.nr; i++) {
		char *path = store_abs_path(&s, files.v[i]);

		strbuf_init(&saved[nr].content, 0);
		if (strbuf_read_file(&saved[nr].content, path, 0) < 0) {
			error_errno("cannot save '%s'", path);
			strbuf_release(&saved[nr].content);
			free(path);
			goto out;
		}
		saved[nr++].rel = xstrdup(files.v[i]);
		free(path);
	}
	if (!access(r->sync_dir, F_OK)) {
		const char *remove[] = { "worktree", "remove", "--force",
					 "--force", r->sync_dir, NULL };
		struct child_process rm = CHILD_PROCESS_INIT;

		if (git_in(r->worktree, remove)) {
			/* not a work tree git knows: remove the directory */
			strvec_pushl(&rm.args, "rm", "-rf", "--", r->sync_dir,
				     NULL);
			if (run_command(&rm))
				goto out;
		}
	}
	if (synctree_create(r) < 0)
		goto out;
	for (i = 0; i < nr; i++)
		if (restore_lines(&s, &saved[i]) < 0)
			goto out;
	ret = 0;
out:
	for (i = 0; i < nr; i++) {
		free(saved[i].rel);
		strbuf_release(&saved[i].content);
	}
	free(saved);
	strvec_clear(&files);
	store_release(&s);
	return ret;
}

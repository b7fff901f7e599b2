/*
 * gitx-load.c: find and open the libgit2 module on first use, and forward
 * the gitx_*() calls to it (see gitx.h for why it is a module).
 *
 * The module is looked for, in order, at $THRUM_GIT2_MODULE, next to the
 * running binary (the build tree), and in ../lib/git-thrum/ from the
 * binary's directory (where `make install` puts it).  A missing or
 * mismatched module is an error, never fatal: the call that needed it
 * returns -1 (the daemon logs it and goes on), and the next call looks
 * for the module again.
 */
#include "thrum.h"
#include "gitx-internal.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"
#include <dlfcn.h>

#define MODULE_NAME "git-thrum-git2.so"

static const struct gitx_ops *ops;
static void *handle;

static void *try_open(const char *path, struct strbuf *why)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		strbuf_addf(why, "\n\t%s", dlerror());
	return h;
}

/* dir/rel if it exists */
static void *try_dir(const char *dir, size_t len, const char *rel,
		     struct strbuf *why)
{
	struct strbuf path = STRBUF_INIT;
	void *h = NULL;

	strbuf_add(&path, dir, len);
	strbuf_addstr(&path, rel);
	if (!access(path.buf, F_OK))
		h = try_open(path.buf, why);
	else
		strbuf_addf(why, "\n\t%s: not found", path.buf);
	strbuf_release(&path);
	return h;
}

/* the module's table, loaded on first use; NULL after error() */
static const struct gitx_ops *load(void)
{
	struct strbuf why = STRBUF_INIT;
	const char *env = getenv("THRUM_GIT2_MODULE");
	const struct gitx_ops *found;
	void *h = NULL;
	char exe[PATH_MAX];
	ssize_t n;

	if (ops)
		return ops;
	if (env && *env)
		h = try_open(env, &why);
	if (!h && (n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			size_t len = slash - exe + 1;

			h = try_dir(exe, len, MODULE_NAME, &why);
			if (!h)
				h = try_dir(exe, len, "../lib/git-thrum/"
					    MODULE_NAME, &why);
		}
	}
	found = NULL;
	if (!h)
		error("cannot load the libgit2 module " MODULE_NAME ":%s",
		      why.buf);
	else if (!(found = dlsym(h, GITX_OPS_SYMBOL)))
		error("%s: not a git-thrum module", MODULE_NAME);
	else if (found->abi != GITX_ABI)
		error("%s is from another build of git-thrum; reinstall",
		      MODULE_NAME);
	else
		ops = found;
	strbuf_release(&why);
	if (ops)
		handle = h;
	else if (h)
		dlclose(h);
	return ops;
}

void gitx_unload(void)
{
	if (!ops)
		return;
	ops->shutdown();
	ops = NULL;
	dlclose(handle);
	handle = NULL;
}

int gitx_preload(void)
{
	return load() ? ops->init() : -1;
}

int gitx_loaded(void)
{
	return !!ops;
}

int gitx_open(struct gitx_repo **out, const char *git_dir)
{
	/* every other call takes what a loaded module gave */
	if (!load())
		return -1;
	return ops->open(out, git_dir);
}

void gitx_close(struct gitx_repo *repo)
{
	if (repo)
		ops->close(repo);
}

int gitx_ref_exists(struct gitx_repo *repo, const char *ref)
{
	return ops->ref_exists(repo, ref);
}

int gitx_create_orphan_branch(struct gitx_repo *repo, const char *author)
{
	return ops->create_orphan_branch(repo, author);
}

int gitx_branch_from(struct gitx_repo *repo, const char *refname)
{
	return ops->branch_from(repo, refname);
}

int gitx_resolve(struct gitx_repo *repo, const char *refname,
		 struct gitx_oid *out)
{
	return ops->resolve(repo, refname, out);
}

int gitx_log_files(struct gitx_repo *repo, const struct gitx_oid *commit,
		   const struct gitx_filter *filter,
		   const struct gitx_files *trusted, struct gitx_files *out)
{
	return ops->log_files(repo, commit, filter, trusted, out);
}

int gitx_blob_read(struct gitx_repo *repo, const struct gitx_oid *blob,
		   struct strbuf *sb)
{
	return ops->blob_read(repo, blob, sb);
}

int gitx_blob_borrow(struct gitx_repo *repo, const struct gitx_oid *blob,
		     struct gitx_blob **out, const char **buf, size_t *len)
{
	return ops->blob_borrow(repo, blob, out, buf, len);
}

void gitx_blob_release(struct gitx_blob *blob)
{
	if (blob)
		ops->blob_release(blob);
}

int gitx_blob_write(struct gitx_repo *repo, const char *buf, size_t len,
		    struct gitx_oid *out)
{
	return ops->blob_write(repo, buf, len, out);
}

int gitx_commit_files(struct gitx_repo *repo, const struct gitx_files *files,
		      const struct gitx_oid *parent,
		      const struct gitx_oid *current, const char *message,
		      const char *author, struct gitx_oid *out, int *made)
{
	return ops->commit_files(repo, files, parent, current, message, author,
				 out, made);
}

int gitx_ref_cas(struct gitx_repo *repo, const char *ref,
		 const struct gitx_oid *new_id, const struct gitx_oid *old_id,
		 const char *log_message)
{
	return ops->ref_cas(repo, ref, new_id, old_id, log_message);
}

int gitx_ahead_behind(struct gitx_repo *repo, const struct gitx_oid *a,
		      const struct gitx_oid *b, size_t *ahead, size_t *behind)
{
	return ops->ahead_behind(repo, a, b, ahead, behind);
}

/* --- no library needed --- */

void gitx_files_release(struct gitx_files *f)
{
	size_t i;

	for (i = 0; i < f->nr; i++)
		free(f->v[i].path);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

const struct gitx_file *gitx_files_find(const struct gitx_files *f,
					const char *path)
{
	size_t lo = 0, hi = f->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, f->v[mid].path);

		if (!c)
			return &f->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int gitx_oid_equal(const struct gitx_oid *a, const struct gitx_oid *b)
{
	return !memcmp(a->id, b->id, GITX_OID_RAWSZ);
}

void gitx_oid_hex(const struct gitx_oid *id, char *out)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < GITX_OID_RAWSZ; i++) {
		out[2 * i] = hex[id->id[i] >> 4];
		out[2 * i + 1] = hex[id->id[i] & 0xf];
	}
	out[GITX_OID_HEXSZ] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gitx_oid_from_hex(struct gitx_oid *out, const char *hex)
{
	int i;

	for (i = 0; i < GITX_OID_RAWSZ; i++) {
		int hi = hexval(hex[2 * i]), lo = hi < 0 ? -1
						 : hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out->id[i] = (unsigned char)(hi << 4 | lo);
	}
	return hex[GITX_OID_HEXSZ] && !isspace((unsigned char)hex[GITX_OID_HEXSZ])
		? -1 : 0;
}

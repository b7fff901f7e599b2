/*
 * git thrum who-has <path>: which agents have a file in their work: from
 * every clone's agents as the projection holds their work contexts (they
 * arrive by sync), and live from the work trees of this repository on
 * this machine, read now (work-context.h).
 */
#include "thrum.h"
#include "cmd.h"
#include "format.h"
#include "parse-options.h"
#include "projection.h"
#include "strbuf.h"
#include "usage.h"
#include "work-context.h"
#include "wrapper.h"

const struct cmd_args who_has_args = {
	{ "git thrum who-has <path> [--json]" }, cmd_json_options, 1, 1,
	"who-has needs a path"
};

/*
 * path as the work trees list their files: relative to the top, from
 * the current directory when relative, "./" and a trailing "/" dropped.
 * NULL (after error()) when it is outside the work tree.
 */
static char *repo_path(const struct repo *r, const char *arg)
{
	struct strbuf sb = STRBUF_INIT;
	size_t top = strlen(r->worktree);
	char *cwd = NULL;

	if (arg[0] != '/') {
		cwd = realpath(".", NULL);
		if (cwd && strlen(cwd) > top && !strncmp(cwd, r->worktree, top)
		    && cwd[top] == '/')
			strbuf_addf(&sb, "%s/", cwd + top + 1);
		while (!strncmp(arg, "./", 2))
			arg += 2;
		strbuf_addstr(&sb, arg);
	} else if (!strncmp(arg, r->worktree, top) && arg[top] == '/') {
		strbuf_addstr(&sb, arg + top + 1);
	}
	free(cwd);
	while (sb.len && sb.buf[sb.len - 1] == '/')
		strbuf_setlen(&sb, sb.len - 1);
	if (!sb.len || strstr(sb.buf, "../") || !strcmp(sb.buf, "..")) {
		error("'%s' is not a file in this work tree", arg);
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

static int has(char **files, size_t nr, const char *path)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (!strcmp(files[i], path))
			return 1;
	return 0;
}

static int touches(const struct work_row *r, const char *path)
{
	return has(r->wc.changed_files, r->wc.nr_changed, path) ||
	       has(r->wc.uncommitted_files, r->wc.nr_uncommitted, path);
}

/* the rows of l that touch path into out (moved) */
static void keep_touching(struct work_list *l, const char *path,
			  struct work_list *out)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		if (!touches(&l->items[i], path))
			continue;
		*work_list_add(out) = l->items[i];
		memset(&l->items[i], 0, sizeof(l->items[i]));
	}
}

int cmd_who_has(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct work_list all = WORK_LIST_INIT, live = WORK_LIST_INIT;
	struct work_list found = WORK_LIST_INIT;
	char *path = repo_path(&ctx->repo, argv[0]);
	int ret = 1;

	if (!path)
		goto out;
	if (projection_work_contexts(ctx->proj, &all) < 0 ||
	    work_context_live(&ctx->repo, &live) < 0)
		goto out;
	work_list_merge_live(&all, &live);
	keep_touching(&all, path, &found);
	if (cmd_json) {
		format_who_has_json(path, &found, stdout);
	} else {
		format_set_color(0);
		format_who_has_text(path, &found, stdout);
	}
	ret = 0;
out:
	work_list_release(&found);
	work_list_release(&live);
	work_list_release(&all);
	free(path);
	return ret;
}

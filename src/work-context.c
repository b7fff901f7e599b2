/*
 * work-context.c: an agent's work context from its work tree, and its
 * publication (work-context.h).  The state is read with the user's `git`
 * (its index, its ignore rules, its fsmonitor), names only, NUL
 * terminated: nothing is parsed but the list of names.  What it costs (a
 * handful of git commands) is paid at most once a minute per agent: the
 * time and a hash of the last context published are kept in
 * var/work/<name>, so an unchanged work tree publishes nothing at all.
 */
#include "thrum.h"
#include "work-context.h"
#include "core.h"
#include "date.h"
#include "event.h"
#include "identity.h"
#include "lockfile.h"
#include "projection.h"
#include "repo.h"
#include "run-command.h"
#include "store.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

/* git's stdout in dir into out; 0 when git exits 0 */
static int git_out(const char *dir, struct strbuf *out, ...)
{
	struct strvec args = STRVEC_INIT;
	const char *a;
	va_list ap;
	int ret;

	va_start(ap, out);
	while ((a = va_arg(ap, const char *)))
		strvec_push(&args, a);
	va_end(ap);
	strbuf_reset(out);
	ret = run_git_v(dir, RUN_GIT_QUIET, out, args.v);
	strvec_clear(&args);
	return ret ? -1 : 0;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sort and drop repeats */
static void sort_unique(char **v, size_t *nr)
{
	size_t i, kept = 0;

	if (!*nr)
		return;
	qsort(v, *nr, sizeof(*v), cmp_path);
	for (i = 0; i < *nr; i++) {
		if (kept && !strcmp(v[kept - 1], v[i])) {
			free(v[i]);
			continue;
		}
		v[kept++] = v[i];
	}
	*nr = kept;
}

/* each NUL-terminated name in out into wc's list */
static void add_names(struct event_work_context *wc, int uncommitted,
		      const struct strbuf *out)
{
	const char *p = out->buf, *end = out->buf + out->len;

	while (p < end) {
		size_t n = strnlen(p, end - p);

		if (n)
			event_work_context_add_file(wc, uncommitted, p);
		p += n + 1;
	}
}

/*
 * What HEAD's changes are counted from: its upstream, else the remote's
 * default branch, else a local main or master.  A new string, or NULL.
 */
static char *find_base(const char *dir, struct strbuf *out)
{
	static const char *const candidates[] = {
		"@{upstream}", "refs/remotes/origin/HEAD", "refs/heads/main",
		"refs/heads/master",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(candidates); i++) {
		char *spec = xstrfmt("%s^{commit}", candidates[i]);
		int ok = !git_out(dir, out, "rev-parse", "-q", "--verify",
				  spec, NULL);

		free(spec);
		if (ok) {
			strbuf_trim(out);
			return strbuf_detach(out, NULL);
		}
	}
	return NULL;
}

int work_context_read(const char *dir, struct event_work_context *wc)
{
	struct strbuf out = STRBUF_INIT;
	char *base = NULL, *range = NULL;
	int ret = -1;

	event_work_context_release(wc);
	if (git_out(dir, &out, "rev-parse", "--show-toplevel", NULL) < 0)
		goto out;
	strbuf_trim(&out);
	wc->worktree_path = xstrdup(out.buf);
	if (!git_out(dir, &out, "branch", "--show-current", NULL)) {
		strbuf_trim(&out);
		if (out.len)
			wc->branch = xstrdup(out.buf);
	}
	if ((base = find_base(dir, &out))) {
		range = xstrfmt("%s...HEAD", base);
		if (!git_out(dir, &out, "diff", "--name-only", "-z",
			     "--no-renames", range, "--", NULL))
			add_names(wc, 0, &out);
	}
	if (!git_out(dir, &out, "diff", "--name-only", "-z", "--no-renames",
		     "HEAD", "--", NULL))
		add_names(wc, 1, &out);
	if (!git_out(dir, &out, "ls-files", "-z", "--others",
		     "--exclude-standard", NULL))
		add_names(wc, 1, &out);
	sort_unique(wc->changed_files, &wc->nr_changed);
	sort_unique(wc->uncommitted_files, &wc->nr_uncommitted);
	ret = 0;
out:
	free(base);
	free(range);
	strbuf_release(&out);
	return ret;
}

/* what "changed" means: every field a reader sees, in one hash */
static uint64_t context_hash(const struct event_work_context *wc)
{
	struct strbuf sb = STRBUF_INIT;
	uint64_t h;
	size_t i;

#define ADD(s) strbuf_add(&sb, (s) ? (s) : "", ((s) ? strlen(s) : 0) + 1)
	ADD(wc->session_id);
	ADD(wc->branch);
	ADD(wc->worktree_path);
	ADD(wc->intent);
	for (i = 0; i < wc->nr_changed; i++)
		ADD(wc->changed_files[i]);
	strbuf_addch(&sb, '\n');
	for (i = 0; i < wc->nr_uncommitted; i++)
		ADD(wc->uncommitted_files[i]);
#undef ADD
	h = event_line_hash(sb.buf, sb.len);
	strbuf_release(&sb);
	return h;
}

struct last_look {
	int64_t ns;		/* when it was looked at (0: never) */
	uint64_t hash;		/* of the context published last */
};

static char *state_path(const struct repo *r, const char *name)
{
	return xstrfmt("%s/work/%s", r->var_dir, name);
}

/* "<ns> <hash>\n", ours; anything else counts as never looked */
static void read_look(const char *path, struct last_look *out)
{
	struct strbuf sb = STRBUF_INIT;
	char *end;

	memset(out, 0, sizeof(*out));
	if (strbuf_read_file(&sb, path, 64) > 0) {
		long long ns = strtoll(sb.buf, &end, 10);

		if (*end == ' ') {
			out->hash = strtoull(end + 1, &end, 16);
			if (*end == '\n')
				out->ns = ns;
		}
	}
	if (!out->ns)
		out->hash = 0;
	strbuf_release(&sb);
}

static int write_look(const struct repo *r, const char *path,
		      const struct last_look *look)
{
	char *dir = xstrfmt("%s/work", r->var_dir);
	char buf[64];
	int n, ret;

	if (mkdir_p(dir, 0700) < 0) {
		ret = error_errno("cannot create '%s'", dir);
		free(dir);
		return ret;
	}
	free(dir);
	n = snprintf(buf, sizeof(buf), "%" PRId64 " %016" PRIx64 "\n",
		     look->ns, look->hash);
	return write_file_derived(path, buf, n, 0600);
}

/* at most once per interval (a clock set back counts as due) */
static int due(const struct last_look *look, int64_t now)
{
	return !look->ns || now < look->ns ||
	       now - look->ns >= WORK_CONTEXT_INTERVAL_NS;
}

int work_context_publish(struct core *c, const char *dir)
{
	struct event ev = EVENT_INIT, *list[1] = { &ev };
	struct event_work_context wc = { 0 };
	struct last_look look;
	char ts[DATE_RFC3339_LEN + 1];
	char *path = NULL;
	int64_t now = date_now_ns();
	uint64_t hash;
	int ret = 0;

	if (!c->me || !c->me->session_id || !c->me->name)
		return 0;
	path = state_path(c->repo, c->me->name);
	read_look(path, &look);
	if (!due(&look, now))
		goto out;
	if (work_context_read(dir, &wc) < 0)
		goto out;	/* not a work tree git reads: nothing to say */
	wc.session_id = xstrdup(c->me->session_id);
	wc.intent = xstrdup_or_null(c->me->intent);
	hash = context_hash(&wc);
	look.ns = now;
	if (hash == look.hash) {
		ret = write_look(c->repo, path, &look);
		goto out;
	}
	date_format_rfc3339(now, ts);
	wc.git_updated_at = xstrdup(ts);
	if (core_new_event(c, &ev, EV_AGENT_UPDATE) < 0) {
		ret = -1;
		goto out;
	}
	ev.agent_id = xstrdup(c->me->agent_id);
	ev.wcs = xmalloc(sizeof(wc));
	ev.wcs[0] = wc;
	ev.nr_wcs = 1;
	memset(&wc, 0, sizeof(wc));
	look.hash = hash;
	if (core_append(c, NULL, list, 1) < 0 ||
	    write_look(c->repo, path, &look) < 0)
		ret = -1;
	else
		ret = 1;
out:
	event_release(&ev);
	event_work_context_release(&wc);
	free(path);
	return ret;
}

/* the top of each work tree of the repository r is in */
static int list_worktrees(const struct repo *r, struct strvec *out)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p, *end;

	if (git_out(r->worktree, &sb, "worktree", "list", "--porcelain", "-z",
		    NULL) < 0) {
		strbuf_release(&sb);
		return error("cannot list the work trees of '%s'",
			     r->worktree);
	}
	for (p = sb.buf, end = sb.buf + sb.len; p < end;
	     p += strnlen(p, end - p) + 1)
		if (!strncmp(p, "worktree ", 9) && !access(p + 9, F_OK))
			strvec_push(out, p + 9);
	strbuf_release(&sb);
	return 0;
}

/* the repo of the work tree at top, enough for its identities */
static int worktree_repo(const char *top, struct repo *out)
{
	struct strbuf sb = STRBUF_INIT;

	if (git_out(top, &sb, "rev-parse", "--absolute-git-dir", NULL) < 0) {
		strbuf_release(&sb);
		return -1;
	}
	strbuf_trim(&sb);
	out->worktree = xstrdup(top);
	out->git_dir = strbuf_detach(&sb, NULL);
	out->local_thrum_dir = path_join(top, ".thrum");
	return 0;
}

/* fn on each identity with an open session of each work tree */
static int each_identity(const struct repo *r,
			 int (*fn)(const char *top, struct identity *id,
				   void *payload),
			 void *payload)
{
	struct strvec tops = STRVEC_INIT;
	size_t i, j;
	int ret = 0;

	if (list_worktrees(r, &tops) < 0)
		return -1;
	for (i = 0; i < tops.nr && ret >= 0; i++) {
		struct repo wr = REPO_INIT;
		struct strvec names = STRVEC_INIT;

		if (worktree_repo(tops.v[i], &wr) < 0)
			continue;
		identity_list(&wr, &names);
		for (j = 0; j < names.nr && ret >= 0; j++) {
			struct identity id = IDENTITY_INIT;

			if (!identity_load(&wr, names.v[j], &id) &&
			    id.session_id)
				ret = fn(tops.v[i], &id, payload);
			identity_release(&id);
		}
		strvec_clear(&names);
		repo_release(&wr);
	}
	strvec_clear(&tops);
	return ret;
}

struct publish_all {
	const struct repo *r;
	struct store *store;
	const char *origin;
	int published;
};

static int publish_one(const char *top, struct identity *id, void *payload)
{
	struct publish_all *pa = payload;
	struct core c = { 0 };
	int ret;

	c.store = pa->store;
	c.me = id;
	c.origin = pa->origin;
	c.repo = (struct repo *)pa->r;
	ret = work_context_publish(&c, top);
	if (ret > 0)
		pa->published++;
	return ret < 0 ? -1 : 0;
}

int work_context_publish_all(const struct repo *r, struct store *store,
			     const char *origin)
{
	struct publish_all pa = { r, store, origin, 0 };
	struct last_look look;
	char *stamp = state_path(r, ".daemon");
	int64_t now = date_now_ns();
	int ret;

	read_look(stamp, &look);
	if (!due(&look, now)) {
		free(stamp);
		return 0;
	}
	look.ns = now;
	ret = write_look(r, stamp, &look);
	free(stamp);
	if (ret < 0)
		return -1;
	if (each_identity(r, publish_one, &pa) < 0)
		return -1;
	return pa.published;
}

static int live_one(const char *top, struct identity *id, void *payload)
{
	struct work_list *out = payload;
	struct work_row *row = work_list_add(out);

	if (work_context_read(top, &row->wc) < 0) {
		out->nr--;
		event_work_context_release(&row->wc);
		return 0;
	}
	row->agent_id = xstrdup(id->agent_id);
	row->name = xstrdup(id->name);
	row->live = 1;
	row->ns = date_now_ns();
	row->wc.session_id = xstrdup(id->session_id);
	row->wc.intent = xstrdup_or_null(id->intent);
	return 0;
}

int work_context_live(const struct repo *r, struct work_list *out)
{
	return each_identity(r, live_one, out);
}

static int same_session(const struct work_row *a, const struct work_row *b)
{
	return !strcmp(a->agent_id, b->agent_id) &&
	       !strcmp(a->wc.session_id, b->wc.session_id);
}

static int row_cmp(const void *va, const void *vb)
{
	const struct work_row *a = va, *b = vb;
	int c = strcmp(a->name ? a->name : a->agent_id,
		       b->name ? b->name : b->agent_id);

	if (!c)
		c = strcmp(a->agent_id, b->agent_id);
	return c ? c : strcmp(a->wc.session_id, b->wc.session_id);
}

void work_list_merge_live(struct work_list *dst, struct work_list *live)
{
	size_t i, j;

	for (i = 0; i < live->nr; i++) {
		struct work_row *r = &live->items[i];

		for (j = 0; j < dst->nr; j++)
			if (same_session(&dst->items[j], r))
				break;
		if (j < dst->nr) {
			free(dst->items[j].agent_id);
			free(dst->items[j].name);
			event_work_context_release(&dst->items[j].wc);
			dst->items[j] = *r;
		} else {
			*work_list_add(dst) = *r;
		}
		memset(r, 0, sizeof(*r));
	}
	live->nr = 0;
	if (dst->nr)
		qsort(dst->items, dst->nr, sizeof(*dst->items), row_cmp);
}

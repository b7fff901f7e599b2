/*
 * git thrum fsck: check everything a user can break by accident, and say
 * the command that fixes each finding:
 *  - the sync work tree (the 4-point health check)   -> init --force
 *  - the hooks (still ours, still chained, hooksPath) -> hooks install
 *  - the log: unparseable lines (file:line), duplicate and conflicting
 *    event ids, lines out of (instant, event_id) order
 *  - the database against the log (events, messages)   -> rebuild
 * Exit 1 when something is wrong; warnings alone exit 0.
 */
#include "thrum.h"
#include <json-c/json.h>
#include "cmd.h"
#include "parse-options.h"
#include "event.h"
#include "format.h"
#include "hooks.h"
#include "projection.h"
#include "strbuf.h"
#include "synctree.h"
#include "usage.h"
#include "wrapper.h"

#define MAX_LISTED 20	/* findings of one kind printed in full */



const struct cmd_args fsck_args = {
	{ "git thrum fsck [--json]" }, cmd_json_options
};

struct finding {
	const char *check;
	int error;		/* else a warning */
	char *message;
	const char *fix;
};

struct findings {
	struct finding *v;
	size_t nr, alloc;
	int errors;
};

PRINTF_LIKE(5, 6)
static void add(struct findings *f, const char *check, int err,
		const char *fix, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xstrvfmt(fmt, ap);
	va_end(ap);
	ALLOC_GROW(f->v, f->nr + 1, f->alloc);
	f->v[f->nr].check = check;
	f->v[f->nr].error = err;
	f->v[f->nr].message = msg;
	f->v[f->nr].fix = fix;
	f->nr++;
	f->errors += err;
}

static int nl_terminated(const struct strbuf *b)
{
	return !b->len || b->buf[b->len - 1] == '\n';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct seen_id {
	char *id;
	uint64_t hash;
	const char *file;
	size_t file_nr;		/* position of the file in the log */
	size_t line;
};

struct create {
	char *message_id, *event_id;
	int own;		/* in its author's shard */
	int64_t ts;
	const char *file;
	size_t line;
};

/* by message_id, the create that counts first */
static int cmp_create(const void *a, const void *b)
{
	const struct create *x = a, *y = b;
	int c = strcmp(x->message_id, y->message_id);

	return c ? c : projection_create_cmp(x->own, x->ts, x->event_id,
					     y->own, y->ts, y->event_id);
}

static void add_create(struct create **v, size_t *nr, size_t *alloc,
		       const struct event *ev, const char *event_id,
		       const char *file, size_t line)
{
	char *shard = store_shard_of(file);
	struct create *c;

	ALLOC_GROW(*v, *nr + 1, *alloc);
	c = &(*v)[(*nr)++];
	c->message_id = xstrdup(ev->message_id);
	c->event_id = xstrdup(event_id);
	c->own = shard && !strcmp(shard, ev->agent_id);
	c->ts = ev->ts_ns;
	c->file = file;
	c->line = line;
	free(shard);
}

/*
 * Two creates of one message_id: the one that counts, and each other one
 * as a conflict (an exact copy of a line is one event, and not listed).
 */
static size_t check_creates(struct findings *f, struct create *v, size_t nr)
{
	size_t i, first = 0, conflicts = 0;

	if (nr > 1)
		qsort(v, nr, sizeof(*v), cmp_create);
	for (i = 0; i < nr; i++) {
		if (!i || strcmp(v[i].message_id, v[first].message_id)) {
			first = i;
		} else if (strcmp(v[i].event_id, v[first].event_id) &&
			   (!i || strcmp(v[i].event_id, v[i - 1].event_id))) {
			conflicts++;
			add(f, "log", 0, NULL, "%s: created again at %s:%zu (a "
			    "conflict; the create at %s:%zu counts)",
			    v[i].message_id, v[i].file, v[i].line,
			    v[first].file, v[first].line);
		}
	}
	for (i = 0; i < nr; i++) {
		free(v[i].message_id);
		free(v[i].event_id);
	}
	free(v);
	return conflicts;
}

/* by id, then where the line stands in the log */
static int cmp_seen(const void *a, const void *b)
{
	const struct seen_id *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	if (x->file_nr != y->file_nr)
		return x->file_nr < y->file_nr ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static void check_log(struct thrum_ctx *ctx, struct findings *f,
		      long *events, long *messages)
{
	struct strvec files = STRVEC_INIT, msg_ids = STRVEC_INIT;
	struct seen_id *ids = NULL;
	struct create *creates = NULL;
	size_t nr_creates = 0, alloc_creates = 0;
	size_t nr = 0, alloc = 0, i, first, listed = 0, dups = 0;
	size_t conflicts = 0;
	size_t skipped = 0, unordered = 0;

	store_list_projected(&ctx->store, &files);
	*messages = 0;
	for (i = 0; i < files.nr; i++) {
		char *path = store_abs_path(&ctx->store, files.v[i]);
		struct strbuf buf = STRBUF_INIT;
		const char *p, *end;
		int64_t prev_ts = INT64_MIN;
		char *prev_id = NULL;
		size_t line = 0;

		if (strbuf_read_file(&buf, path, 0) < 0) {
			add(f, "log", 1, NULL, "cannot read '%s': %s",
			    files.v[i], strerror(errno));
			free(path);
			continue;
		}
		for (p = buf.buf, end = p + buf.len; p < end; ) {
			const char *nl = memchr(p, '\n', end - p);
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			struct event ev = EVENT_INIT;
			const char *why = NULL;

			line++;
			if (!n) {
				p += 1;
				continue;
			}
			if (event_parse(&ev, p, n, 0, &why) < 0) {
				skipped++;
				if (listed++ < MAX_LISTED)
					add(f, "log", 0, NULL, "%s:%zu: skipped "
					    "line (%s)", files.v[i], line, why);
			} else {
				if (prev_id && event_order_cmp(ev.ts_ns,
						ev.event_id, prev_ts,
						prev_id) < 0)
					unordered++;
				free(prev_id);
				prev_id = xstrdup(ev.event_id);
				prev_ts = ev.ts_ns;
				ALLOC_GROW(ids, nr + 1, alloc);
				ids[nr].id = ev.event_id;
				ev.event_id = NULL;
				ids[nr].hash = event_line_hash(p, n);
				ids[nr].file = files.v[i];
				ids[nr].file_nr = i;
				ids[nr].line = line;
				nr++;
				if (ev.type == EV_MESSAGE_CREATE) {
					strvec_push(&msg_ids, ev.message_id);
					add_create(&creates, &nr_creates,
						   &alloc_creates, &ev,
						   ids[nr - 1].id, files.v[i],
						   line);
				}
			}
			event_release(&ev);
			p += n + 1;
		}
		if (!nl_terminated(&buf))
			add(f, "log", 0, NULL, "%s: the last line has no "
			    "newline (a torn write)", files.v[i]);
		free(prev_id);
		strbuf_release(&buf);
		free(path);
	}
	if (nr > 1)
		qsort(ids, nr, sizeof(*ids), cmp_seen);
	*events = 0;
	for (i = 0, first = 0; i < nr; i++) {
		if (!i || strcmp(ids[i].id, ids[first].id)) {
			first = i;
			(*events)++;
		} else if (ids[i].hash == ids[first].hash) {
			dups++;
		} else {
			conflicts++;
			add(f, "log", 0, NULL, "%s: two different lines, "
			    "%s:%zu and %s:%zu (the first one seen counts)",
			    ids[i].id, ids[first].file, ids[first].line,
			    ids[i].file, ids[i].line);
		}
	}
	conflicts += check_creates(f, creates, nr_creates);
	if (skipped)
		add(f, "log", 0, NULL, "%zu unparseable line%s kept in the log "
		    "and never shown", skipped, skipped == 1 ? "" : "s");
	if (dups)
		add(f, "log", 0, NULL, "%zu duplicate line%s (same event "
		    "twice)", dups, dups == 1 ? "" : "s");
	if (unordered)
		add(f, "log", 0, NULL, "%zu line%s out of (instant, event_id) "
		    "order; harmless", unordered, unordered == 1 ? "" : "s");
	if (msg_ids.nr > 1)
		qsort(msg_ids.v, msg_ids.nr, sizeof(char *), cmp_str);
	for (i = 0; i < msg_ids.nr; i++)
		if (!i || strcmp(msg_ids.v[i], msg_ids.v[i - 1]))
			(*messages)++;
	for (i = 0; i < nr; i++)
		free(ids[i].id);
	free(ids);
	strvec_clear(&files);
	strvec_clear(&msg_ids);
	(void)conflicts;
}

struct sig_listing {
	struct findings *f;
	size_t listed;
};

static void add_sig_problem(const struct sig_problem *pb, void *payload)
{
	struct sig_listing *l = payload;

	if (l->listed++ >= MAX_LISTED)
		return;
	if (pb->key_conflict)
		add(l->f, "signatures", 0, NULL, "%s: %s of '%s' names another "
		    "key without the signature of its key (a key conflict)",
		    pb->event_id, pb->type, pb->agent_id);
	else
		add(l->f, "signatures", 0, NULL, "%s: %s as '%s' does not "
		    "count (%s)", pb->event_id, pb->type, pb->agent_id,
		    pb->why);
}

/* events whose signature is bad or not by the key of their name */
static void check_signatures(struct thrum_ctx *ctx, struct findings *f)
{
	struct sig_listing l = { f, 0 };
	int n = projection_sig_problems(ctx->proj, NULL, add_sig_problem, &l);

	if (n < 0)
		add(f, "database", 1, "git thrum rebuild",
		    "cannot read the signatures");
	else if (n)
		add(f, "signatures", 0, NULL, "%d event%s kept in the log that "
		    "%s not count (see Documentation/security.adoc)", n,
		    n == 1 ? "" : "s", n == 1 ? "does" : "do");
}

static void print(const struct findings *f, int as_json)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (as_json) {
		json_object *o = json_object_new_object();
		json_object *arr = json_object_new_array();

		for (i = 0; i < f->nr; i++) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "check",
				json_object_new_string(f->v[i].check));
			json_object_object_add(e, "severity",
				json_object_new_string(f->v[i].error ? "error"
								     : "warning"));
			json_object_object_add(e, "message",
				json_object_new_string(f->v[i].message));
			json_object_object_add(e, "fix", f->v[i].fix ?
				json_object_new_string(f->v[i].fix) : NULL);
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, "ok",
				       json_object_new_boolean(!f->errors));
		json_object_object_add(o, "findings", arr);
		format_json(o, stdout);
		return;
	}
	for (i = 0; i < f->nr; i++) {
		printf("%s: %s: %s\n", f->v[i].error ? "error" : "warning",
		       f->v[i].check, format_safe(&sb, f->v[i].message));
		if (f->v[i].fix)
			printf("  fix: %s\n", f->v[i].fix);
	}
	if (!f->errors)
		printf("ok: no errors%s\n", f->nr ? " (see the warnings)" : "");
	strbuf_release(&sb);
}

int cmd_fsck(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct findings f = { NULL, 0, 0, 0 };
	struct strbuf why = STRBUF_INIT, hooks = STRBUF_INIT;
	struct projection_counts counts;
	long events = 0, messages = 0;
	size_t i;

	if (!repo_is_initialised(&ctx->repo))
		die("thrum is not initialised in '%s'; run 'git thrum init'",
		    ctx->repo.worktree);
	if (synctree_health(&ctx->repo, &why)) {
		add(&f, "sync work tree", 1, "git thrum init --force", "%s",
		    why.buf);
		print(&f, cmd_json);
		goto out;
	}
	if (hooks_status(&ctx->repo, &ctx->cfg, &hooks) > 0) {
		const char *p = hooks.buf;

		while (*p) {
			size_t n = strcspn(p, "\n");

			if (!memmem(p, n, ": installed", 11) &&
			    !memmem(p, n, "not wanted", 10))
				add(&f, "hooks", 1, "git thrum hooks install",
				    "%.*s", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	ctx_need_projection(ctx);
	check_log(ctx, &f, &events, &messages);
	check_signatures(ctx, &f);
	if (projection_counts(ctx->proj, &counts) < 0) {
		add(&f, "database", 1, "git thrum rebuild",
		    "cannot read the database");
	} else {
		if (counts.events != events)
			add(&f, "database", 1, "git thrum rebuild",
			    "%ld events in the database, %ld in the log",
			    counts.events, events);
		/* the messages a cleanup or purge set aside are there too */
		if (counts.messages + counts.removed != messages)
			add(&f, "database", 1, "git thrum rebuild",
			    "%ld messages in the database, %ld in the log",
			    counts.messages + counts.removed, messages);
	}
	print(&f, cmd_json);
out:
	for (i = 0; i < f.nr; i++)
		free(f.v[i].message);
	free(f.v);
	strbuf_release(&why);
	strbuf_release(&hooks);
	return f.errors ? 1 : 0;
}

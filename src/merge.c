/*
 * merge.c: the conflict-free union of two versions of a log file.  Pure:
 * no I/O, no libgit2, no SQLite, so that its properties (symmetry,
 * idempotence, convergence) are checked directly by unit tests.
 *
 * A version is a sequence of non-blank lines (blank lines carry nothing
 * and are dropped).  Both versions share a prefix (the
 * history both sides had when they last exchanged); after it each side
 * has lines the other may lack.  The result keeps the prefix as it is and
 * follows it with every distinct remainder line that the prefix does not
 * already hold: events sorted by (instant, event_id, bytes), then lines
 * that are not events sorted by bytes.  Two lines are the same line when
 * their bytes are; an event_id on two different lines is a conflict, and
 * both lines are kept (the projection decides which one counts).
 */
#include "thrum.h"
#include "merge.h"
#include "event.h"
#include "strbuf.h"
#include "wrapper.h"

struct mline {
	const char *p;
	size_t len;		/* without the newline */
	uint64_t hash;
	int valid;		/* parses as an event */
	int64_t ts;
	char *id;		/* event_id when valid */
	int from_remote;
	int from_local;
};

struct lines {
	struct mline *v;
	size_t nr, alloc;
};

static void split(const char *buf, size_t len, struct lines *out)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		/* blank lines carry nothing: the merge never sees them */
		if (!n) {
			p++;
			continue;
		}
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		memset(&out->v[out->nr], 0, sizeof(out->v[0]));
		out->v[out->nr].p = p;
		out->v[out->nr].len = n;
		out->nr++;
		p += n + 1;
	}
}

/*
 * The prefix lines, by hash (open addressing; slots hold index + 1), so
 * "does the prefix hold this line" costs one probe and one memcmp.
 */
struct hset {
	size_t *slot;
	size_t mask;
	const struct lines *lines;
};

static void hset_init(struct hset *h, const struct lines *lines, size_t n)
{
	size_t cap = 16, i, j;

	while (cap < n * 2 + 1)
		cap <<= 1;
	h->slot = xcalloc(cap, sizeof(*h->slot));
	h->mask = cap - 1;
	h->lines = lines;
	for (i = 0; i < n; i++) {
		for (j = lines->v[i].hash & h->mask; h->slot[j];
		     j = (j + 1) & h->mask)
			;
		h->slot[j] = i + 1;
	}
}

static int hset_has(const struct hset *h, const struct mline *l)
{
	size_t j;

	for (j = l->hash & h->mask; h->slot[j]; j = (j + 1) & h->mask) {
		const struct mline *p = &h->lines->v[h->slot[j] - 1];

		if (p->hash == l->hash && p->len == l->len &&
		    !memcmp(p->p, l->p, l->len))
			return 1;
	}
	return 0;
}

int merge_has_lines(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != '\n')
			return 1;
	return 0;
}

static int cmp_bytes(const struct mline *a, const struct mline *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->p, b->p, n);

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* events first by (instant, id, bytes); then the rest by bytes */
static int cmp_order(const void *x, const void *y)
{
	const struct mline *a = x, *b = y;
	int c;

	if (a->valid != b->valid)
		return a->valid ? -1 : 1;
	if (a->valid) {
		c = event_order_cmp(a->ts, a->id, b->ts, b->id);
		if (c)
			return c;
	}
	return cmp_bytes(a, b);
}

static void classify(struct mline *l)
{
	struct event ev = EVENT_INIT;

	l->hash = event_line_hash(l->p, l->len);
	if (event_parse(&ev, l->p, l->len, 0, NULL) < 0)
		return;
	l->valid = 1;
	l->ts = ev.ts_ns;
	l->id = ev.event_id;
	ev.event_id = NULL;
	event_release(&ev);
}

int merge_is_remote(const char *remote, size_t rlen, size_t max_line,
		    struct merge_stats *stats)
{
	const char *p = remote, *end = remote + rlen;
	struct merge_stats st = { 0 };

	if (!rlen || remote[rlen - 1] != '\n')
		return 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		struct mline l = { 0 };

		l.p = p;
		l.len = nl - p;
		if (!l.len || l.len > max_line)
			return 0;
		st.added++;
		p = nl + 1;
	}
	*stats = st;
	return 1;
}

int merge_file(const char *local, size_t llen, const char *remote,
	       size_t rlen, size_t max_line, struct strbuf *out,
	       struct strbuf *new_lines, struct merge_stats *stats)
{
	struct lines a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	struct lines cand = { NULL, 0, 0 };
	struct merge_stats dummy;
	struct hset prefix;
	const char *prev_id = NULL;
	size_t k = 0, i, j;

	if (!stats)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	if (!merge_has_lines(local, llen) || !merge_has_lines(remote, rlen)) {
		/*
		 * nothing to interleave: one side is taken as it is, line by
		 * line, without an array of lines (a file of tiny lines
		 * would cost many times its size)
		 */
		int remote_side = !merge_has_lines(local, llen);
		const char *p = remote_side ? remote : local;
		const char *end = p + (remote_side ? rlen : llen);

		while (p < end) {
			const char *nl = memchr(p, '\n', end - p);
			struct mline l = { 0 };

			l.p = p;
			l.len = nl ? (size_t)(nl - p) : (size_t)(end - p);
			p += l.len + 1;
			if (!l.len)
				continue;
			if (remote_side && l.len > max_line) {
				stats->skipped++;
				stats->dropped++;
				continue;
			}
			strbuf_add(out, l.p, l.len);
			strbuf_addch(out, '\n');
			if (remote_side) {
				stats->added++;
				if (new_lines) {
					strbuf_add(new_lines, l.p, l.len);
					strbuf_addch(new_lines, '\n');
				}
			}
		}
		return 0;
	}
	split(local, llen, &a);
	split(remote, rlen, &b);
	while (k < a.nr && k < b.nr && a.v[k].len == b.v[k].len &&
	       !memcmp(a.v[k].p, b.v[k].p, a.v[k].len))
		k++;

	for (i = 0; i < k; i++) {
		a.v[i].hash = event_line_hash(a.v[i].p, a.v[i].len);
		strbuf_add(out, a.v[i].p, a.v[i].len);
		strbuf_addch(out, '\n');
	}
	hset_init(&prefix, &a, k);

	for (i = k; i < a.nr + b.nr - k; i++) {
		int remote_side = i >= a.nr;
		struct mline l = remote_side ? b.v[i - a.nr + k] : a.v[i];

		if (!l.len)
			continue;	/* blank lines carry nothing */
		if (remote_side && l.len > max_line) {
			stats->skipped++;
			stats->dropped++;
			continue;
		}
		l.hash = event_line_hash(l.p, l.len);
		if (hset_has(&prefix, &l))
			continue;
		l.from_remote = remote_side;
		l.from_local = !remote_side;
		ALLOC_GROW(cand.v, cand.nr + 1, cand.alloc);
		cand.v[cand.nr++] = l;
	}
	for (i = 0; i < cand.nr; i++)
		classify(&cand.v[i]);
	if (cand.nr > 1)
		qsort(cand.v, cand.nr, sizeof(*cand.v), cmp_order);

	for (i = 0; i < cand.nr; i = j + 1) {
		struct mline *l = &cand.v[i];

		/* one copy of a line, whichever sides hold it */
		j = i;
		while (j + 1 < cand.nr && !cmp_bytes(l, &cand.v[j + 1])) {
			j++;
			l->from_local |= cand.v[j].from_local;
			l->from_remote |= cand.v[j].from_remote;
		}
		if (l->valid) {
			if (prev_id && !strcmp(prev_id, l->id))
				stats->conflicts++;
			prev_id = l->id;
		}
		strbuf_add(out, l->p, l->len);
		strbuf_addch(out, '\n');
		if (l->from_remote && !l->from_local) {
			stats->added++;
			if (!l->valid)
				stats->skipped++;
			if (new_lines) {
				strbuf_add(new_lines, l->p, l->len);
				strbuf_addch(new_lines, '\n');
			}
		}
	}
	for (i = 0; i < cand.nr; i++)
		free(cand.v[i].id);
	free(cand.v);
	free(prefix.slot);
	free(a.v);
	free(b.v);
	return 0;
}

struct log_change *log_changes_add(struct log_changes *c, const char *path)
{
	struct log_change *e;

	ALLOC_GROW(c->v, c->nr + 1, c->alloc);
	e = &c->v[c->nr++];
	memset(e, 0, sizeof(*e));
	e->path = xstrdup(path);
	return e;
}

void log_changes_release(struct log_changes *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++) {
		free(c->v[i].path);
		free(c->v[i].spans);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

void log_change_add_span(struct log_change *c, uint64_t off, uint64_t len)
{
	struct log_span *last = c->nr ? &c->spans[c->nr - 1] : NULL;

	if (last && last->off + last->len == off) {
		last->len += len;
		return;
	}
	ALLOC_GROW(c->spans, c->nr + 1, c->alloc);
	c->spans[c->nr].off = off;
	c->spans[c->nr].len = len;
	c->nr++;
}

/* the length of the line at p, its newline included (or up to end) */
static size_t line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', end - p);

	return nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
}

void merge_new_spans(const char *before, size_t blen, const char *after,
		     size_t alen, struct log_change *c)
{
	struct lines old = { NULL, 0, 0 };
	struct hset had;
	const char *p = after, *end = after + alen;
	size_t i;

	split(before, blen, &old);
	for (i = 0; i < old.nr; i++)
		old.v[i].hash = event_line_hash(old.v[i].p, old.v[i].len);
	hset_init(&had, &old, old.nr);
	while (p < end) {
		size_t n = line_len(p, end);
		struct mline l = { 0 };

		l.p = p;
		l.len = n && p[n - 1] == '\n' ? n - 1 : n;
		l.hash = event_line_hash(l.p, l.len);
		if (l.len && !hset_has(&had, &l))
			log_change_add_span(c, p - after, n);
		p += n;
	}
	free(had.slot);
	free(old.v);
}

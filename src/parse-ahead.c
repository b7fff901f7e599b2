/*
 * parse-ahead.c: producer threads (one a core) that hash, parse and
 * verify the lines of the buffers a caller adds, in order, into a ring
 * of batches, and the consumer's side that takes them back in order.
 * A producer takes the next free batch and cuts its lines from the
 * first buffer not cut yet under the mutex, then parses them alone: a
 * batch is its producer's until it is marked full, then the consumer's
 * until it is given back.  A batch holds the lines of one buffer only,
 * and the last batch of a buffer says so, so that the consumer knows
 * where each buffer ends while the producers go on with the next one.
 * The threads read the buffers and write only the batches they took.
 * Nothing here prints; an allocation failure dies as everywhere.
 */
#include "thrum.h"
#include "parse-ahead.h"
#include "event.h"
#include "wrapper.h"

#include <pthread.h>

/*
 * 2 048 events in flight at most (a few MiB); batches this large hand
 * over a few times per log segment, so that a loaded machine, where
 * every wake-up waits for a core, costs few waits
 */
#define BATCH_LINES 256
#define BATCHES 8
/*
 * Verifying a signature costs more than parsing and applying its line
 * together: more than one thread parses (each its own batches, taken in
 * turn), so that every core verifies while the caller applies.
 */
#define MAX_PRODUCERS 4
/*
 * A small buffer (the new lines of one file in a catch-up) is cut into
 * batches of about 1/(2 x producers) of it, so that every producer gets
 * some; never below this many bytes
 */
#define MIN_BATCH_BYTES 2048

enum batch_state { B_FREE, B_FILLING, B_FULL };

struct batch {
	struct parsed_line v[BATCH_LINES];
	size_t nr;
	int last;		/* the last batch of its buffer */
	enum batch_state state;
};

/* one buffer added: a range of bytes, or the lines given */
struct segment {
	const char *pos, *end;	/* where its next batch's lines start */
	const struct line_span *span, *span_end;
	size_t batch_bytes;	/* a batch ends after this many bytes */
};

struct parse_ahead {
	struct segment *seg;	/* every buffer added, in order */
	size_t seg_nr, seg_alloc;
	size_t cut;		/* the segment the next batch comes from */
	size_t done;		/* the consumer's: segments it finished */
	int want;		/* producers wanted */
	pthread_t thread[MAX_PRODUCERS];
	int threads;
	pthread_mutex_t lock;
	pthread_cond_t filled, freed;
	int stop;		/* the consumer is finishing */
	size_t w, r;		/* the next batch to take, the consumer's */
	size_t i;		/* the consumer's next line in batch r */
	int holding;		/* the consumer holds batch r */
	struct batch b[BATCHES];
};

/*
 * cut the next lines of the segment being cut into b (quick: no
 * parsing); the segment's last batch, even an empty one, moves the
 * cursor on to the next segment
 */
static void cut_batch(struct parse_ahead *pa, struct batch *b)
{
	struct segment *sg = &pa->seg[pa->cut];
	const char *start = sg->pos;
	size_t bytes = 0;

	b->nr = 0;
	if (sg->span) {
		while (b->nr < BATCH_LINES && sg->span < sg->span_end &&
		       bytes < sg->batch_bytes) {
			struct parsed_line *pl = &b->v[b->nr++];

			pl->line = sg->span->line;
			pl->len = sg->span->len;
			bytes += pl->len + 1;
			sg->span++;
		}
		b->last = sg->span >= sg->span_end;
	} else {
		while (b->nr < BATCH_LINES && sg->pos < sg->end &&
		       (size_t)(sg->pos - start) < sg->batch_bytes) {
			const char *line = sg->pos;
			const char *nl = memchr(line, '\n', sg->end - line);
			size_t n = (nl ? nl : sg->end) - line;
			struct parsed_line *pl;

			sg->pos = nl ? nl + 1 : sg->end;
			if (!n || (n == 1 && line[0] == '\r'))
				continue;
			pl = &b->v[b->nr++];
			pl->line = line;
			pl->len = n;
		}
		b->last = sg->pos >= sg->end;
	}
	if (b->last)
		pa->cut++;
}

/* hash, parse and verify the lines of b */
static void parse_batch(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->nr; i++) {
		struct parsed_line *pl = &b->v[i];

		pl->hash = event_line_hash(pl->line, pl->len);
		pl->why = NULL;
		pl->rc = event_parse(&pl->ev, pl->line, pl->len,
				     EVENT_PARSE_VERIFY, &pl->why);
	}
}

static void *producer(void *arg)
{
	struct parse_ahead *pa = arg;

	pthread_mutex_lock(&pa->lock);
	for (;;) {
		struct batch *b;

		/* a free batch and a buffer to cut it from */
		while (!pa->stop && (pa->cut >= pa->seg_nr ||
				     pa->b[pa->w % BATCHES].state != B_FREE))
			pthread_cond_wait(&pa->freed, &pa->lock);
		if (pa->stop)
			break;
		b = &pa->b[pa->w++ % BATCHES];
		b->state = B_FILLING;
		cut_batch(pa, b);
		pthread_mutex_unlock(&pa->lock);

		parse_batch(b);

		pthread_mutex_lock(&pa->lock);
		b->state = B_FULL;
		pthread_cond_broadcast(&pa->filled);
	}
	pthread_mutex_unlock(&pa->lock);
	return NULL;
}

static int producers_wanted(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > MAX_PRODUCERS ? MAX_PRODUCERS : (int)n;
}

struct parse_ahead *parse_ahead_open(void)
{
	/* not calloc: the ring is most of a MiB, each line set when cut */
	struct parse_ahead *pa = xmalloc(sizeof(*pa));
	size_t i;

	memset(pa, 0, offsetof(struct parse_ahead, b));
	for (i = 0; i < BATCHES; i++) {
		pa->b[i].nr = 0;
		pa->b[i].last = 0;
		pa->b[i].state = B_FREE;
	}
	pa->want = producers_wanted();
	if (pthread_mutex_init(&pa->lock, NULL))
		return pa;
	if (pthread_cond_init(&pa->filled, NULL))
		goto no_filled;
	if (pthread_cond_init(&pa->freed, NULL))
		goto no_freed;
	while (pa->threads < pa->want &&
	       !pthread_create(&pa->thread[pa->threads], NULL, producer, pa))
		pa->threads++;
	if (pa->threads)
		return pa;
	pthread_cond_destroy(&pa->freed);
no_freed:
	pthread_cond_destroy(&pa->filled);
no_filled:
	pthread_mutex_destroy(&pa->lock);
	return pa;
}

static void add_segment(struct parse_ahead *pa, const struct segment *sg)
{
	if (pa->threads)
		pthread_mutex_lock(&pa->lock);
	ALLOC_GROW(pa->seg, pa->seg_nr + 1, pa->seg_alloc);
	pa->seg[pa->seg_nr++] = *sg;
	if (pa->threads) {
		pthread_cond_broadcast(&pa->freed);
		pthread_mutex_unlock(&pa->lock);
	}
}

static size_t batch_bytes(const struct parse_ahead *pa, size_t len)
{
	size_t n = len / (2 * pa->want);

	return n < MIN_BATCH_BYTES ? MIN_BATCH_BYTES : n;
}

void parse_ahead_add(struct parse_ahead *pa, const char *buf, size_t len)
{
	struct segment sg = { 0 };

	sg.pos = buf;
	sg.end = buf + len;
	sg.batch_bytes = batch_bytes(pa, len);
	add_segment(pa, &sg);
}

void parse_ahead_add_lines(struct parse_ahead *pa, const struct line_span *v,
			   size_t nr, size_t bytes)
{
	/* (an empty range: its one batch, empty, ends the segment) */
	static const struct line_span none;
	struct segment sg = { 0 };

	sg.span = nr ? v : &none;
	sg.span_end = nr ? v + nr : &none;
	sg.batch_bytes = batch_bytes(pa, bytes);
	add_segment(pa, &sg);
}

struct parse_ahead *parse_ahead_start(const char *buf, size_t len)
{
	struct parse_ahead *pa = parse_ahead_open();

	parse_ahead_add(pa, buf ? buf : "", buf ? len : 0);
	return pa;
}

struct parse_ahead *parse_ahead_start_lines(const struct line_span *v,
					    size_t nr, size_t bytes)
{
	struct parse_ahead *pa = parse_ahead_open();

	parse_ahead_add_lines(pa, v, nr, bytes);
	return pa;
}

static void release_batch(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->nr; i++)
		event_release(&b->v[i].ev);
	b->nr = 0;
}

struct parsed_line *parse_ahead_next(struct parse_ahead *pa)
{
	for (;;) {
		struct batch *b = &pa->b[pa->r % BATCHES];

		if (pa->holding) {
			int last = b->last;

			if (pa->i < b->nr)
				return &b->v[pa->i++];
			pa->holding = 0;
			pa->i = 0;
			pa->r++;
			release_batch(b);
			if (pa->threads) {
				pthread_mutex_lock(&pa->lock);
				b->state = B_FREE;
				pthread_cond_broadcast(&pa->freed);
				pthread_mutex_unlock(&pa->lock);
			}
			if (last) {
				pa->done++;
				return NULL;
			}
			continue;
		}
		/* every buffer added is done: nothing will come */
		if (pa->done >= pa->seg_nr)
			return NULL;
		if (!pa->threads) {
			cut_batch(pa, b);
			parse_batch(b);
		} else {
			pthread_mutex_lock(&pa->lock);
			while (b->state != B_FULL)
				pthread_cond_wait(&pa->filled, &pa->lock);
			pthread_mutex_unlock(&pa->lock);
		}
		pa->holding = 1;
	}
}

void parse_ahead_finish(struct parse_ahead *pa)
{
	size_t i;

	if (!pa)
		return;
	if (pa->threads) {
		int t;

		pthread_mutex_lock(&pa->lock);
		pa->stop = 1;
		pthread_cond_broadcast(&pa->freed);
		pthread_mutex_unlock(&pa->lock);
		for (t = 0; t < pa->threads; t++)
			pthread_join(pa->thread[t], NULL);
		pthread_cond_destroy(&pa->freed);
		pthread_cond_destroy(&pa->filled);
		pthread_mutex_destroy(&pa->lock);
	}
	/* every batch is ours now: what was parsed and not taken goes */
	for (i = 0; i < BATCHES; i++)
		release_batch(&pa->b[i]);
	free(pa->seg);
	free(pa);
}

/*
 * parse-ahead.c: producer threads (one a core) that hash, parse and
 * verify the lines of one buffer into a ring of batches, and the
 * consumer's side that takes them back in order.  A producer takes the
 * next free batch and cuts its lines under the mutex, then parses them
 * alone: a batch is its producer's until it is marked full, then the
 * consumer's until it is given back.  The threads read the buffer and
 * write only the batches they took.
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
	int last;		/* no line after this batch */
	enum batch_state state;
};

struct parse_ahead {
	const char *pos, *end;	/* where the next batch's lines start */
	const struct line_span *span, *span_end;	/* or the lines given */
	size_t batch_bytes;	/* a batch ends after this many bytes */
	pthread_t thread[MAX_PRODUCERS];
	int threads;
	pthread_mutex_t lock;
	pthread_cond_t filled, freed;
	int claimed_last;	/* the batch with the last line is taken */
	int stop;		/* the consumer is finishing */
	size_t w, r;		/* the next batch to take, the consumer's */
	size_t i;		/* the consumer's next line in batch r */
	int holding;		/* the consumer holds batch r */
	struct batch b[BATCHES];
};

/* cut the next lines from the cursor into b (quick: no parsing) */
static void cut_batch(struct parse_ahead *pa, struct batch *b)
{
	const char *start = pa->pos;
	size_t bytes = 0;

	b->nr = 0;
	if (pa->span) {
		while (b->nr < BATCH_LINES && pa->span < pa->span_end &&
		       bytes < pa->batch_bytes) {
			struct parsed_line *pl = &b->v[b->nr++];

			pl->line = pa->span->line;
			pl->len = pa->span->len;
			bytes += pl->len + 1;
			pa->span++;
		}
		b->last = pa->span >= pa->span_end;
		return;
	}
	while (b->nr < BATCH_LINES && pa->pos < pa->end &&
	       (size_t)(pa->pos - start) < pa->batch_bytes) {
		const char *line = pa->pos;
		const char *nl = memchr(line, '\n', pa->end - line);
		size_t n = (nl ? nl : pa->end) - line;
		struct parsed_line *pl;

		pa->pos = nl ? nl + 1 : pa->end;
		if (!n || (n == 1 && line[0] == '\r'))
			continue;
		pl = &b->v[b->nr++];
		pl->line = line;
		pl->len = n;
	}
	b->last = pa->pos >= pa->end;
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

	for (;;) {
		struct batch *b;

		pthread_mutex_lock(&pa->lock);
		while (!pa->stop && !pa->claimed_last &&
		       pa->b[pa->w % BATCHES].state != B_FREE)
			pthread_cond_wait(&pa->freed, &pa->lock);
		if (pa->stop || pa->claimed_last) {
			pthread_mutex_unlock(&pa->lock);
			break;
		}
		b = &pa->b[pa->w++ % BATCHES];
		b->state = B_FILLING;
		cut_batch(pa, b);
		pa->claimed_last = b->last;
		pthread_mutex_unlock(&pa->lock);

		parse_batch(b);

		pthread_mutex_lock(&pa->lock);
		b->state = B_FULL;
		pthread_cond_broadcast(&pa->filled);
		pthread_mutex_unlock(&pa->lock);
	}
	return NULL;
}

static int producers_wanted(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > MAX_PRODUCERS ? MAX_PRODUCERS : (int)n;
}

static struct parse_ahead *start(const char *buf, size_t len,
				 const struct line_span *v, size_t nr)
{
	/* not calloc: the ring is most of a MiB, each line set when cut */
	struct parse_ahead *pa = xmalloc(sizeof(*pa));
	int want = producers_wanted();
	size_t i;

	memset(pa, 0, offsetof(struct parse_ahead, b));
	for (i = 0; i < BATCHES; i++) {
		pa->b[i].nr = 0;
		pa->b[i].last = 0;
		pa->b[i].state = B_FREE;
	}

	pa->pos = buf;
	pa->end = buf ? buf + len : NULL;
	pa->span = v;
	pa->span_end = v + nr;
	pa->batch_bytes = len / (2 * want);
	if (pa->batch_bytes < MIN_BATCH_BYTES)
		pa->batch_bytes = MIN_BATCH_BYTES;
	if (pthread_mutex_init(&pa->lock, NULL))
		return pa;
	if (pthread_cond_init(&pa->filled, NULL))
		goto no_filled;
	if (pthread_cond_init(&pa->freed, NULL))
		goto no_freed;
	while (pa->threads < want &&
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

struct parse_ahead *parse_ahead_start(const char *buf, size_t len)
{
	return start(buf, len, NULL, 0);
}

struct parse_ahead *parse_ahead_start_lines(const struct line_span *v,
					    size_t nr, size_t bytes)
{
	return start(NULL, bytes, v, nr);
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
			if (pa->i < b->nr)
				return &b->v[pa->i++];
			if (b->last)
				return NULL;
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
			continue;
		}
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
	free(pa);
}

/*
 * parse-ahead.c: a producer thread that hashes and parses the lines of
 * one buffer into a ring of batches, and the consumer's side that takes
 * them back in order.  The thread touches only the buffer (read-only)
 * and the batches it owns: a batch is the producer's until it is marked
 * full, then the consumer's until it is given back, under one mutex.
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

struct batch {
	struct parsed_line v[BATCH_LINES];
	size_t nr;
	int last;		/* no line after this batch */
};

struct parse_ahead {
	const char *pos, *end;	/* the producer's cursor */
	pthread_t thread;
	int threaded;
	pthread_mutex_t lock;
	pthread_cond_t filled, freed;
	int full;		/* batches filled, not yet given back */
	int stop;		/* the consumer is finishing */
	size_t w, r;		/* the producer's batch, the consumer's */
	size_t i;		/* the consumer's next line in batch r */
	int holding;		/* the consumer holds batch r */
	struct batch b[BATCHES];
};

/* fill b with the next lines from the cursor */
static void fill_batch(struct parse_ahead *pa, struct batch *b)
{
	b->nr = 0;
	while (b->nr < BATCH_LINES && pa->pos < pa->end) {
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
		pl->hash = event_line_hash(line, n);
		pl->why = NULL;
		pl->rc = event_parse(&pl->ev, line, n, EVENT_PARSE_VERIFY,
				     &pl->why);
	}
	b->last = pa->pos >= pa->end;
}

static void *producer(void *arg)
{
	struct parse_ahead *pa = arg;
	int last = 0;

	while (!last) {
		struct batch *b = &pa->b[pa->w % BATCHES];

		pthread_mutex_lock(&pa->lock);
		while (pa->full == BATCHES && !pa->stop)
			pthread_cond_wait(&pa->freed, &pa->lock);
		last = pa->stop;
		pthread_mutex_unlock(&pa->lock);
		if (last)
			break;
		fill_batch(pa, b);
		last = b->last;
		pthread_mutex_lock(&pa->lock);
		pa->full++;
		pa->w++;
		pthread_cond_signal(&pa->filled);
		pthread_mutex_unlock(&pa->lock);
	}
	return NULL;
}

struct parse_ahead *parse_ahead_start(const char *buf, size_t len)
{
	struct parse_ahead *pa = xcalloc(1, sizeof(*pa));

	pa->pos = buf;
	pa->end = buf + len;
	if (pthread_mutex_init(&pa->lock, NULL))
		return pa;
	if (pthread_cond_init(&pa->filled, NULL))
		goto no_filled;
	if (pthread_cond_init(&pa->freed, NULL))
		goto no_freed;
	if (!pthread_create(&pa->thread, NULL, producer, pa)) {
		pa->threaded = 1;
		return pa;
	}
	pthread_cond_destroy(&pa->freed);
no_freed:
	pthread_cond_destroy(&pa->filled);
no_filled:
	pthread_mutex_destroy(&pa->lock);
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
			if (pa->i < b->nr)
				return &b->v[pa->i++];
			if (b->last)
				return NULL;
			release_batch(b);
			pa->holding = 0;
			pa->i = 0;
			pa->r++;
			if (pa->threaded) {
				pthread_mutex_lock(&pa->lock);
				pa->full--;
				pthread_cond_signal(&pa->freed);
				pthread_mutex_unlock(&pa->lock);
			}
			continue;
		}
		if (!pa->threaded) {
			fill_batch(pa, b);
		} else {
			pthread_mutex_lock(&pa->lock);
			while (!pa->full)
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
	if (pa->threaded) {
		pthread_mutex_lock(&pa->lock);
		pa->stop = 1;
		pthread_cond_signal(&pa->freed);
		pthread_mutex_unlock(&pa->lock);
		pthread_join(pa->thread, NULL);
		pthread_cond_destroy(&pa->freed);
		pthread_cond_destroy(&pa->filled);
		pthread_mutex_destroy(&pa->lock);
	}
	/* every batch is ours now: what was parsed and not taken goes */
	for (i = 0; i < BATCHES; i++)
		release_batch(&pa->b[i]);
	free(pa);
}

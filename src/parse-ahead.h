#ifndef THRUM_PARSE_AHEAD_H
#define THRUM_PARSE_AHEAD_H

/*
 * Parsing the lines of log buffers on other threads while the caller
 * applies the ones already parsed (a rebuild is JSON and signatures on
 * one side, SQLite on the other, and a machine has more than one core).
 * The caller adds buffers one after another, each to be applied in
 * full before the next: the threads go on with the next buffers while
 * the caller applies the lines of the first, so that a log of many
 * files keeps every core busy across the ends of its files.  The lines
 * of each buffer come back in order, exactly as a loop of
 * event_line_hash() and event_parse(..., EVENT_PARSE_VERIFY, ...) over
 * it would give them, then one NULL says that buffer is done.  A
 * returned line is borrowed: valid until the next parse_ahead_next()
 * or parse_ahead_finish().
 */
#include "event.h"

struct parsed_line {
	const char *line;	/* in the buffer, without its newline */
	size_t len;
	uint64_t hash;		/* event_line_hash() of the line */
	int rc;			/* event_parse()'s: 0, or THRUM_EINVALID */
	const char *why;	/* when rc: the reason it gave */
	struct event ev;	/* when !rc */
};

struct parse_ahead;

/*
 * A parser with no buffer yet.  When no thread can be started the lines
 * are parsed as they are asked for.
 */
struct parse_ahead *parse_ahead_open(void);

/*
 * Add the lines of buf[0..len), which the caller keeps until its NULL
 * from parse_ahead_next() (or parse_ahead_finish()).  Empty lines (and
 * a lone "\r") are left out, as the projection skips them.
 */
void parse_ahead_add(struct parse_ahead *pa, const char *buf, size_t len);

/* a line to parse, without its newline, neither empty nor a lone "\r" */
struct line_span {
	const char *line;
	size_t len;
};

/*
 * The same for the lines v[0..nr), of bytes bytes in all (the batch
 * sizes follow it), which the caller keeps as long (the lines and v):
 * the lines of a buffer that are not known yet, without a copy.
 */
void parse_ahead_add_lines(struct parse_ahead *pa, const struct line_span *v,
			   size_t nr, size_t bytes);

/* parse_ahead_open() and the one buffer buf[0..len) or v[0..nr) */
struct parse_ahead *parse_ahead_start(const char *buf, size_t len);
struct parse_ahead *parse_ahead_start_lines(const struct line_span *v,
					    size_t nr, size_t bytes);

/*
 * The next line of the first buffer not done, or NULL after its last
 * line (the buffer is done: the next call goes on with the next one),
 * and NULL when every buffer added is done.
 */
struct parsed_line *parse_ahead_next(struct parse_ahead *pa);

/* stop the threads (at any point) and free everything */
void parse_ahead_finish(struct parse_ahead *pa);

#endif

#ifndef THRUM_PARSE_AHEAD_H
#define THRUM_PARSE_AHEAD_H

/*
 * Parsing the lines of a log buffer on other threads while the caller
 * applies the ones already parsed (a rebuild is JSON and signatures on
 * one side, SQLite on the other, and a machine has more than one core).
 * The lines come back in order, exactly as a loop of event_line_hash()
 * and event_parse(..., EVENT_PARSE_VERIFY, ...) over the buffer would
 * give them.  A returned line is borrowed: valid until the
 * next parse_ahead_next() or parse_ahead_finish().
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
 * Start parsing the lines of buf[0..len), which the caller keeps until
 * parse_ahead_finish().  Empty lines (and a lone "\r") are left out, as
 * the projection skips them.  When no thread can be started the lines
 * are parsed as they are asked for.
 */
struct parse_ahead *parse_ahead_start(const char *buf, size_t len);

/* a line to parse, without its newline, neither empty nor a lone "\r" */
struct line_span {
	const char *line;
	size_t len;
};

/*
 * The same over the lines v[0..nr), of bytes bytes in all (the batch
 * sizes follow it), which the caller keeps until parse_ahead_finish():
 * the lines of a buffer that are not known yet, without a copy.
 */
struct parse_ahead *parse_ahead_start_lines(const struct line_span *v,
					    size_t nr, size_t bytes);

/* the next line, or NULL after the last */
struct parsed_line *parse_ahead_next(struct parse_ahead *pa);

/* stop the thread (at any point) and free everything */
void parse_ahead_finish(struct parse_ahead *pa);

#endif

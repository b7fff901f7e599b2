#ifndef THRUM_MERGE_H
#define THRUM_MERGE_H

/*
 * The merge of one log file (gitthrum-format(5), THE MERGE): the longest
 * common prefix of whole lines, then the union of the two remainders (one copy
 * of each distinct line, none that the prefix already holds), events ordered
 * by (instant, event_id), unparseable lines after them in byte order. Lines
 * are copied byte for byte and always end in a newline; blank lines are
 * dropped. Pure: no I/O. merge(a, b) == merge(b, a) and merge(merge(a, b), b)
 * == merge(a, b).
 */
struct strbuf;

struct merge_stats {
	size_t added;		/* remote lines that local did not hold */
	size_t skipped;		/* remote lines dropped (over the length cap)
				 * or added but unparseable (only where both
				 * sides have lines: a one-sided merge parses
				 * nothing, the projection counts those) */
	size_t dropped;		/* remote lines over the length cap */
	size_t conflicts;	/* an event_id with two different lines */
};

/*
 * Merge local (llen bytes) and remote (rlen bytes) into out (appended).
 * When new_lines is non-NULL, the lines remote contributed are appended
 * to it too, for projection.  Remote lines longer than max_line are
 * dropped and counted.  Returns 0 or -1 (out of memory is fatal anyway).
 */
int merge_file(const char *local, size_t llen, const char *remote,
	       size_t rlen, size_t max_line, struct strbuf *out,
	       struct strbuf *new_lines, struct merge_stats *stats);

/*
 * Is remote (rlen bytes) what merge_file() makes of it and an empty local
 * file, byte for byte: at least one line, none blank or longer than
 * max_line, the last one ended?  Then the caller may take remote itself
 * as the result and as its new lines, without a copy; *stats is what
 * merge_file() would have counted.  1 or 0 (*stats untouched).
 */
int merge_is_remote(const char *remote, size_t rlen, size_t max_line,
		    struct merge_stats *stats);

#endif

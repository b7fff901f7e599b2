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

/* does buf (len bytes) hold a line?  Blank lines carry nothing */
int merge_has_lines(const char *buf, size_t len);

/*
 * Is remote (rlen bytes) what merge_file() makes of it and an empty local
 * file, byte for byte: at least one line, none blank or longer than
 * max_line, the last one ended?  Then the caller may take remote itself
 * as the result and as its new lines, without a copy; *stats is what
 * merge_file() would have counted.  1 or 0 (*stats untouched).
 */
int merge_is_remote(const char *remote, size_t rlen, size_t max_line,
		    struct merge_stats *stats);

/*
 * What a merge changed, for the projection to apply (projection_update()):
 * for each log file it replaced, the file as the merge read it (before)
 * and as it wrote it (after), and where in the new file the lines are
 * that the other side brought.  The projection projects just those when
 * it had consumed exactly the file the merge read, and reads the file
 * again otherwise.  A struct log_changes owns its entries until
 * log_changes_release().
 */

/* a file as stat() saw it; all 0 for a file that was not there */
struct log_file_id {
	uint64_t ino;
	uint64_t size;
	int64_t mtime_ns;
};

/* bytes [off, off + len) of a file: whole lines */
struct log_span {
	uint64_t off, len;
};

struct log_change {
	char *path;		/* "events.jsonl", "messages/alice.jsonl" */
	int merged;		/* 0: only the path is known to have changed */
	struct log_file_id before, after;
	struct log_span *spans;	/* in order, adjacent ones joined */
	size_t nr, alloc;
};

struct log_changes {
	struct log_change *v;
	size_t nr, alloc;
};
#define LOG_CHANGES_INIT { NULL, 0, 0 }

/* a new entry for path (all else 0), valid until the next add */
struct log_change *log_changes_add(struct log_changes *c, const char *path);
void log_changes_release(struct log_changes *c);

/* add bytes [off, off + len) to c's spans */
void log_change_add_span(struct log_change *c, uint64_t off, uint64_t len);

/*
 * Add to c's spans the lines of after (alen bytes: a merge's result)
 * that before (blen bytes: the file it merged into) did not hold, in
 * order: the lines the other sides brought.
 */
void merge_new_spans(const char *before, size_t blen, const char *after,
		     size_t alen, struct log_change *c);

#endif

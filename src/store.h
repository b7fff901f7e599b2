#ifndef THRUM_STORE_H
#define THRUM_STORE_H

/*
 * The event log: JSONL files in the sync work tree
 * (technical/architecture.adoc, "Where things are"). Appends hold
 * flock(var/log.lock), open the file O_APPEND|O_NOFOLLOW, write every line in
 * one write(2) and fsync before returning, so an accepted event is never torn
 * or lost. A struct store borrows nothing: its paths are copies, freed by
 * store_release().
 */
struct repo;
struct strbuf;
struct strvec;
struct event;
struct sign_key;

struct store {
	char *sync_dir;		/* the sync work tree */
	char *var_dir;
	char *lock_path;	/* var/log.lock */
	int lock_fd;
	int lock_depth;
	/* non-NULL: store_append() signs every line with it (borrowed) */
	const struct sign_key *sign_key;
};

#define STORE_INIT { NULL, NULL, NULL, -1, 0 }

/* the lifecycle log, and the legacy monolithic message log */
#define STORE_EVENTS_FILE "events.jsonl"
#define STORE_LEGACY_FILE "messages.jsonl"
/*
 * This clone's own log, var/local.jsonl, named by this relative path:
 * events that must never leave the clone (the human user's read marks).
 * The projection reads it like the others; sync never sees it.
 */
#define STORE_LOCAL_FILE "local:local.jsonl"

void store_init(struct store *s, const struct repo *r);
void store_release(struct store *s);

/* flock(log.lock): LOCK_EX or LOCK_SH; nests; 0 or -1 */
int store_lock(struct store *s, int how);
void store_unlock(struct store *s);

/*
 * The relative path of the file an event goes to: events.jsonl for agent,
 * session and group events, messages/<shard>.jsonl for message events
 * (shard: the writer, i.e. the author or, for receipts, the reader).
 * Caller frees.
 */
char *store_path_for(const struct store *s, const struct event *ev,
		     const char *shard);

/*
 * Append the canonical lines of evs[0..nr) to the file for shard (see
 * store_path_for; all events of one call go to their own files), under the
 * lock, fsynced.  Returns 0 or -1 (reported; nothing was written to a file
 * whose write failed).
 */
int store_append(struct store *s, const char *shard, struct event **evs,
		 size_t nr);

/*
 * Append raw, newline-terminated lines to relpath under the lock, fsynced
 * (for repair, which restores lines exactly as they were).  0 or -1.
 */
int store_append_raw(struct store *s, const char *relpath,
		     const struct strbuf *lines);

/*
 * The log files present, relative to the sync work tree, in a stable
 * order: events.jsonl, messages.jsonl (legacy, read only), then
 * messages/<name>.jsonl for every regular file whose name passes the
 * agent-name rule.  Anything else is not listed.
 */
void store_list_files(const struct store *s, struct strvec *out);

/* store_list_files() plus the local log when it exists: what to project */
void store_list_projected(const struct store *s, struct strvec *out);

/* append evs to the local log (see STORE_LOCAL_FILE); 0 or -1 */
int store_append_local(struct store *s, struct event **evs, size_t nr);

/*
 * The shard name of a log path ("messages/alice.jsonl" -> "alice"), or
 * NULL for events.jsonl and the legacy file.  Caller frees.
 */
char *store_shard_of(const char *relpath);

/*
 * Segments.  An agent's shard is a series of files, so that a commit never
 * rewrites a big blob and a merge costs what is new, not what is old:
 * messages/<name>.jsonl (segment 0, the only file the original writes),
 * then messages/<name>.0001.jsonl, .0002, ...  Lines are appended to the
 * highest segment there is; once it holds STORE_SEGMENT_BYTES or more the
 * next append starts a new one.  A line never moves between files, so
 * every file is merged on its own, as before; readers take every segment
 * of every shard (the original reads messages/ *.jsonl too).
 */
#define STORE_SEGMENT_BYTES (256 * 1024)

/* the segment size in effect ($THRUM_SEGMENT_BYTES, for tests) */
size_t store_segment_bytes(void);

/* "messages/<shard>.jsonl" for n == 0, else "messages/<shard>.NNNN.jsonl" */
char *store_segment_path(const char *shard, unsigned n);

/* the segment of shard that the next append goes to, under sync_dir */
char *store_current_segment(const char *sync_dir, const char *shard);

/*
 * The agent a file name under messages/ belongs to ("alice.jsonl",
 * "alice.0003.jsonl" -> "alice"), or NULL when the name is not a segment
 * of a valid agent name.
 */
char *store_shard_from_name(const char *filename);

/* "<sync_dir>/<relpath>", caller frees */
char *store_abs_path(const struct store *s, const char *relpath);

/*
 * The per-clone origin id ("d_" + ULID) kept in var/origin, created on
 * first use.  Caller frees; NULL after error().
 */
char *store_origin_id(struct store *s);

#endif

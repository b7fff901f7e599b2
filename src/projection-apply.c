/*
 * projection-apply.c: the write side of the projection.  Each event is
 * stored as a fact (edits, deletes, receipts, memberships in their own
 * tables) so that any order of arrival gives the same answers, and
 * catching up reads only what the log gained since last time: a file that
 * only grew is read from where we stopped (checked by its last bytes), a
 * rewritten one from the start, already-known lines recognised by hash.
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "date.h"
#include "event.h"
#include "merge.h"
#include "store.h"
#include "sync-cache.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

#define TAIL_BYTES 32
#define CLAMP_AHEAD_NS (86400LL * 1000000000)	/* one day */

/* --- applying events --- */

static int add_audience(struct projection *p, const char *msg,
			const char *kind, const char *value)
{
	sqlite3_stmt *s = proj_stmt(p, ST_AUD_ADD);

	proj_bind_text(s, 1, msg);
	proj_bind_text(s, 2, kind);
	proj_bind_text(s, 3, value);
	return proj_run(p, s, "cannot store audience");
}

static int refresh_message(struct projection *p, const char *msg)
{
	sqlite3_stmt *s = proj_stmt(p, ST_MSG_REFRESH);

	proj_bind_text(s, 1, msg);
	return proj_run(p, s, "cannot refresh message");
}

static int seen_agent(struct projection *p, const char *agent, int64_t ns)
{
	sqlite3_stmt *s;

	if (!agent)
		return 0;
	s = proj_stmt(p, ST_SEEN_AGENT);
	proj_bind_text(s, 1, agent);
	sqlite3_bind_int64(s, 2, ns);
	return proj_run(p, s, "cannot store last seen");
}

static void bind_create(sqlite3_stmt *s, const struct event *ev, int own)
{
	const char *reply_to = NULL;
	size_t i;

	for (i = 0; i < ev->nr_refs; i++)
		if (!strcmp(ev->refs[i].type, "reply_to") && !reply_to)
			reply_to = ev->refs[i].value;
	proj_bind_text(s, 1, ev->message_id);
	proj_bind_text(s, 2, ev->event_id);
	proj_bind_text(s, 3, ev->thread_id);
	proj_bind_text(s, 4, ev->agent_id);
	proj_bind_text(s, 5, ev->session_id);
	sqlite3_bind_int64(s, 6, ev->ts_ns);
	proj_bind_text(s, 7, ev->timestamp);
	proj_bind_text(s, 8, ev->body_format);
	proj_bind_text(s, 9, ev->body_content);
	proj_bind_text(s, 10, ev->body_structured);
	proj_bind_text(s, 11, ev->priority);
	proj_bind_text(s, 12, reply_to);
	sqlite3_bind_int(s, 13, own);
}

static int record_conflict(struct projection *p, const char *event_id,
			   uint64_t hash)
{
	sqlite3_stmt *s = proj_stmt(p, ST_CONFLICT_ADD);

	proj_bind_text(s, 1, event_id);
	sqlite3_bind_int64(s, 2, (int64_t)hash);
	return proj_run(p, s, "cannot record conflict");
}

/*
 * A create of a message_id already projected: the better of the two by
 * projection_create_cmp() stays in messages, the other is a conflict.
 * Returns 1 when ev replaced the row, 0 when it lost, -1 on error.
 */
static int second_create(struct projection *p, const struct event *ev,
			 int own, uint64_t hash)
{
	sqlite3_stmt *s = proj_stmt(p, ST_MSG_RANK);
	char *old_id = NULL;
	int64_t old_ns = 0;
	int old_own = 0, rc, ret = -1;

	proj_bind_text(s, 1, ev->message_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		old_own = sqlite3_column_int(s, 0);
		old_ns = sqlite3_column_int64(s, 1);
		old_id = proj_col_text(s, 2);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		proj_db_error(p, "cannot read message");
		goto out;
	}
	if (projection_create_cmp(own, ev->ts_ns, ev->event_id, old_own,
				  old_ns, old_id) > 0) {
		ret = record_conflict(p, ev->event_id, hash);
		goto out;
	}
	s = proj_stmt(p, ST_CONFLICT_LOSER);
	proj_bind_text(s, 1, old_id);
	if (proj_run(p, s, "cannot record conflict") < 0)
		goto out;
	s = proj_stmt(p, ST_MSG_REPLACE);
	bind_create(s, ev, own);
	if (proj_run(p, s, "cannot store message") < 0)
		goto out;
	ret = 1;
out:
	free(old_id);
	return ret;
}

/* 1 when new, THRUM_ECONFLICT when another create of its id exists */
static int apply_create(struct projection *p, const struct event *ev,
			const char *shard, uint64_t hash)
{
	int own = shard && !strcmp(shard, ev->agent_id);
	int ret = 1, r;
	sqlite3_stmt *s;
	size_t i, added = 0;

	s = proj_stmt(p, ST_MSG_INSERT);
	bind_create(s, ev, own);
	if (proj_run(p, s, "cannot store message") < 0)
		return -1;
	if (!sqlite3_changes(p->db)) {
		r = second_create(p, ev, own, hash);
		if (r <= 0)
			return r < 0 ? -1 : THRUM_ECONFLICT;
		ret = THRUM_ECONFLICT;
	}

	s = proj_stmt(p, ST_AUD_CLEAR);
	proj_bind_text(s, 1, ev->message_id);
	if (proj_run(p, s, "cannot store audience") < 0)
		return -1;
	for (i = 0; i < ev->nr_recipients; i++, added++)
		if (add_audience(p, ev->message_id, "to",
				 ev->recipients[i]) < 0)
			return -1;
	for (i = 0; i < ev->nr_refs; i++) {
		const char *t = ev->refs[i].type, *kind = NULL;

		if (!strcmp(t, "mention"))
			kind = "mention";
		else if (!strcmp(t, "group"))
			kind = "group";
		else if (!strcmp(t, "broadcast"))
			kind = "broadcast";
		if (kind && add_audience(p, ev->message_id, kind,
					 ev->refs[i].value) < 0)
			return -1;
		added += !!kind;
	}
	for (i = 0; i < ev->nr_scopes; i++)
		if (!strcmp(ev->scopes[i].type, "broadcast")) {
			if (add_audience(p, ev->message_id, "broadcast",
					 ev->scopes[i].value) < 0)
				return -1;
			added++;
		}
	/* a message addressed to nobody in particular is for everyone */
	if (!added &&
	    add_audience(p, ev->message_id, "broadcast", "everyone") < 0)
		return -1;
	if (seen_agent(p, ev->agent_id, ev->ts_ns) < 0 ||
	    refresh_message(p, ev->message_id) < 0)
		return -1;
	return ret;
}

static int apply_edit_or_delete(struct projection *p, const struct event *ev,
				const char *shard)
{
	const char *who = ev->agent_id ? ev->agent_id : shard;
	sqlite3_stmt *s;

	if (ev->type == EV_MESSAGE_EDIT) {
		s = proj_stmt(p, ST_EDIT_ADD);
		proj_bind_text(s, 5, ev->body_format);
		proj_bind_text(s, 6, ev->body_content);
	} else {
		s = proj_stmt(p, ST_DELETE_ADD);
		proj_bind_text(s, 5, ev->reason);
	}
	proj_bind_text(s, 1, ev->event_id);
	proj_bind_text(s, 2, ev->message_id);
	sqlite3_bind_int64(s, 3, ev->ts_ns);
	proj_bind_text(s, 4, who);
	if (proj_run(p, s, "cannot store edit") < 0)
		return -1;
	return refresh_message(p, ev->message_id);
}

static int apply_receipt(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s = proj_stmt(p, ST_RECEIPT_ADD);

	proj_bind_text(s, 1, ev->message_id);
	proj_bind_text(s, 2, ev->agent_id);
	proj_bind_text(s, 3, ev->receipt_type ? ev->receipt_type : "read");
	if (proj_run(p, s, "cannot store receipt") < 0)
		return -1;
	return seen_agent(p, ev->agent_id, ev->ts_ns);
}

static int apply_register(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s = proj_stmt(p, ST_AGENT_UPSERT);

	proj_bind_text(s, 1, ev->agent_id);
	proj_bind_text(s, 2, ev->name ? ev->name : ev->agent_id);
	proj_bind_text(s, 3, ev->kind ? ev->kind : "agent");
	proj_bind_text(s, 4, ev->role);
	proj_bind_text(s, 5, ev->module);
	proj_bind_text(s, 6, ev->worktree);
	proj_bind_text(s, 7, ev->display);
	proj_bind_text(s, 8, ev->hostname);
	sqlite3_bind_int64(s, 9, ev->ts_ns);
	proj_bind_text(s, 10, ev->event_id);
	if (proj_run(p, s, "cannot store agent") < 0)
		return -1;
	return seen_agent(p, ev->agent_id, ev->ts_ns);
}

static int apply_update(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s;

	if (!ev->intent)
		return seen_agent(p, ev->agent_id, ev->ts_ns);
	s = proj_stmt(p, ST_INTENT_UPSERT);
	proj_bind_text(s, 1, ev->agent_id);
	proj_bind_text(s, 2, ev->intent);
	sqlite3_bind_int64(s, 3, ev->ts_ns);
	proj_bind_text(s, 4, ev->event_id);
	if (proj_run(p, s, "cannot store intent") < 0)
		return -1;
	return seen_agent(p, ev->agent_id, ev->ts_ns);
}

static int apply_session(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s;

	if (ev->type == EV_AGENT_SESSION_START) {
		s = proj_stmt(p, ST_SESSION_START);
		proj_bind_text(s, 1, ev->session_id);
		proj_bind_text(s, 2, ev->agent_id);
		sqlite3_bind_int64(s, 3, ev->ts_ns);
	} else {
		s = proj_stmt(p, ST_SESSION_END);
		proj_bind_text(s, 1, ev->session_id);
		sqlite3_bind_int64(s, 2, ev->ts_ns);
		proj_bind_text(s, 3, ev->reason);
	}
	if (proj_run(p, s, "cannot store session") < 0)
		return -1;
	return seen_agent(p, ev->agent_id, ev->ts_ns);
}

static int apply_group(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s;

	switch (ev->type) {
	case EV_GROUP_CREATE:
		s = proj_stmt(p, ST_GROUP_CREATE);
		proj_bind_text(s, 1, ev->group_id);
		proj_bind_text(s, 2, ev->name);
		proj_bind_text(s, 3, ev->description);
		proj_bind_text(s, 4, ev->actor);
		sqlite3_bind_int64(s, 5, ev->ts_ns);
		proj_bind_text(s, 6, ev->event_id);
		break;
	case EV_GROUP_DELETE:
		s = proj_stmt(p, ST_GROUP_DELETE);
		proj_bind_text(s, 1, ev->group_id);
		break;
	case EV_GROUP_MEMBER_ADD:
	case EV_GROUP_MEMBER_REMOVE:
		s = proj_stmt(p, ST_MEMBER_UPSERT);
		proj_bind_text(s, 1, ev->group_id);
		proj_bind_text(s, 2, ev->member_type);
		proj_bind_text(s, 3, ev->member_value);
		sqlite3_bind_int(s, 4, ev->type == EV_GROUP_MEMBER_ADD);
		sqlite3_bind_int64(s, 5, ev->ts_ns);
		proj_bind_text(s, 6, ev->event_id);
		break;
	default:
		/*
		 * NEEDSWORK: group.update (renames, descriptions) is kept in
		 * the log but not projected yet.
		 */
		return 0;
	}
	return proj_run(p, s, "cannot store group");
}

/*
 * The instant an event counts at for every "latest wins" order (and the
 * order of the inbox): its own, unless that is more than a day ahead of
 * this clone's clock when the event first arrived, then that day's end.
 * A line claiming 2261 therefore cannot pin an agent's registration, an
 * intent, a membership or an edit: a day later, anything newer wins.
 * The instant given is kept in the database (and across a rebuild), so
 * that applying the same events again, in any order, gives the same
 * answers.  The event's own timestamp is not changed.
 */
static int clamp_ns(struct projection *p, const struct event *ev,
		    int64_t *out)
{
	int64_t limit;
	sqlite3_stmt *s;
	int rc;

	if (!p->now)	/* applied outside projection_begin() */
		p->now = date_now_ns();
	limit = p->now + CLAMP_AHEAD_NS;
	*out = ev->ts_ns;
	if (ev->ts_ns <= limit)
		return 0;
	s = proj_stmt(p, ST_CLAMP_GET);
	proj_bind_text(s, 1, ev->event_id);
	rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : limit;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot read the clamped instants");
	if (rc == SQLITE_ROW)
		return 0;
	s = proj_stmt(p, ST_CLAMP_PUT);
	proj_bind_text(s, 1, ev->event_id);
	sqlite3_bind_int64(s, 2, limit);
	return proj_run(p, s, "cannot record a clamped instant");
}

int projection_apply(struct projection *p, const struct event *orig,
		     const char *shard, uint64_t line_hash)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SEEN_INSERT);
	struct event copy = *orig;
	const struct event *ev = orig;
	int ret;

	proj_bind_text(s, 1, ev->event_id);
	sqlite3_bind_int64(s, 2, (int64_t)line_hash);
	sqlite3_bind_int64(s, 3, ev->ts_ns);
	if (proj_run(p, s, "cannot record event") < 0)
		return -1;
	if (!sqlite3_changes(p->db)) {
		int64_t known = 0;

		s = proj_stmt(p, ST_SEEN_HASH);
		proj_bind_text(s, 1, ev->event_id);
		if (sqlite3_step(s) == SQLITE_ROW)
			known = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (known == (int64_t)line_hash)
			return 0;
		if (record_conflict(p, ev->event_id, line_hash) < 0)
			return -1;
		return THRUM_ECONFLICT;
	}
	/* a shallow copy that orders at the clamped instant */
	if (clamp_ns(p, orig, &copy.ts_ns) < 0)
		return -1;
	ev = &copy;

	switch (ev->type) {
	case EV_MESSAGE_CREATE:
		ret = apply_create(p, ev, shard, line_hash);
		break;
	case EV_MESSAGE_EDIT:
	case EV_MESSAGE_DELETE:
		ret = apply_edit_or_delete(p, ev, shard);
		break;
	case EV_MESSAGE_RECEIPT:
		ret = apply_receipt(p, ev);
		break;
	case EV_AGENT_REGISTER:
		ret = apply_register(p, ev);
		break;
	case EV_AGENT_UPDATE:
		ret = apply_update(p, ev);
		break;
	case EV_AGENT_SESSION_START:
	case EV_AGENT_SESSION_END:
		ret = apply_session(p, ev);
		break;
	case EV_GROUP_CREATE:
	case EV_GROUP_DELETE:
	case EV_GROUP_MEMBER_ADD:
	case EV_GROUP_MEMBER_REMOVE:
	case EV_GROUP_UPDATE:
		ret = apply_group(p, ev);
		break;
	default:
		ret = 0;	/* unknown types: kept in the log, not shown */
		break;
	}
	return ret < 0 ? ret : 1;
}

/* --- catching up with the log --- */

struct file_state {
	int known;
	int64_t size;
	unsigned char tail[TAIL_BYTES];
	int tail_len;
	int have_stat;		/* ino and mtime describe those size bytes */
	int64_t ino, mtime;
};

static int get_file_state(struct projection *p, const char *rel,
			  struct file_state *fs)
{
	sqlite3_stmt *s = proj_stmt(p, ST_FILE_GET);
	int rc;

	memset(fs, 0, sizeof(*fs));
	proj_bind_text(s, 1, rel);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(s, 1);
		int n = sqlite3_column_bytes(s, 1);

		fs->known = 1;
		fs->size = sqlite3_column_int64(s, 0);
		fs->have_stat = sqlite3_column_type(s, 2) != SQLITE_NULL &&
				sqlite3_column_type(s, 3) != SQLITE_NULL;
		fs->ino = sqlite3_column_int64(s, 2);
		fs->mtime = sqlite3_column_int64(s, 3);
		if (blob && n > 0 && n <= TAIL_BYTES) {
			memcpy(fs->tail, blob, n);
			fs->tail_len = n;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return proj_db_error(p, "cannot read file state");
	return 0;
}

/* the last bytes before end, as a fingerprint of what was consumed */
static int read_tail(int fd, int64_t end, unsigned char *buf, int *len)
{
	int64_t start = end > TAIL_BYTES ? end - TAIL_BYTES : 0;
	ssize_t n = pread(fd, buf, end - start, start);

	if (n != end - start)
		return -1;
	*len = (int)n;
	return 0;
}

/*
 * Where to resume reading fd: the recorded size when the file only grew
 * since (same bytes before it), 0 when it was rewritten; -1 when there is
 * nothing new.
 */
static int64_t resume_offset(int fd, int64_t size, const struct file_state *fs)
{
	unsigned char tail[TAIL_BYTES];
	int len;

	if (!fs->known || size < fs->size)
		return 0;
	if (read_tail(fd, fs->size, tail, &len) < 0 || len != fs->tail_len ||
	    memcmp(tail, fs->tail, len))
		return 0;
	return size == fs->size ? -1 : fs->size;
}

static const char *find_event_id(const char *line, size_t len, size_t *idlen)
{
	static const char key[] = "\"event_id\":\"";
	const char *p = memmem(line, len, key, sizeof(key) - 1), *end;

	if (!p)
		return NULL;
	p += sizeof(key) - 1;
	end = memchr(p, '"', line + len - p);
	/* an id of EVENT_MAX_ID bytes, each written as \uXXXX at worst */
	if (!end || end - p > EVENT_MAX_ID * 6)
		return NULL;
	*idlen = end - p;
	return p;
}

/* is this exact line already projected?  (a hint, checked by hash) */
static int already_seen(struct projection *p, const char *line, size_t len,
			uint64_t hash)
{
	sqlite3_stmt *s;
	const char *id;
	size_t idlen;
	int seen = 0;

	id = find_event_id(line, len, &idlen);
	if (!id)
		return 0;
	s = proj_stmt(p, ST_SEEN_HASH);
	sqlite3_bind_text(s, 1, id, (int)idlen, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		seen = sqlite3_column_int64(s, 0) == (int64_t)hash;
	sqlite3_reset(s);
	return seen;
}

static int skip_line(struct projection *p, const char *rel, uint64_t hash,
		     const char *why, struct catch_up_stats *stats)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SKIPPED_ADD);

	proj_bind_text(s, 1, rel);
	sqlite3_bind_int64(s, 2, (int64_t)hash);
	proj_bind_text(s, 3, why);
	if (proj_run(p, s, "cannot record skipped line") < 0)
		return -1;
	if (sqlite3_changes(p->db))
		stats->skipped++;
	return 0;
}

/* keep the exact bytes of a line that a-sync does not hold yet */
static int keep_pending(struct projection *p, const char *rel, int64_t off,
			const char *line, size_t n)
{
	sqlite3_stmt *s = proj_stmt(p, ST_PENDING_ADD);

	proj_bind_text(s, 1, rel);
	sqlite3_bind_int64(s, 2, off);
	sqlite3_bind_blob(s, 3, line, (int)n, SQLITE_STATIC);
	return proj_run(p, s, "cannot keep an uncommitted line");
}

/*
 * Project the lines of buf, which starts at offset off of rel; those
 * newly projected at or after committed (-1: none) are kept as pending.
 */
static int project_lines(struct projection *p, const char *rel,
			 const char *shard, const char *buf, size_t len,
			 int64_t off, int64_t committed,
			 struct catch_up_stats *stats)
{
	const char *line = buf, *end = buf + len;

	while (line < end) {
		const char *nl = memchr(line, '\n', end - line);
		size_t n = nl - line;
		struct event ev = EVENT_INIT;
		const char *why = NULL;
		uint64_t hash;
		int ret;

		if (!n || (n == 1 && line[0] == '\r')) {
			line = nl + 1;
			continue;
		}
		hash = event_line_hash(line, n);
		/* (a rebuild starts empty: projection_apply() sees repeats) */
		if (!p->bulk && already_seen(p, line, n, hash)) {
			line = nl + 1;
			continue;
		}
		if (event_parse(&ev, line, n, 0, &why) < 0) {
			stats->unparseable++;
			if (skip_line(p, rel, hash, why, stats) < 0)
				return -1;
			line = nl + 1;
			continue;
		}
		ret = projection_apply(p, &ev, shard, hash);
		/* written here, after the last commit: not in a-sync yet */
		if (ret > 0 && committed >= 0 &&
		    off + (line - buf) >= committed && p->origin &&
		    ev.origin_daemon && !strcmp(ev.origin_daemon, p->origin) &&
		    keep_pending(p, rel, off + (line - buf), line, n) < 0)
			ret = -1;
		event_release(&ev);
		if (ret < 0 && ret != THRUM_ECONFLICT)
			return -1;
		if (ret == THRUM_ECONFLICT)
			stats->conflicts++;
		else if (ret > 0)
			stats->applied++;
		line = nl + 1;
	}
	return 0;
}

/* remember that rel has been consumed up to used bytes */
static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static int record_file_state(struct projection *p, const char *rel, int fd,
			     int64_t used, const char *path)
{
	unsigned char tail[TAIL_BYTES];
	struct stat st;
	sqlite3_stmt *q;
	int tail_len;

	if (read_tail(fd, used, tail, &tail_len) < 0)
		return error_errno("cannot read '%s'", path);
	q = proj_stmt(p, ST_FILE_PUT);
	proj_bind_text(q, 1, rel);
	sqlite3_bind_int64(q, 2, used);
	sqlite3_bind_blob(q, 3, tail, tail_len, SQLITE_STATIC);
	/* the stat identity only when it describes exactly what was read */
	if (!fstat(fd, &st) && st.st_size == used) {
		sqlite3_bind_int64(q, 4, (int64_t)st.st_ino);
		sqlite3_bind_int64(q, 5, mtime_ns(&st));
	}
	return proj_run(p, q, "cannot record file state");
}

/*
 * Forget the pending lines of rel that a-sync now holds (the commit of a
 * sync cycle took the file up to *committed bytes).
 */
static int prune_pending(struct projection *p, struct store *s,
			 const char *rel, int64_t *committed)
{
	sqlite3_stmt *q;

	if (!p->origin)
		p->origin = store_origin_id(s);
	*committed = (int64_t)sync_committed_size(s->var_dir, rel);
	if (!*committed)
		return 0;
	q = proj_stmt(p, ST_PENDING_PRUNE);
	proj_bind_text(q, 1, rel);
	sqlite3_bind_int64(q, 2, *committed);
	return proj_run(p, q, "cannot forget committed lines");
}

static int catch_up_file(struct projection *p, struct store *s,
			 const char *rel, struct catch_up_stats *stats)
{
	char *path = store_abs_path(s, rel);
	char *shard = store_shard_of(rel);
	struct strbuf buf = STRBUF_INIT;
	struct file_state fs;
	struct stat st;
	int64_t from, used, committed = 0;
	int fd = -1, ret = -1;
	ssize_t n;

	fd = xopen(path, O_RDONLY | O_NOFOLLOW, 0);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = 0;	/* vanished or not ours: nothing to read */
		goto out;
	}
	if (get_file_state(p, rel, &fs) < 0)
		goto out;
	from = resume_offset(fd, st.st_size, &fs);
	if (from < 0) {
		ret = 0;
		goto out;
	}
	if (!from)
		stats->files_rescanned++;
	if (strbuf_grow(&buf, st.st_size - from) < 0)
		goto out;
	n = pread(fd, buf.buf, st.st_size - from, from);
	if (n < 0) {
		error_errno("cannot read '%s'", path);
		goto out;
	}
	strbuf_setlen(&buf, n);
	/* only whole lines: a line still being written is read next time */
	while (buf.len && buf.buf[buf.len - 1] != '\n')
		buf.len--;
	buf.buf[buf.len] = '\0';
	if (!p->bulk && prune_pending(p, s, rel, &committed) < 0)
		goto out;
	if (project_lines(p, rel, shard, buf.buf, buf.len, from,
			  p->bulk ? -1 : committed, stats) < 0)
		goto out;
	used = from + buf.len;
	ret = record_file_state(p, rel, fd, used, path);
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&buf);
	free(shard);
	free(path);
	return ret;
}

/* what log_files says of one file */
struct known_file {
	char *path;
	int64_t size, ino, mtime;
	int have_stat;
};

static int cmp_known(const void *a, const void *b)
{
	return strcmp(((const struct known_file *)a)->path,
		      ((const struct known_file *)b)->path);
}

/*
 * Cheap look: which files differ from what was consumed?  One query and
 * one lstat() per file: a file whose inode, size and mtime are those
 * recorded when it was read is unchanged (log files only grow, and are
 * only replaced by rename); any other is checked by its tail.  The files
 * to read again go to *changed; returns 1 when there is anything to do
 * (a file to read, or one gone from the log), 0, or -1.
 */
static int needs_catch_up(struct projection *p, struct store *s,
			  const struct strvec *files, struct strvec *changed)
{
	struct known_file *known = NULL;
	size_t nr = 0, alloc = 0, i, matched = 0;
	sqlite3_stmt *q = proj_stmt(p, ST_FILE_ALL);
	int ret = 0;

	while (sqlite3_step(q) == SQLITE_ROW) {
		struct known_file *k;

		ALLOC_GROW(known, nr + 1, alloc);
		k = &known[nr++];
		k->path = proj_col_text(q, 0);
		k->size = sqlite3_column_int64(q, 1);
		k->have_stat = sqlite3_column_type(q, 2) != SQLITE_NULL &&
			       sqlite3_column_type(q, 3) != SQLITE_NULL;
		k->ino = sqlite3_column_int64(q, 2);
		k->mtime = sqlite3_column_int64(q, 3);
	}
	sqlite3_reset(q);
	if (nr)
		qsort(known, nr, sizeof(*known), cmp_known);

	for (i = 0; i < files->nr; i++) {
		char *path = store_abs_path(s, files->v[i]);
		struct known_file key, *k;
		struct stat st;
		int differs;

		key.path = (char *)files->v[i];
		k = nr ? bsearch(&key, known, nr, sizeof(*known), cmp_known)
		       : NULL;
		matched += !!k;
		if (!k || lstat(path, &st) < 0 || st.st_size != k->size) {
			differs = 1;
		} else if (!k->have_stat || (int64_t)st.st_ino != k->ino ||
			   mtime_ns(&st) != k->mtime) {
			struct file_state fs;
			int fd;

			if (get_file_state(p, files->v[i], &fs) < 0) {
				free(path);
				ret = -1;
				break;
			}
			fd = xopen(path, O_RDONLY | O_NOFOLLOW, 0);
			differs = fd < 0 || resume_offset(fd, st.st_size,
							  &fs) >= 0;
			if (fd >= 0)
				close(fd);
		} else {
			differs = 0;
		}
		free(path);
		if (differs)
			strvec_push(changed, files->v[i]);
	}
	if (!ret)
		ret = changed->nr || matched != nr;
	for (i = 0; i < nr; i++)
		free(known[i].path);
	free(known);
	return ret;
}

static int forget_missing_files(struct projection *p,
				const struct strvec *files)
{
	struct strvec gone = STRVEC_INIT;
	sqlite3_stmt *q = proj_stmt(p, ST_FILE_ALL);
	size_t i;
	int ret = 0;

	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(q, 0);
		int present = 0;

		for (i = 0; i < files->nr && !present; i++)
			present = !strcmp(files->v[i], path);
		if (!present)
			strvec_push(&gone, path);
	}
	sqlite3_reset(q);
	for (i = 0; i < gone.nr && !ret; i++) {
		q = proj_stmt(p, ST_FILE_DEL);
		proj_bind_text(q, 1, gone.v[i]);
		ret = proj_run(p, q, "cannot forget file");
	}
	strvec_clear(&gone);
	return ret;
}

/*
 * Did the projection consume exactly the file a merge read (its stat
 * identity recorded with all its bytes), or know nothing of a file that
 * was not there?  Then the merge's new lines are all it lacks.
 */
static int consumed_before(const struct file_state *fs,
			   const struct log_change *c)
{
	if (!c->before.ino)
		return !fs->known;
	return fs->known && fs->have_stat && (uint64_t)fs->size ==
	       c->before.size && (uint64_t)fs->ino == c->before.ino &&
	       fs->mtime == c->before.mtime_ns;
}

/*
 * Project the lines a merge brought into c->path and record the file as
 * consumed up to what the merge wrote.  When the projection did not hold
 * exactly the file the merge read, or the file in place is not the one
 * the merge wrote, nothing is done here: catch_up_file() reads it.
 */
static int project_merged(struct projection *p, struct store *s,
			  const struct log_change *c,
			  struct catch_up_stats *stats)
{
	char *path = store_abs_path(s, c->path);
	char *shard = store_shard_of(c->path);
	struct strbuf buf = STRBUF_INIT;
	struct file_state fs;
	struct stat st;
	size_t i;
	int fd, ret = -1;

	fd = xopen(path, O_RDONLY | O_NOFOLLOW, 0);
	if (fd < 0 || fstat(fd, &st) < 0 ||
	    (uint64_t)st.st_ino != c->after.ino ||
	    (uint64_t)st.st_size < c->after.size) {
		ret = 0;
		goto out;
	}
	if (get_file_state(p, c->path, &fs) < 0)
		goto out;
	if (!consumed_before(&fs, c)) {
		ret = 0;
		goto out;
	}
	for (i = 0; i < c->nr; i++) {
		const struct log_span *sp = &c->spans[i];
		ssize_t n;

		strbuf_reset(&buf);
		if (strbuf_grow(&buf, sp->len) < 0)
			goto out;
		n = pread(fd, buf.buf, sp->len, sp->off);
		if (n != (ssize_t)sp->len) {
			error_errno("cannot read '%s'", path);
			goto out;
		}
		strbuf_setlen(&buf, n);
		/* merged in from the remote: the cycle commits them at once */
		if (project_lines(p, c->path, shard, buf.buf, buf.len,
				  (int64_t)sp->off, -1, stats) < 0)
			goto out;
		/* one span's bytes at a time */
		strbuf_release(&buf);
	}
	ret = record_file_state(p, c->path, fd, (int64_t)c->after.size, path);
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&buf);
	free(shard);
	free(path);
	return ret;
}

int projection_update(struct projection *p, struct store *s,
		      const struct log_changes *changes,
		      struct catch_up_stats *stats)
{
	struct catch_up_stats local = { 0 };
	struct strvec files = STRVEC_INIT, changed = STRVEC_INIT;
	size_t i;
	int ret = -1, merged = 0;

	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if (store_lock(s, LOCK_SH) < 0)
		return -1;
	if (!changes)
		store_list_projected(s, &files);
	for (i = 0; changes && i < changes->nr; i++) {
		strvec_push(&files, changes->v[i].path);
		merged |= changes->v[i].merged;
	}
	ret = needs_catch_up(p, s, &files, &changed);
	/*
	 * only the files named: what else is gone is not their question;
	 * what a merge wrote is read even when it looks unchanged
	 */
	if (changes && ret >= 0)
		ret = changed.nr || merged;
	if (ret <= 0)
		goto out;
	ret = -1;
	if (projection_begin(p) < 0)
		goto out;
	for (i = 0; changes && i < changes->nr; i++)
		if (changes->v[i].merged &&
		    project_merged(p, s, &changes->v[i], stats) < 0)
			goto fail;
	/* only what changed is read; catch_up_file() resumes each */
	for (i = 0; i < changed.nr; i++)
		if (catch_up_file(p, s, changed.v[i], stats) < 0)
			goto fail;
	if ((!changes && forget_missing_files(p, &files) < 0) ||
	    projection_commit(p) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	projection_rollback(p);
out:
	store_unlock(s);
	strvec_clear(&files);
	strvec_clear(&changed);
	return ret;
}

/* --- writing back what the log lost --- */

struct pending_line {
	char *path;
	int64_t offset;
	struct strbuf line;
};

static void release_pending(struct pending_line *v, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(v[i].path);
		strbuf_release(&v[i].line);
	}
	free(v);
}

/* where the whole line is in "\n" + file, or -1 */
static int64_t find_line(const struct strbuf *file, const struct strbuf *line)
{
	struct strbuf needle = STRBUF_INIT;
	const char *at;

	strbuf_addch(&needle, '\n');
	strbuf_addbuf(&needle, line);
	strbuf_addch(&needle, '\n');
	at = memmem(file->buf, file->len, needle.buf, needle.len);
	strbuf_release(&needle);
	return at ? at - file->buf : -1;
}

/*
 * The rows of one file, v[0..nr): append those the file lacks, then
 * record where each now is.
 */
static int recover_file(struct projection *p, struct store *s,
			struct pending_line *v, size_t nr, size_t *restored)
{
	char *path = store_abs_path(s, v[0].path);
	struct strbuf file = STRBUF_INIT, add = STRBUF_INIT;
	sqlite3_stmt *q;
	int64_t base;
	size_t i;
	int ret = -1;

	if (strbuf_read_file(&add, path, 0) < 0) {
		if (errno != ENOENT) {
			error_errno("cannot read '%s'", path);
			goto out;
		}
		strbuf_reset(&add);
	}
	/* a leading "\n" makes the first line findable like the others */
	strbuf_addch(&file, '\n');
	strbuf_addbuf(&file, &add);
	strbuf_reset(&add);
	/* the appender completes a torn last line first */
	base = file.len - 1 + (file.len > 1 && file.buf[file.len - 1] != '\n');
	for (i = 0; i < nr; i++) {
		int64_t at = find_line(&file, &v[i].line);

		if (at >= 0) {
			v[i].offset = at;
			continue;
		}
		v[i].offset = base + add.len;
		strbuf_addbuf(&add, &v[i].line);
		strbuf_addch(&add, '\n');
		(*restored)++;
	}
	if (add.len && store_append_raw(s, v[0].path, &add) < 0)
		goto out;
	q = proj_stmt(p, ST_PENDING_DROP);
	proj_bind_text(q, 1, v[0].path);
	if (proj_run(p, q, "cannot update uncommitted lines") < 0)
		goto out;
	for (i = 0; i < nr; i++)
		if (keep_pending(p, v[i].path, v[i].offset, v[i].line.buf,
				 v[i].line.len) < 0)
			goto out;
	ret = 0;
out:
	strbuf_release(&file);
	strbuf_release(&add);
	free(path);
	return ret;
}

int projection_recover(struct projection *p, struct store *s,
		       size_t *restored)
{
	struct pending_line *v = NULL;
	size_t nr = 0, alloc = 0, i, start, local = 0;
	sqlite3_stmt *q = proj_stmt(p, ST_PENDING_ALL);
	int rc, ret = -1;

	if (!restored)
		restored = &local;
	*restored = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct pending_line *e;

		ALLOC_GROW(v, nr + 1, alloc);
		e = &v[nr++];
		e->path = proj_col_text(q, 0);
		e->offset = sqlite3_column_int64(q, 1);
		strbuf_init(&e->line, 0);
		strbuf_add(&e->line, sqlite3_column_blob(q, 2),
			   sqlite3_column_bytes(q, 2));
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		proj_db_error(p, "cannot read uncommitted lines");
		goto out;
	}
	if (!nr || projection_begin(p) < 0) {
		ret = nr ? -1 : 0;
		goto out;
	}
	for (start = 0, i = 1; i <= nr; i++)
		if (i == nr || strcmp(v[i].path, v[start].path)) {
			if (recover_file(p, s, v + start, i - start,
					 restored) < 0) {
				projection_rollback(p);
				goto out;
			}
			start = i;
		}
	ret = projection_commit(p);
out:
	release_pending(v, nr);
	return ret;
}

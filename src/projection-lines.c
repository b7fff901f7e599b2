/*
 * projection-lines.c: the lines of one log file projected, one at a
 * time, or handed to a parse-ahead (parsed and verified on every core)
 * and applied in order as they come back.  A line that is no event is
 * counted and recorded for its file (skipped_lines); a line already
 * projected is known by its event id and hash; the lines this clone
 * wrote after the last commit are kept as pending (see
 * projection_recover()).  The log cursor (projection-log.c) says which
 * bytes of which file are new.
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "event.h"
#include "parse-ahead.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

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
	const char *id;
	size_t idlen;
	int64_t known = 0;

	id = find_event_id(line, len, &idlen);
	if (!id)
		return 0;
	return proj_seen_hash(p, id, idlen, &known) > 0 &&
	       known == (int64_t)hash;
}

static const char skipped_add_sql[] =
	"INSERT OR IGNORE INTO skipped_lines(path, hash, reason)"
	" VALUES(:path, :hash, :reason)";

static int skip_line(struct projection *p, const char *rel, uint64_t hash,
		     const char *why, struct catch_up_stats *stats)
{
	sqlite3_stmt *s = proj_stmt(p, ST_SKIPPED_ADD, skipped_add_sql);

	proj_bind_text(s, ":path", rel);
	proj_bind_int(s, ":hash", (int64_t)hash);
	proj_bind_text(s, ":reason", why);
	if (proj_run(p, s, "cannot record skipped line") < 0)
		return -1;
	if (sqlite3_changes(p->db))
		stats->skipped++;
	return 0;
}

static const char pending_add_sql[] =
	"INSERT OR REPLACE INTO pending(path, offset, line)"
	" VALUES(:path, :offset, :line)";

/* keep the exact bytes of a line that a-sync does not hold yet */
int proj_keep_pending(struct projection *p, const char *rel, int64_t off,
		      const char *line, size_t n)
{
	sqlite3_stmt *s = proj_stmt(p, ST_PENDING_ADD, pending_add_sql);

	proj_bind_text(s, ":path", rel);
	proj_bind_int(s, ":offset", off);
	proj_bind_blob(s, ":line", line, n);
	return proj_run(p, s, "cannot keep an uncommitted line");
}

/*
 * One line of rel at offset at, parsed into ev (NULL when it is not an
 * event: why says what is wrong), projected; newly projected at or after
 * committed (-1: none), it is kept as pending.
 */
static int project_line(struct projection *p, const char *rel,
			const char *shard, const char *line, size_t n,
			int64_t at, int64_t committed, uint64_t hash,
			const struct event *ev, const char *why,
			struct catch_up_stats *stats)
{
	int ret;

	if (!ev) {
		stats->unparseable++;
		return skip_line(p, rel, hash, why, stats);
	}
	ret = projection_apply(p, ev, shard, hash);
	/* written here, after the last commit: not in a-sync yet */
	if (ret > 0 && committed >= 0 && at >= committed && p->origin &&
	    ev->origin_daemon && !strcmp(ev->origin_daemon, p->origin) &&
	    proj_keep_pending(p, rel, at, line, n) < 0)
		ret = -1;
	if (ret < 0 && ret != THRUM_ECONFLICT)
		return -1;
	if (ret == THRUM_ECONFLICT)
		stats->conflicts++;
	else if (ret > 0)
		stats->applied++;
	return 0;
}

/*
 * Give the lines of buf to pa: all of them in a rebuild, which starts
 * empty (projection_apply() sees repeats); in a catch-up only those the
 * projection does not hold already, found first, in place (*v, which
 * the caller frees once they are applied).  Left out before rather than
 * between lines, a line twice among the new ones (or in two files read
 * ahead) is given to projection_apply() twice, which knows the second
 * as a repeat.
 */
void proj_queue_lines(struct projection *p, struct parse_ahead *pa,
		      const char *buf, size_t len, struct line_span **v)
{
	const char *line = buf, *end = buf + len;
	size_t nr = 0, alloc = 0, bytes = 0;

	if (p->bulk) {
		parse_ahead_add(pa, buf, len);
		return;
	}
	while (line < end) {
		const char *nl = memchr(line, '\n', end - line);
		size_t n = (nl ? nl : end) - line;

		if (n && !(n == 1 && line[0] == '\r') &&
		    !already_seen(p, line, n, event_line_hash(line, n))) {
			ALLOC_GROW(*v, nr + 1, alloc);
			(*v)[nr].line = line;
			(*v)[nr++].len = n;
			bytes += n + 1;
		}
		line = nl ? nl + 1 : end;
	}
	parse_ahead_add_lines(pa, *v, nr, bytes);
}

/*
 * The lines queued from buf (which starts at offset off of rel), parsed
 * and verified on other threads, applied in order as they come back.
 */
int proj_apply_queued(struct projection *p, struct parse_ahead *pa,
		      const char *rel, const char *shard, const char *buf,
		      int64_t off, int64_t committed,
		      struct catch_up_stats *stats)
{
	struct parsed_line *pl;
	int ret = 0;

	while (!ret && (pl = parse_ahead_next(pa)))
		ret = project_line(p, rel, shard, pl->line, pl->len,
				   off + (pl->line - buf), committed, pl->hash,
				   pl->rc ? NULL : &pl->ev, pl->why, stats);
	return ret;
}

/*
 * Project the lines of buf, which starts at offset off of rel; those
 * newly projected at or after committed (-1: none) are kept as pending.
 * With pa (nothing queued in it), they are parsed there.
 */
int proj_project_lines(struct projection *p, struct parse_ahead *pa,
		       const char *rel, const char *shard, const char *buf,
		       size_t len, int64_t off, int64_t committed,
		       struct catch_up_stats *stats)
{
	const char *line = buf, *end = buf + len;

	if (pa) {
		struct line_span *v = NULL;
		int ret;

		proj_queue_lines(p, pa, buf, len, &v);
		ret = proj_apply_queued(p, pa, rel, shard, buf, off,
					committed, stats);
		free(v);
		return ret;
	}
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
		ret = event_parse(&ev, line, n, EVENT_PARSE_VERIFY, &why);
		ret = project_line(p, rel, shard, line, n, off + (line - buf),
				   committed, hash, ret < 0 ? NULL : &ev, why,
				   stats);
		event_release(&ev);
		if (ret < 0)
			return -1;
		line = nl + 1;
	}
	return 0;
}

/*
 * projection-search.c: full-text search over the current content of the
 * messages (`git thrum search`).  The index is the FTS5 table "search" of
 * the schema (projection.c): external content read from the view
 * search_body, keyed by the messages rowid, kept by triggers on messages
 * in the same transaction as every change of a message, so a rebuild and
 * the incremental projection hold the same index whatever the order of
 * arrival.  An edit replaces the indexed text, a delete removes it.
 *
 * The user's words are never handed to FTS5 as syntax unless asked
 * (raw): each becomes a quoted string, so `foo-bar`, `"` or `NEAR` are
 * plain words.  Results are ranked by bm25, best first, ties newest
 * first.
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

int projection_search_terms(struct strbuf *out, const char *words)
{
	const char *p = words;
	size_t start = out->len;

	while (*p) {
		const char *end;
		int prefix;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			break;
		end = p;
		while (*end && *end != ' ' && *end != '\t' && *end != '\n' &&
		       *end != '\r')
			end++;
		/* a trailing '*' asks for every word with that start */
		prefix = end - p > 1 && end[-1] == '*';
		if (out->len > start)
			strbuf_addch(out, ' ');
		strbuf_addch(out, '"');
		for (; p < end - prefix; p++) {
			if (*p == '"')
				strbuf_addch(out, '"');
			strbuf_addch(out, *p);
		}
		strbuf_addch(out, '"');
		if (prefix)
			strbuf_addch(out, '*');
		p = end;
	}
	return out->len > start ? 0 : THRUM_EINVALID;
}

/*
 * The visibility rule is the inbox's (PROJ_VISIBLE_TO_ME); the snippet
 * marks each hit with :open and :close around at most 16 tokens.
 */
static const char search_sql[] =
	"SELECT m.message_id,"
	" snippet(search, 0, :open, :close, :dots, 16)"
	" FROM search JOIN messages m ON m.rowid = search.rowid"
	" WHERE search MATCH :query"
	" AND (:all OR (m.agent_id != :me AND " PROJ_VISIBLE_TO_ME "))"
	" AND (:from IS NULL OR m.agent_id = :from)"
	" AND m.created_ns >= :since"
	" AND" PROJ_SIG_SHOWN("m.event_id")
	" ORDER BY search.rank, m.created_ns DESC, m.message_id DESC"
	" LIMIT :limit";

/* an error in the query itself (raw FTS5 syntax), not in the database */
static int bad_query(struct projection *p, const struct search_query *q)
{
	const char *msg = sqlite3_errmsg(p->db);

	if (!q->raw || sqlite3_errcode(p->db) != SQLITE_ERROR)
		return 0;
	error("invalid search query '%s': %s", q->words, msg);
	return 1;
}

int projection_search(struct projection *p, const struct search_query *q,
		      struct message_list *out, struct strvec *snippets)
{
	struct strbuf match = STRBUF_INIT;
	struct strvec ids = STRVEC_INIT;
	sqlite3_stmt *s;
	size_t i;
	int rc, ret = THRUM_EINVALID;

	if (q->raw)
		strbuf_addstr(&match, q->words);
	else if (projection_search_terms(&match, q->words) < 0) {
		error("no word to search for in '%s'", q->words);
		goto out;
	}
	s = proj_stmt(p, ST_SEARCH, search_sql);
	proj_bind_text(s, ":query", match.buf);
	proj_bind_text(s, ":open", q->open ? q->open : "");
	proj_bind_text(s, ":close", q->close ? q->close : "");
	proj_bind_text(s, ":dots", "...");
	proj_bind_text(s, ":me", q->me ? q->me : "");
	proj_bind_text(s, ":role", q->role);
	proj_bind_text(s, ":from", q->from);
	proj_bind_int(s, ":all", q->all);
	proj_bind_int(s, ":since", q->since_ns);
	proj_bind_int(s, ":limit", q->limit > 0 ? q->limit : -1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		strvec_push(&ids, (const char *)sqlite3_column_text(s, 0));
		strvec_push(snippets, (const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		ret = bad_query(p, q) ? THRUM_EINVALID :
			proj_db_error(p, "cannot search the messages");
		goto out;
	}
	/* each hit as the inbox shows it (a handful: one lookup each) */
	for (i = 0; i < ids.nr; i++) {
		ret = projection_message(p, ids.v[i], q->me, out);
		if (ret < 0) {
			if (ret != -1)
				error("message '%s' vanished during a search",
				      ids.v[i]);
			ret = -1;
			goto out;
		}
	}
	ret = 0;
out:
	strbuf_release(&match);
	strvec_clear(&ids);
	return ret;
}

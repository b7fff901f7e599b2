/*
 * git thrum search: full-text search over the current content of the
 * messages I can see, best match first (git-thrum(1)).  The words are
 * searched as words (see projection_search_terms()); --raw hands them to
 * SQLite FTS5 as a query.  On a terminal each hit is highlighted in its
 * snippet; the text around it is escaped as everywhere.
 */
#include "thrum.h"
#include "cmd.h"
#include "date.h"
#include "format.h"
#include "pager.h"
#include "parse-options.h"
#include "projection.h"
#include "strbuf.h"
#include "strvec.h"
#include "ulid.h"
#include "usage.h"
#include "wrapper.h"

static struct {
	struct search_query q;
	const char *from, *since;
	int json;
} opt;

static const struct thrum_option search_options[] = {
	OPT_STRING("from", &opt.from, "<@name>", "only from this agent"),
	OPT_STRING("since", &opt.since, "<date>",
		   "only messages sent at or after this date"),
	OPT_BOOL("all", &opt.q.all, "every message, not only mine"),
	OPT_INT("limit", &opt.q.limit, "<n>", "at most n messages (20)", 1,
		LONG_MAX),
	OPT_BOOL("raw", &opt.q.raw, "the query is SQLite FTS5 syntax"),
	OPT_JSON(&opt.json),
	OPT_END()
};

const struct cmd_args search_args = {
	{ "git thrum search <word>... [--from <@name>] [--since <date>] "
	  "[--all] [--limit <n>] [--raw] [--json]" }, search_options,
	1, -1, "nothing to search for"
};

/* an RFC 3339 date-time, or a day (YYYY-MM-DD: its start, in UTC) */
static int parse_since(const char *s, int64_t *out)
{
	char day[32];

	if (!date_parse_rfc3339(s, out))
		return 0;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	snprintf(day, sizeof(day), "%sT00:00:00Z", s);
	return date_parse_rfc3339(day, out) ? -1 : 0;
}

#define C_HIT "\033[1;31m"	/* as git grep shows a match */
#define C_ID "\033[33m"
#define C_RESET "\033[m"

/*
 * The snippet on one line: escaped, white space as a space, each hit
 * (between open and close) in colour when color.
 */
static void snippet_text(struct strbuf *out, const char *snip,
			 const char *open, const char *close, int color)
{
	struct strbuf part = STRBUF_INIT;
	size_t i, olen = strlen(open), clen = strlen(close);
	int in_hit = 0;

	while (*snip) {
		const char *mark = strstr(snip, in_hit ? close : open);
		size_t n = mark ? (size_t)(mark - snip) : strlen(snip);

		strbuf_reset(&part);
		strbuf_add(&part, snip, n);
		for (i = 0; i < part.len; i++)
			if (part.buf[i] == '\n' || part.buf[i] == '\t' ||
			    part.buf[i] == '\r')
				part.buf[i] = ' ';
		if (in_hit && color)
			strbuf_addstr(out, C_HIT);
		format_escape(out, part.buf, 0);
		if (in_hit && color)
			strbuf_addstr(out, C_RESET);
		if (!mark)
			break;
		snip = mark + (in_hit ? clen : olen);
		in_hit = !in_hit;
	}
	strbuf_release(&part);
}

/*
 *   msg_01J...  from alice  5 minutes ago (edited)
 *       ...the login rework is ready for review...
 */
static void print_results(const struct message_list *l,
			  const struct strvec *snippets, int color,
			  FILE *out)
{
	struct strbuf sb = STRBUF_INIT, id = STRBUF_INIT, who = STRBUF_INIT;
	int64_t now = date_now_ns();
	size_t i;

	for (i = 0; i < l->nr; i++) {
		const struct message *m = &l->items[i];
		char when[DATE_RELATIVE_LEN];

		date_format_relative(m->created_ns, now, when);
		strbuf_reset(&sb);
		snippet_text(&sb, snippets->v[i], opt.q.open, opt.q.close,
			     color);
		fprintf(out, "%s%s%s  from %s  %s%s\n    %s\n",
			color ? C_ID : "", format_safe(&id, m->message_id),
			color ? C_RESET : "", format_safe(&who, m->agent_id),
			when, m->edited ? " (edited)" : "", sb.buf);
	}
	strbuf_release(&sb);
	strbuf_release(&id);
	strbuf_release(&who);
}

int cmd_search(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct message_list l = MESSAGE_LIST_INIT;
	struct strvec snippets = STRVEC_INIT;
	struct strbuf words = STRBUF_INIT;
	char *nonce = NULL, *open = NULL, *close = NULL;
	int i, color = 0, ret = 1, rc;

	if (opt.since && parse_since(opt.since, &opt.q.since_ns) < 0)
		usage_opt_msg(search_args.usage, search_options,
			      "invalid date '%s' for --since (want "
			      "YYYY-MM-DD or an RFC 3339 date-time)",
			      opt.since);
	if (!opt.since)
		opt.q.since_ns = INT64_MIN;
	for (i = 0; i < argc; i++) {
		if (i)
			strbuf_addch(&words, ' ');
		strbuf_addstr(&words, argv[i]);
	}
	opt.q.words = words.buf;
	if (opt.from)
		opt.q.from = opt.from[0] == '@' ? opt.from + 1 : opt.from;
	if (!opt.q.limit)
		opt.q.limit = 20;
	opt.q.me = ctx->me.agent_id;
	opt.q.role = ctx->me.role;
	/*
	 * hits are marked with a string the text cannot hold (fresh random
	 * bits each run), so that no message can fake or hide one; --json
	 * has the plain snippet
	 */
	if (!opt.json) {
		nonce = ulid_new_id("\001");
		opt.q.open = open = xstrfmt("%s[", nonce);
		opt.q.close = close = xstrfmt("%s]", nonce);
	}
	rc = projection_search(ctx->proj, &opt.q, &l, &snippets);
	if (rc == THRUM_EINVALID) {
		ret = 129;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (opt.json) {
		format_search_json(&l, &snippets, stdout);
	} else if (!l.nr) {
		printf("no messages\n");
	} else {
		/* like git grep: colour and a pager, on a terminal only */
		color = want_color(ctx->repo.worktree);
		setup_pager(ctx->repo.worktree);
		print_results(&l, &snippets, color, stdout);
	}
	if (fflush(stdout) || ferror(stdout)) {
		error_errno("cannot write the results");
		goto out;
	}
	ret = 0;
out:
	message_list_release(&l);
	strvec_clear(&snippets);
	strbuf_release(&words);
	free(nonce);
	free(open);
	free(close);
	return ret;
}

/*
 * git thrum setup agents: wire thrum into agent runtimes.  For each
 * runtime, the MCP server entry in its configuration file (.mcp.json for
 * Claude Code, .codex/config.toml for Codex, .cursor/mcp.json for
 * Cursor) and a short marked block in the instructions file it reads
 * (CLAUDE.md, AGENTS.md).  Without --apply it prints what it would change
 * and changes nothing; with --apply it writes, idempotently.
 *
 * The user's own entries are kept byte for byte: a file is never
 * re-serialised.  Our entry is spliced into the text, and the splice is
 * checked by parsing the result with json-c: it must be the user's
 * document plus our entry (json_object_equal), or nothing is written.
 * So no JSON is parsed by hand; the only scanning is for candidate
 * positions, each verified by the parser.
 */
#include "thrum.h"
#include <json-c/json.h>
#include "format.h"
#include "cmd.h"
#include "lockfile.h"
#include "parse-options.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

#define MCP_ENTRY_JSON \
	"{\"type\": \"stdio\", \"command\": \"git\", \"args\": [\"thrum\", \"mcp\"]}"
#define BLOCK_BEGIN "<!-- thrum:begin (git thrum setup agents) -->"
#define BLOCK_END "<!-- thrum:end -->"

static const char agents_block[] =
	BLOCK_BEGIN "\n"
	"## Coordinating with other agents: thrum\n"
	"\n"
	"This repository carries messages between the agents working on it\n"
	"(`git thrum`, also as the MCP server `thrum`: tools send_message,\n"
	"check_messages, wait_for_message, reply_message, list_agents).\n"
	"\n"
	"- Once per work tree: `git thrum quickstart --role <role> --module\n"
	"  <module> --intent \"<what you work on>\"`; `git thrum whoami` shows it.\n"
	"- Who else is here: `git thrum team`.\n"
	"- Read what is for you: `git thrum inbox` (or the check_messages tool).\n"
	"- Write: `git thrum send \"<text>\" --to @agent` (or @role, @group,\n"
	"  @everyone); answer with `git thrum reply <id> \"<text>\"`.\n"
	"- Wait for an answer instead of polling: `git thrum wait --timeout\n"
	"  300` (or wait_for_message).\n"
	BLOCK_END "\n";

static const char codex_block[] =
	"[mcp_servers.thrum]\n"
	"command = \"git\"\n"
	"args = [\"thrum\", \"mcp\"]\n";

struct change {
	const char *path;	/* relative to the work tree */
	struct strbuf now;	/* the file as it is ("" when missing) */
	struct strbuf want;	/* as it should be */
	int exists;
};

/* --- JSON configuration files: splice, then verify with json-c --- */

static json_object *parse_doc(const char *text, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	} else {
		/* only whitespace may follow */
		size_t end = json_tokener_get_parse_end(tok);

		while (end < len && isspace((unsigned char)text[end]))
			end++;
		if (end != len) {
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	return o;
}

/* does text, parsed, equal expect? */
static int parses_as(const struct strbuf *text, json_object *expect)
{
	json_object *got = parse_doc(text->buf, text->len);
	int ok = got && json_object_equal(got, expect);

	json_object_put(got);
	return ok;
}

/*
 * Try every '{' of text as the one to insert ins after; keep the first
 * whose result parses as expect.  0, or -1 when none does.
 */
static int splice_after_brace(const struct strbuf *text, const char *ins_first,
			      const char *ins_more, json_object *expect,
			      struct strbuf *out)
{
	const char *p;

	for (p = text->buf; (p = strchr(p, '{')); p++) {
		const char *q = p + 1;
		int empty;

		while (isspace((unsigned char)*q))
			q++;
		empty = *q == '}';
		strbuf_reset(out);
		strbuf_add(out, text->buf, p + 1 - text->buf);
		strbuf_addstr(out, empty ? ins_first : ins_more);
		strbuf_addstr(out, p + 1);
		if (parses_as(out, expect))
			return 0;
	}
	return -1;
}

/*
 * Replace the value of "thrum" (an object) by ours: try each '{' that
 * parses as an object equal to the old value, and verify the result.
 */
static int splice_replace(const struct strbuf *text, json_object *old,
			  json_object *expect, struct strbuf *out)
{
	const char *p;

	for (p = text->buf; (p = strchr(p, '{')); p++) {
		json_tokener *tok = json_tokener_new();
		json_object *v = json_tokener_parse_ex(tok, p,
			(int)(text->len - (p - text->buf)));
		size_t end = json_tokener_get_parse_end(tok);
		int same = v && json_object_equal(v, old);

		json_object_put(v);
		json_tokener_free(tok);
		if (!same)
			continue;
		strbuf_reset(out);
		strbuf_add(out, text->buf, p - text->buf);
		strbuf_addstr(out, MCP_ENTRY_JSON);
		strbuf_addstr(out, p + end);
		if (parses_as(out, expect))
			return 0;
	}
	return -1;
}

static int want_json_config(struct change *c)
{
	json_object *doc = NULL, *servers, *cur, *entry = NULL;
	int ret = -1;

	entry = json_tokener_parse(MCP_ENTRY_JSON);
	if (!c->exists || !c->now.len) {
		strbuf_addstr(&c->want, "{\n  \"mcpServers\": {\n    \"thrum\": "
			      MCP_ENTRY_JSON "\n  }\n}\n");
		ret = 0;
		goto out;
	}
	doc = parse_doc(c->now.buf, c->now.len);
	if (!doc) {
		error("'%s' is not a JSON object; not changing it", c->path);
		goto out;
	}
	if (json_object_object_get_ex(doc, "mcpServers", &servers) &&
	    !json_object_is_type(servers, json_type_object)) {
		error("'mcpServers' in '%s' is not an object; not changing it",
		      c->path);
		goto out;
	}
	if (!json_object_object_get_ex(doc, "mcpServers", &servers)) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "thrum", json_object_get(entry));
		json_object_object_add(doc, "mcpServers", s);
		ret = splice_after_brace(&c->now,
			"\n  \"mcpServers\": {\n    \"thrum\": " MCP_ENTRY_JSON
			"\n  }\n",
			"\n  \"mcpServers\": {\n    \"thrum\": " MCP_ENTRY_JSON
			"\n  },", doc, &c->want);
	} else if (json_object_object_get_ex(servers, "thrum", &cur)) {
		if (json_object_equal(cur, entry)) {
			strbuf_addbuf(&c->want, &c->now);	/* as it is */
			ret = 0;
			goto out;
		}
		if (!json_object_is_type(cur, json_type_object)) {
			error("'mcpServers.thrum' in '%s' is not an object; not "
			      "changing it", c->path);
			goto out;
		}
		cur = json_object_get(cur);
		json_object_object_add(servers, "thrum",
				       json_object_get(entry));
		ret = splice_replace(&c->now, cur, doc, &c->want);
		json_object_put(cur);
	} else {
		json_object_object_add(servers, "thrum",
				       json_object_get(entry));
		ret = splice_after_brace(&c->now,
			"\n    \"thrum\": " MCP_ENTRY_JSON "\n  ",
			"\n    \"thrum\": " MCP_ENTRY_JSON ",", doc, &c->want);
	}
	if (ret < 0)
		error("cannot add the thrum entry to '%s' without rewriting "
		      "it; add \"thrum\": %s under \"mcpServers\" by hand",
		      c->path, MCP_ENTRY_JSON);
out:
	json_object_put(doc);
	json_object_put(entry);
	return ret;
}

/* --- the other files: line blocks --- */

/* the text with our block in place of the marked one, or appended */
static void want_block(struct change *c, const char *block,
		       const char *begin, const char *end_marker)
{
	const char *b = begin ? strstr(c->now.buf, begin) : NULL;
	const char *e = NULL;

	if (b) {
		if (end_marker) {
			e = strstr(b, end_marker);
			if (e) {
				e += strlen(end_marker);
				if (*e == '\n')
					e++;
			}
		} else {
			/* a TOML table: up to the next table header */
			e = strstr(b + 1, "\n[");
			e = e ? e + 1 : c->now.buf + c->now.len;
		}
	}
	if (b && e) {
		strbuf_add(&c->want, c->now.buf, b - c->now.buf);
		strbuf_addstr(&c->want, block);
		strbuf_addstr(&c->want, e);
		return;
	}
	strbuf_addbuf(&c->want, &c->now);
	if (c->want.len && c->want.buf[c->want.len - 1] != '\n')
		strbuf_addch(&c->want, '\n');
	if (c->want.len)
		strbuf_addch(&c->want, '\n');
	strbuf_addstr(&c->want, block);
}

/* the header line of our Codex table, at the start of a line */
static const char *codex_header(const char *text)
{
	const char *p = text;

	while ((p = strstr(p, "[mcp_servers.thrum]"))) {
		if (p == text || p[-1] == '\n')
			return p;
		p++;
	}
	return NULL;
}

/* --- the command --- */


struct agents_opts {
	const char *runtime;
	int apply, json;
};

static struct agents_opts opt;

static const struct thrum_option agents_options[] = {
	OPT_STRING("runtime", &opt.runtime, "<runtime>",
		   "claude, codex, cursor or all (the default)"),
	OPT_BOOL("apply", &opt.apply, "write the files (default: show them)"),
	OPT_JSON(&opt.json),
	OPT_END()
};

const struct cmd_args setup_agents_args = {
	{ "git thrum setup agents [--runtime (claude | codex | cursor | all)] "
	  "[--apply] [--json]" }, agents_options
};

static int load(struct thrum_ctx *ctx, struct change *c)
{
	char *path = path_join(ctx->repo.worktree, c->path);
	int ret = 0;

	strbuf_init(&c->now, 0);
	strbuf_init(&c->want, 0);
	c->exists = strbuf_read_file(&c->now, path, 0) >= 0;
	if (!c->exists && errno != ENOENT)
		ret = error_errno("cannot read '%s'", path);
	free(path);
	return ret;
}

static int write_change(struct thrum_ctx *ctx, const struct change *c)
{
	char *path = path_join(ctx->repo.worktree, c->path);
	char *dir = xstrdup(path);
	int ret;

	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755) < 0) {
		ret = error_errno("cannot create '%s'", dir);
	} else {
		ret = write_file_atomic(path, c->want.buf, c->want.len, 0644);
	}
	free(dir);
	free(path);
	return ret;
}

int cmd_setup_agents(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct change ch[5];
	json_object *files = NULL;
	size_t nr = 0, i;
	int claude, codex, cursor, ret = 1, changed = 0;

	memset(ch, 0, sizeof(ch));
	if (!opt.runtime)
		opt.runtime = "all";
	claude = !strcmp(opt.runtime, "claude") || !strcmp(opt.runtime, "all");
	codex = !strcmp(opt.runtime, "codex") || !strcmp(opt.runtime, "all");
	cursor = !strcmp(opt.runtime, "cursor") || !strcmp(opt.runtime, "all");
	if (!claude && !codex && !cursor)
		usage_opt_msg(setup_agents_args.usage, agents_options,
			      "unknown runtime '%s': want claude, "
			  "codex, cursor or all", opt.runtime);
	if (claude) {
		ch[nr++].path = ".mcp.json";
		ch[nr++].path = "CLAUDE.md";
	}
	if (codex)
		ch[nr++].path = ".codex/config.toml";
	if (cursor)
		ch[nr++].path = ".cursor/mcp.json";
	if (codex || cursor)
		ch[nr++].path = "AGENTS.md";
	/* every file is worked out before any is written */
	for (i = 0; i < nr; i++) {
		struct change *c = &ch[i];

		if (load(ctx, c) < 0)
			goto out;
		if (strstr(c->path, ".json")) {
			if (want_json_config(c) < 0)
				goto out;
		} else if (strstr(c->path, ".toml")) {
			want_block(c, codex_block, codex_header(c->now.buf),
				   NULL);
		} else {
			want_block(c, agents_block,
				   strstr(c->now.buf, BLOCK_BEGIN)
				   ? BLOCK_BEGIN : NULL, BLOCK_END);
		}
	}
	if (opt.json)
		files = json_object_new_array();
	for (i = 0; i < nr; i++) {
		const struct change *c = &ch[i];
		int differs = c->want.len != c->now.len ||
			      memcmp(c->want.buf, c->now.buf, c->now.len);
		const char *what = !differs ? "up to date"
				   : c->exists ? "update" : "create";

		changed += differs;
		if (opt.apply && differs && write_change(ctx, c) < 0)
			goto out;
		if (files) {
			json_object *f = json_object_new_object();

			json_object_object_add(f, "path",
					       json_object_new_string(c->path));
			json_object_object_add(f, "action",
					       json_object_new_string(what));
			json_object_object_add(f, "content",
				json_object_new_string(c->want.buf));
			json_object_array_add(files, f);
		} else if (opt.apply) {
			printf("%s: %s\n", c->path, !differs ? "up to date"
			       : c->exists ? "updated" : "created");
		} else {
			printf("%s: would %s\n", c->path, what);
			if (differs)
				printf("--- %s as it would be:\n%s%s", c->path,
				       c->want.buf, c->want.len &&
				       c->want.buf[c->want.len - 1] == '\n'
				       ? "" : "\n");
		}
	}
	if (files) {
		json_object *top = json_object_new_object();

		json_object_object_add(top, "applied",
				       json_object_new_boolean(opt.apply));
		json_object_object_add(top, "files", files);
		format_json(top, stdout);
	} else if (!opt.apply && changed) {
		printf("(nothing was changed; run with --apply to write)\n");
	}
	ret = 0;
out:
	for (i = 0; i < nr; i++) {
		strbuf_release(&ch[i].now);
		strbuf_release(&ch[i].want);
	}
	return ret;
}

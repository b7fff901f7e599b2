#ifndef THRUM_FORMAT_H
#define THRUM_FORMAT_H

/*
 * What commands print: messages and agents as human text or as JSON (the
 * --json form is a stable interface: one object per command, documented
 * in git-thrum(1)).  JSON goes through json-c, never printf.
 */
struct message_list;
struct message;
struct agent_list;
struct identity;
struct strbuf;
struct sync_status;

/*
 * Human output never passes text from the log (or from anyone) raw to a
 * terminal: control characters (C0, DEL, C1), the bidi controls
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and bytes that
 * are not UTF-8 are appended to out as escapes, as git log shows odd
 * bytes: \e, \r, \n, \t, \b, \a, \xHH for other bytes, \uXXXX for
 * other code points.  With FORMAT_KEEP_LINES, \n and \t pass (a body,
 * which the caller indents line by line).  --json keeps exact strings.
 */
#define FORMAT_KEEP_LINES (1 << 0)
void format_escape(struct strbuf *out, const char *s, unsigned flags);

/*
 * s escaped for one line (NULL gives ""), in buf: valid until buf is
 * used again.
 */
const char *format_safe(struct strbuf *buf, const char *s);

/*
 * obj (released) as one line of --json output: plain, "/" unescaped;
 * every --json of the CLI goes through it
 */
struct json_object;
void format_json(struct json_object *obj, FILE *out);

/* {"messages":[...]} */
void format_messages_json(const struct message_list *l, FILE *out);
/* message show: "    key SHA256:..." of the key that signed m, if any */
void format_signer_text(const struct message *m, FILE *out);
void format_messages_text(const struct message_list *l, FILE *out);
/* colour the human forms (see want_color() in pager.h) */
void format_set_color(int on);

/*
 * A thread, or an inbox folded by thread (projection_thread(),
 * projection_fold_threads()): message i indented depth[i] levels, and
 * {"messages":[...]} with "depth" in each
 */
void format_thread_text(const struct message_list *l, const int *depth,
			FILE *out);
void format_thread_json(const struct message_list *l, const int *depth,
			FILE *out);

/* {"marked":n}: what message read marked (format-read.c) */
void format_marked_json(size_t n, FILE *out);

/*
 * search results: {"messages":[{...,"snippet":"..."}]}, snippets[i]
 * the one of message i
 */
struct strvec;
void format_search_json(const struct message_list *l,
			const struct strvec *snippets, FILE *out);

/* one message: {"message": {...}} */
void format_message_json(const struct message_list *l, size_t i, FILE *out);

/* {"agents":[...]} */
void format_agents_json(const struct agent_list *l, FILE *out);
void format_agents_text(const struct agent_list *l, FILE *out);

struct work_list;
/*
 * `team`: the same with each agent's work contexts from w: in --json a
 * "work_contexts" array per agent ({"session_id","branch",
 * "worktree_path","changed_files","uncommitted_files","changes",
 * "updated_at"}), as text a line under the agent for each
 * ("  on <branch>: <n> changes")
 */
void format_team_json(const struct agent_list *l, const struct work_list *w,
		      FILE *out);
void format_team_text(const struct agent_list *l, const struct work_list *w,
		      FILE *out);

/*
 * `who-has <path>`: the rows of w (already those touching path), in
 * --json {"path","agents":[{"agent_id","name","session_id","branch",
 * "worktree_path","uncommitted","committed","live","updated_at"}]}
 */
void format_who_has_json(const char *path, const struct work_list *w,
			 FILE *out);
void format_who_has_text(const char *path, const struct work_list *w,
			 FILE *out);

/* what `overview` shows, gathered by the command */
struct overview {
	const struct identity *me;	/* NULL: nobody */
	long unread;
	const struct sync_status *sync;
	int local_only;
	size_t peers;			/* pairs configured */
	const struct agent_list *agents;
	const struct work_list *work;
};
void format_overview_json(const struct overview *o, FILE *out);
void format_overview_text(const struct overview *o, FILE *out);

/* the status of a sync cycle as one JSON object */
void format_sync_status_json(const struct sync_status *st, int local_only,
			     FILE *out);

struct peer_report;
/*
 * The same with "peers": what the daemon says of its pairs (rep); rep
 * NULL (no pairs) leaves it out
 */
void format_sync_status_peers_json(const struct sync_status *st,
				   int local_only,
				   const struct peer_report *rep, FILE *out);
/*
 * {"listen", "peers":[{"name","address","last_sent_at",
 * "last_received_at","sent","send_failed","received","dropped":{...}}],
 * "dropped":{"unknown","oversize","malformed"},"last_nudge_us"}
 */
void format_peers_json(const struct peer_report *rep, FILE *out);
/* two lines per pair, each after indent, then the drops of nobody */
void format_peers_text(const struct peer_report *rep, const char *indent,
		       FILE *out);

void format_identity_json(const struct identity *id, FILE *out);

struct hooks_report;
/* {"ok":bool,"hooks_path_reset":...,"hooks":[{"name","state","path","chains_to"}]} */
void format_hooks_json(const struct hooks_report *rep, FILE *out);

/*
 * A small result object for commands that create something, e.g.
 * {"message_id":"msg_...","thread_id":"thr_..."}: pairs of key and value,
 * NULL-terminated; NULL values are left out.
 */
void format_kv_json(FILE *out, ...);

#endif

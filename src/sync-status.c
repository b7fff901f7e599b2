/*
 * sync-status.c: what the last sync cycle did, kept in var/sync-status
 * (an INI file written whole by rename, read back with inih), and the
 * names of its states.  The file is derived: a damaged one reads as
 * "never", a value never holds a line break, and a line never outgrows
 * what inih reads back.
 */
#include "thrum.h"
#include <ini.h>
#include "sync.h"
#include "gitx.h"
#include "lockfile.h"
#include "repo.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

static const char *const state_names[SYNC_STATE_MAX] = {
	"never", "synced", "local-only", "offline", "busy", "error",
	"refused", "auth", "timeout", "rejected",
};

const char *sync_state_name(enum sync_state state)
{
	return state < SYNC_STATE_MAX ? state_names[state] : "error";
}

int sync_state_network_failed(enum sync_state state)
{
	return state == SYNC_OFFLINE || state == SYNC_REFUSED ||
	       state == SYNC_AUTH || state == SYNC_TIMEOUT ||
	       state == SYNC_REJECTED;
}

const char *sync_spec_state(const struct sync_status *st)
{
	if (st->running)
		return "syncing";
	switch (st->state) {
	case SYNC_NEVER:
		return st->daemon_pid ? "idle" : "stopped";
	case SYNC_SYNCED:
	case SYNC_LOCAL_ONLY:
	case SYNC_BUSY:
		return sync_state_name(st->state);
	default:
		return "error";
	}
}

static char *status_path(const struct repo *r)
{
	return path_join(r->var_dir, "sync-status");
}

/*
 * The keys of var/sync-status after "state", in the order they are
 * written, and the field each fills (every string of struct sync_status
 * is one).  TEXT values are cut to fit a line
 * ("" reads back as none, but for KEY_KEEP_EMPTY); KEY_OPTIONAL ones are
 * written only when set.
 */
enum key_kind { KEY_TEXT, KEY_LONG, KEY_BOOL };
enum { KEY_OPTIONAL = 1, KEY_KEEP_EMPTY = 2 };

static const struct status_key {
	const char *name;
	enum key_kind kind;
	size_t off;
	int flags;
} status_keys[] = {
#define TEXT(n, f, fl) { n, KEY_TEXT, offsetof(struct sync_status, f), fl }
#define NUM(n, f, fl) { n, KEY_LONG, offsetof(struct sync_status, f), fl }
#define BOOL(n, f) { n, KEY_BOOL, offsetof(struct sync_status, f), 0 }
	TEXT("last_sync_at", last_sync_at, KEY_KEEP_EMPTY),
	TEXT("last_error", last_error, 0),
	TEXT("remote", remote, 0),
	TEXT("remote_tip", remote_tip, 0),
	TEXT("retry_at", retry_at, KEY_OPTIONAL),
	NUM("auth_failures", auth_failures, KEY_OPTIONAL),
	NUM("new", new_events, 0),
	NUM("skipped", skipped, 0),
	NUM("skipped_entries", skipped_entries, 0),
	NUM("conflicts", conflicts, 0),
	NUM("ahead", ahead, 0),
	NUM("behind", behind, 0),
	BOOL("committed", committed),
	BOOL("pushed", pushed),
	NUM("duration_us", duration_us, 0),
#undef TEXT
#undef NUM
#undef BOOL
};

static int status_handler(void *payload, const char *section,
			  const char *name, const char *value)
{
	char *st = payload;
	size_t i;
	long n = 0;

	if (strcmp(section, "sync"))
		return 1;
	if (!strcmp(name, "state")) {
		for (i = 0; i < SYNC_STATE_MAX; i++)
			if (!strcmp(value, state_names[i]))
				((struct sync_status *)st)->state = i;
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(status_keys); i++) {
		const struct status_key *k = &status_keys[i];

		if (strcmp(name, k->name))
			continue;
		if (k->kind == KEY_TEXT) {
			char **v = (char **)(st + k->off);

			free(*v);
			*v = *value || (k->flags & KEY_KEEP_EMPTY)
				? xstrdup(value) : NULL;
		} else if (!thrum_parse_long(value, 0, LONG_MAX, &n)) {
			if (k->kind == KEY_BOOL)
				*(int *)(st + k->off) = !!n;
			else
				*(long *)(st + k->off) = n;
		}
		break;
	}
	return 1;
}

void sync_status_release(struct sync_status *st)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(status_keys); i++)
		if (status_keys[i].kind == KEY_TEXT)
			free(*(char **)((char *)st + status_keys[i].off));
	memset(st, 0, sizeof(*st));
}

int sync_status_read(const struct repo *r, struct sync_status *out)
{
	char *path = status_path(r);
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!access(path, F_OK) && ini_parse(path, status_handler, out))
		ret = error("cannot read '%s'", path);
	free(path);
	return ret;
}

/*
 * The longest line inih reads back (its INI_MAX_LINE, newline and NUL
 * included): a longer one would make the whole file unreadable.
 */
#define STATUS_MAX_LINE 200

/*
 * one line of the status file; a value never holds a line break, and
 * one too long is cut (at a character boundary) and ends in "..."
 */
static void add_value(struct strbuf *sb, const char *key, const char *v)
{
	size_t start = sb->len, room;

	strbuf_addf(sb, "%s = ", key);
	room = STATUS_MAX_LINE - 2 - (sb->len - start);
	if (v && strlen(v) > room) {
		size_t cut = room - 3;

		while (cut && ((unsigned char)v[cut] & 0xc0) == 0x80)
			cut--;
		for (; cut--; v++)
			strbuf_addch(sb, *v == '\n' || *v == '\r' ? ' ' : *v);
		strbuf_addstr(sb, "...");
		v = NULL;
	}
	for (; v && *v; v++)
		strbuf_addch(sb, *v == '\n' || *v == '\r' ? ' ' : *v);
	strbuf_addch(sb, '\n');
}

/* the text of var/sync-status for st */
static void format_status(struct strbuf *sb, const struct sync_status *st)
{
	const char *base = (const char *)st;
	size_t i;

	strbuf_addstr(sb, "# written by git-thrum after each sync cycle\n"
		      "[sync]\n");
	add_value(sb, "state", sync_state_name(st->state));
	for (i = 0; i < ARRAY_SIZE(status_keys); i++) {
		const struct status_key *k = &status_keys[i];
		const char *text = NULL;
		long n = 0;

		if (k->kind == KEY_TEXT)
			text = *(char *const *)(base + k->off);
		else if (k->kind == KEY_BOOL)
			n = *(const int *)(base + k->off);
		else
			n = *(const long *)(base + k->off);
		if ((k->flags & KEY_OPTIONAL) && (k->kind == KEY_TEXT ? !text
								     : !n))
			continue;
		if (k->kind == KEY_TEXT)
			add_value(sb, k->name, text);
		else
			strbuf_addf(sb, "%s = %ld\n", k->name, n);
	}
}

int sync_status_write(const struct repo *r, const struct sync_status *st)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = status_path(r);
	int ret;

	format_status(&sb, st);
	ret = write_file_derived(path, sb.buf, sb.len, 0644);
	strbuf_release(&sb);
	free(path);
	return ret;
}

int sync_remote_moved(const struct repo *r, char **remote)
{
	struct sync_status st = SYNC_STATUS_INIT;
	char tip[GITX_OID_HEXSZ + 1], *ref;
	int moved = 0;

	*remote = NULL;
	/* a cycle that failed is not retried by every command */
	if (sync_status_read(r, &st) < 0 || !st.remote ||
	    (st.state != SYNC_SYNCED && !sync_state_network_failed(st.state)))
		goto out;
	ref = xstrfmt("refs/remotes/%s/a-sync", st.remote);
	moved = !repo_read_ref(r, ref, tip) &&
		(!st.remote_tip || strcmp(tip, st.remote_tip));
	free(ref);
	if (moved) {
		*remote = st.remote;
		st.remote = NULL;
	}
out:
	sync_status_release(&st);
	return moved;
}

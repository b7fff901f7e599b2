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

void sync_status_release(struct sync_status *st)
{
	free(st->last_sync_at);
	free(st->last_error);
	free(st->remote);
	free(st->remote_tip);
	free(st->retry_at);
	memset(st, 0, sizeof(*st));
}

static char *status_path(const struct repo *r)
{
	return path_join(r->var_dir, "sync-status");
}

static int status_handler(void *payload, const char *section,
			  const char *name, const char *value)
{
	struct sync_status *st = payload;
	long n = 0;
	int i;

	if (strcmp(section, "sync"))
		return 1;
	if (!strcmp(name, "state")) {
		for (i = 0; i < SYNC_STATE_MAX; i++)
			if (!strcmp(value, state_names[i]))
				st->state = i;
	} else if (!strcmp(name, "last_sync_at")) {
		free(st->last_sync_at);
		st->last_sync_at = xstrdup(value);
	} else if (!strcmp(name, "remote")) {
		free(st->remote);
		st->remote = *value ? xstrdup(value) : NULL;
	} else if (!strcmp(name, "remote_tip")) {
		free(st->remote_tip);
		st->remote_tip = *value ? xstrdup(value) : NULL;
	} else if (!strcmp(name, "last_error")) {
		free(st->last_error);
		st->last_error = *value ? xstrdup(value) : NULL;
	} else if (!strcmp(name, "retry_at")) {
		free(st->retry_at);
		st->retry_at = *value ? xstrdup(value) : NULL;
	} else if (!thrum_parse_long(value, 0, LONG_MAX, &n)) {
		if (!strcmp(name, "new"))
			st->new_events = n;
		else if (!strcmp(name, "skipped"))
			st->skipped = n;
		else if (!strcmp(name, "skipped_entries"))
			st->skipped_entries = n;
		else if (!strcmp(name, "conflicts"))
			st->conflicts = n;
		else if (!strcmp(name, "ahead"))
			st->ahead = n;
		else if (!strcmp(name, "behind"))
			st->behind = n;
		else if (!strcmp(name, "committed"))
			st->committed = !!n;
		else if (!strcmp(name, "pushed"))
			st->pushed = !!n;
		else if (!strcmp(name, "duration_us"))
			st->duration_us = n;
		else if (!strcmp(name, "auth_failures"))
			st->auth_failures = n;
	}
	return 1;
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

int sync_status_write(const struct repo *r, const struct sync_status *st)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = status_path(r);
	int ret;

	strbuf_addstr(&sb, "# written by git-thrum after each sync cycle\n"
		      "[sync]\n");
	add_value(&sb, "state", sync_state_name(st->state));
	add_value(&sb, "last_sync_at", st->last_sync_at);
	add_value(&sb, "last_error", st->last_error);
	add_value(&sb, "remote", st->remote);
	add_value(&sb, "remote_tip", st->remote_tip);
	if (st->retry_at)
		add_value(&sb, "retry_at", st->retry_at);
	if (st->auth_failures)
		strbuf_addf(&sb, "auth_failures = %ld\n", st->auth_failures);
	strbuf_addf(&sb, "new = %ld\nskipped = %ld\nskipped_entries = %ld\n"
		    "conflicts = %ld\n"
		    "ahead = %ld\nbehind = %ld\ncommitted = %d\npushed = %d\n"
		    "duration_us = %ld\n",
		    st->new_events, st->skipped, st->skipped_entries,
		    st->conflicts, st->ahead,
		    st->behind, st->committed, st->pushed, st->duration_us);
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

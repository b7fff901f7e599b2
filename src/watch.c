/*
 * watch.c: inotify on the log.  An append modifies a file, a merge renames
 * a new file into place, a new agent creates a shard; each of these is an
 * event on the directory watched, so three watches cover the log whatever
 * happens to the files in it.  messages/ may appear later: a create in the
 * sync work tree adds its watch.
 */
#include "thrum.h"
#include <sys/inotify.h>
#include "watch.h"
#include "lockfile.h"
#include "repo.h"
#include "usage.h"
#include "wrapper.h"

#define LOG_EVENTS (IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | \
		    IN_DELETE_SELF | IN_MOVE_SELF)

static void watch_messages(struct watch *w)
{
	if (w->wd_messages < 0)
		w->wd_messages = inotify_add_watch(w->fd, w->messages_dir,
						   LOG_EVENTS | IN_ONLYDIR);
}

int watch_open(struct watch *w, const struct repo *r)
{
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	w->wd_sync = w->wd_messages = w->wd_var = -1;
	w->messages_dir = path_join(r->sync_dir, "messages");
	if (w->fd < 0)
		return error_errno("cannot start inotify");
	w->wd_sync = inotify_add_watch(w->fd, r->sync_dir,
				       LOG_EVENTS | IN_ONLYDIR);
	w->wd_var = inotify_add_watch(w->fd, r->var_dir,
				      IN_DELETE_SELF | IN_MOVE_SELF | IN_DELETE |
				      IN_ONLYDIR);
	if (w->wd_sync < 0 || w->wd_var < 0) {
		error_errno("cannot watch '%s'", r->sync_dir);
		watch_close(w);
		return -1;
	}
	watch_messages(w);
	return 0;
}

void watch_close(struct watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w->messages_dir);
	w->fd = w->wd_sync = w->wd_messages = w->wd_var = -1;
	w->messages_dir = NULL;
}

/* "<name>.thrum-tmp": a file being written, renamed into place later */
static int is_staged(const char *name)
{
	size_t n = strlen(name), k = strlen(TEMPFILE_SUFFIX);

	return n > k && !strcmp(name + n - k, TEMPFILE_SUFFIX);
}

int watch_drain(struct watch *w)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	int result = WATCH_NOTHING;

	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));
		char *p;

		if (n <= 0)
			break;
		for (p = buf; p < buf + n; ) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->wd == w->wd_var && (ev->mask & IN_DELETE)) {
				/* someone removed the daemon's own files */
				if (ev->len && (!strcmp(ev->name, "thrum.pid") ||
						!strcmp(ev->name, "thrum.sock")))
					result |= WATCH_DAEMON_FILES;
			} else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF |
					       IN_IGNORED)) {
				if (ev->wd == w->wd_var || ev->wd == w->wd_sync)
					result |= WATCH_GONE;
				if (ev->wd == w->wd_messages)
					w->wd_messages = -1;
			} else if (ev->len && is_staged(ev->name)) {
				;	/* a merge's file before its rename */
			} else if (ev->mask & IN_MOVED_TO) {
				result |= WATCH_LOG_REPLACED;
			} else {
				result |= WATCH_LOG_CHANGED;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	/* messages/ may have been created, or replaced */
	watch_messages(w);
	return result;
}

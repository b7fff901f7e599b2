#ifndef THRUM_WATCH_H
#define THRUM_WATCH_H

/*
 * Noticing that the log changed, without polling: inotify on the sync
 * work tree and its messages/ directory (appends, merges that rename a
 * file into place, new shards) and on var/ (so a daemon notices its
 * repository being deleted).  The caller polls watch.fd for POLLIN and
 * then calls watch_drain().
 */
struct repo;

struct watch {
	int fd;
	int wd_sync, wd_messages, wd_var;
	char *messages_dir;
};

#define WATCH_INIT { -1, -1, -1, -1, NULL }

/* 0, or -1 after error() */
int watch_open(struct watch *w, const struct repo *r);
void watch_close(struct watch *w);

enum watch_result {
	WATCH_NOTHING = 0,
	WATCH_LOG_CHANGED = (1 << 0),	/* appended to, or created */
	WATCH_LOG_REPLACED = (1 << 3),	/* a file renamed into place */
	WATCH_GONE = (1 << 1),	/* var/ or the sync work tree went away */
	WATCH_DAEMON_FILES = (1 << 2),	/* thrum.pid or thrum.sock removed */
};

/* read all pending events; returns a mask of enum watch_result */
int watch_drain(struct watch *w);

#endif

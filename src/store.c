/*
 * store.c owns the JSONL log files.  Invariants:
 *  - the log is append-only: local commands only ever add lines;
 *  - each line is one canonical JSON event written by one write(2) under
 *    flock(var/log.lock) and fsynced before the command reports success;
 *  - a line is never glued onto a torn one: when a file does not end in a
 *    newline (a crash mid-write on another system), the append starts with
 *    one, leaving the torn bytes as an unparseable line that readers skip;
 *  - nothing is followed: files are opened O_NOFOLLOW and must be regular.
 * Committing the work tree is the sync cycle's job, not ours.
 */
#include "thrum.h"
#include "store.h"
#include "event.h"
#include "lockfile.h"
#include "repo.h"
#include "strbuf.h"
#include "strvec.h"
#include "ulid.h"
#include "usage.h"
#include "wrapper.h"

void store_init(struct store *s, const struct repo *r)
{
	s->sync_dir = xstrdup(r->sync_dir);
	s->var_dir = xstrdup(r->var_dir);
	s->lock_path = path_join(r->var_dir, "log.lock");
	s->lock_fd = -1;
	s->lock_depth = 0;
}

void store_release(struct store *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->sync_dir);
	free(s->var_dir);
	free(s->lock_path);
	s->sync_dir = s->var_dir = s->lock_path = NULL;
	s->lock_fd = -1;
	s->lock_depth = 0;
}

int store_lock(struct store *s, int how)
{
	if (s->lock_depth++)
		return 0;
	if (s->lock_fd < 0)
		s->lock_fd = xopen(s->lock_path, O_RDWR | O_CREAT, 0600);
	if (s->lock_fd < 0) {
		s->lock_depth = 0;
		return error_errno("cannot open '%s'", s->lock_path);
	}
	if (lock_take_fd(s->lock_fd, s->lock_path, how, -1) < 0) {
		s->lock_depth = 0;
		return -1;
	}
	return 0;
}

void store_unlock(struct store *s)
{
	if (!s->lock_depth || --s->lock_depth)
		return;
	lock_drop(s->lock_fd);
}

char *store_abs_path(const struct store *s, const char *relpath)
{
	if (!strncmp(relpath, "local:", 6))
		return path_join(s->var_dir, relpath + 6);
	return path_join(s->sync_dir, relpath);
}

size_t store_segment_bytes(void)
{
	return (size_t)thrum_env_long("THRUM_SEGMENT_BYTES", 1, LONG_MAX,
				      STORE_SEGMENT_BYTES);
}

char *store_segment_path(const char *shard, unsigned n)
{
	if (!n)
		return xstrfmt("messages/%s.jsonl", shard);
	return xstrfmt("messages/%s.%04u.jsonl", shard, n);
}

static int file_size(const char *dir, const char *rel, off_t *size)
{
	char *path = path_join(dir, rel);
	struct stat st;
	int ret = lstat(path, &st);

	free(path);
	if (!ret)
		*size = st.st_size;
	return ret;
}

char *store_current_segment(const char *sync_dir, const char *shard)
{
	unsigned n = 0;
	off_t size = 0;
	char *rel;

	/* segments are made in order: the first missing number ends them */
	for (;;) {
		rel = store_segment_path(shard, n + 1);
		if (file_size(sync_dir, rel, &size) < 0)
			break;
		free(rel);
		n++;
	}
	free(rel);
	rel = store_segment_path(shard, n);
	if (!file_size(sync_dir, rel, &size) &&
	    (size_t)size >= store_segment_bytes()) {
		free(rel);
		rel = store_segment_path(shard, n + 1);
	}
	return rel;
}

char *store_shard_from_name(const char *filename)
{
	size_t len = strlen(filename), digits = 0;
	char *name;

	if (len <= 6 || strcmp(filename + len - 6, ".jsonl"))
		return NULL;
	len -= 6;
	/* ".NNNN": four to nine digits, not all zero */
	while (digits < len && isdigit((unsigned char)filename[len - 1 - digits]))
		digits++;
	if (digits >= 4 && digits <= 9 && digits < len &&
	    filename[len - 1 - digits] == '.') {
		size_t i;
		int zero = 1;

		for (i = len - digits; i < len; i++)
			zero &= filename[i] == '0';
		if (zero)
			return NULL;
		len -= digits + 1;
	} else if (memchr(filename, '.', len)) {
		return NULL;
	}
	name = xstrndup(filename, len);
	if (!event_valid_name(name, NULL)) {
		free(name);
		return NULL;
	}
	return name;
}

char *store_path_for(const struct store *s, const struct event *ev,
		     const char *shard)
{
	switch (ev->type) {
	case EV_MESSAGE_CREATE:
	case EV_MESSAGE_EDIT:
	case EV_MESSAGE_DELETE:
	case EV_MESSAGE_RECEIPT:
		if (shard)
			return store_current_segment(s->sync_dir, shard);
		break;
	default:
		break;
	}
	return xstrdup(STORE_EVENTS_FILE);
}

char *store_shard_of(const char *relpath)
{
	if (strncmp(relpath, "messages/", 9))
		return NULL;
	return store_shard_from_name(relpath + 9);
}

/* does the open file end in a newline (or is it empty)? */
static int ends_with_newline(int fd)
{
	struct stat st;
	char c;

	if (fstat(fd, &st) < 0)
		return 0;	/* unsure: an extra newline is harmless */
	if (!st.st_size)
		return 1;
	if (pread(fd, &c, 1, st.st_size - 1) != 1)
		return 0;
	return c == '\n';
}

static int fsync_dir(const char *dir)
{
	int fd = xopen(dir, O_RDONLY | O_DIRECTORY, 0);

	if (fd < 0)
		return -1;
	fsync(fd);
	close(fd);
	return 0;
}

static int append_file(struct store *s, const char *rel,
		       const struct strbuf *lines)
{
	char *path = store_abs_path(s, rel);
	struct strbuf buf = STRBUF_INIT;
	struct stat st;
	int fd = -1, ret = -1, created;

	if (!strncmp(rel, "messages/", 9)) {
		char *dir = store_abs_path(s, "messages");

		if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
			error_errno("cannot create '%s'", dir);
			free(dir);
			goto out;
		}
		free(dir);
	}
	created = access(path, F_OK) < 0;
	fd = xopen(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW, 0644);
	if (fd < 0) {
		error_errno("cannot open '%s'", path);
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		error("'%s' is not a regular file", path);
		goto out;
	}
	if (!ends_with_newline(fd))
		strbuf_addch(&buf, '\n');
	strbuf_addbuf(&buf, lines);
	if (write_in_full(fd, buf.buf, buf.len) < 0) {
		int err = errno;

		/* leave no partial line behind: cut back what we wrote */
		if (ftruncate(fd, st.st_size) < 0)
			warning("cannot undo a partial write to '%s'", path);
		errno = err;
		error_errno("cannot write to '%s'", path);
		goto out;
	}
	if (fsync(fd) < 0) {
		int err = errno;

		/*
		 * not durable, so not accepted: take the lines back, so that
		 * a send that said "error" never delivers (a retry would
		 * deliver the message twice)
		 */
		if (ftruncate(fd, st.st_size) != 0)
			warning("cannot undo an append to '%s' that was not "
				"made durable", path);
		errno = err;
		error_errno("cannot fsync '%s'", path);
		goto out;
	}
	if (created) {
		char *slash = strrchr(path, '/');

		*slash = '\0';
		fsync_dir(path);
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&buf);
	free(path);
	return ret;
}

int store_append(struct store *s, const char *shard, struct event **evs,
		 size_t nr)
{
	struct strbuf lines = STRBUF_INIT;
	char **paths = xcalloc(nr ? nr : 1, sizeof(char *));
	int *done = xcalloc(nr ? nr : 1, sizeof(int));
	size_t i, j;
	int ret = 0;

	/* the segment is chosen under the lock: appends roll over in turn */
	if (store_lock(s, LOCK_EX) < 0) {
		ret = -1;
		goto out;
	}
	for (i = 0; i < nr; i++)
		paths[i] = store_path_for(s, evs[i], shard);
	/* one write per file, lines in the order given */
	for (i = 0; i < nr && !ret; i++) {
		if (done[i])
			continue;
		strbuf_reset(&lines);
		for (j = i; j < nr; j++) {
			if (done[j] || strcmp(paths[i], paths[j]))
				continue;
			if (event_serialize_signed(evs[j], &lines,
						   s->sign_key) < 0) {
				ret = error("cannot serialise event '%s'",
					    evs[j]->event_id);
				break;
			}
			strbuf_addch(&lines, '\n');
			done[j] = 1;
		}
		if (!ret)
			ret = append_file(s, paths[i], &lines);
	}
	store_unlock(s);
out:
	for (i = 0; i < nr; i++)
		free(paths[i]);
	free(paths);
	free(done);
	strbuf_release(&lines);
	return ret;
}

int store_append_raw(struct store *s, const char *relpath,
		     const struct strbuf *lines)
{
	int ret;

	if (store_lock(s, LOCK_EX) < 0)
		return -1;
	ret = append_file(s, relpath, lines);
	store_unlock(s);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_regular(const char *path)
{
	struct stat st;

	return !lstat(path, &st) && S_ISREG(st.st_mode);
}

void store_list_files(const struct store *s, struct strvec *out)
{
	static const char *const top[] = { STORE_EVENTS_FILE,
					   STORE_LEGACY_FILE };
	struct strvec shards = STRVEC_INIT;
	char *dir, *path;
	DIR *d;
	struct dirent *de;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(top); i++) {
		path = store_abs_path(s, top[i]);
		if (is_regular(path))
			strvec_push(out, top[i]);
		free(path);
	}
	dir = store_abs_path(s, "messages");
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char *name = store_shard_from_name(de->d_name);

		/* d_type saves a stat per file; only links and odd types
		 * ask the file system */
		if (name && de->d_type == DT_REG) {
			strvec_pushf(&shards, "messages/%s", de->d_name);
		} else if (name && de->d_type == DT_UNKNOWN) {
			path = path_join(dir, de->d_name);
			if (is_regular(path))
				strvec_pushf(&shards, "messages/%s",
					     de->d_name);
			free(path);
		}
		free(name);
	}
	if (d)
		closedir(d);
	free(dir);
	qsort(shards.v, shards.nr, sizeof(char *), cmp_str);
	for (i = 0; i < shards.nr; i++)
		strvec_push(out, shards.v[i]);
	strvec_clear(&shards);
}

char *store_origin_id(struct store *s)
{
	char *path = path_join(s->var_dir, "origin");
	struct strbuf sb = STRBUF_INIT;
	char *id = NULL;
	int fd;

	if (strbuf_read_file(&sb, path, 64) >= 0) {
		strbuf_trim(&sb);
		if (event_valid_id(sb.buf, "d_")) {
			id = strbuf_detach(&sb, NULL);
			goto out;
		}
	}
	id = ulid_new_id("d_");
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s\n", id);
	/* O_EXCL: two first users race; the loser reads the winner's id */
	fd = xopen(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 && errno == EEXIST) {
		free(id);
		id = NULL;
		strbuf_reset(&sb);
		if (strbuf_read_file(&sb, path, 64) >= 0) {
			strbuf_trim(&sb);
			if (event_valid_id(sb.buf, "d_"))
				id = strbuf_detach(&sb, NULL);
		}
		if (!id)
			error("corrupt origin id in '%s'", path);
		goto out;
	}
	if (fd < 0 || write_in_full(fd, sb.buf, sb.len) < 0 || fsync(fd) < 0) {
		error_errno("cannot write '%s'", path);
		free(id);
		id = NULL;
	}
	if (fd >= 0)
		close(fd);
out:
	strbuf_release(&sb);
	free(path);
	return id;
}

void store_list_projected(const struct store *s, struct strvec *out)
{
	char *path = store_abs_path(s, STORE_LOCAL_FILE);

	store_list_files(s, out);
	if (is_regular(path))
		strvec_push(out, STORE_LOCAL_FILE);
	free(path);
}

int store_append_local(struct store *s, struct event **evs, size_t nr)
{
	struct strbuf lines = STRBUF_INIT;
	size_t i;
	int ret;

	for (i = 0; i < nr; i++) {
		if (event_serialize(evs[i], &lines, 0) < 0) {
			strbuf_release(&lines);
			return error("cannot serialise event '%s'",
				     evs[i]->event_id);
		}
		strbuf_addch(&lines, '\n');
	}
	ret = store_append_raw(s, STORE_LOCAL_FILE, &lines);
	strbuf_release(&lines);
	return ret;
}

/*
 * projection-directory.c: var/directory, the names "@name" resolves to, for
 * the commands that need nothing else of the projection (see
 * projection-directory.h for when it is exact).
 *
 * The file, written whole and renamed into place:
 *
 *	thrum-directory 1
 *	db <inode of messages.db>
 *	file <rel> <size> <inode> <mtime ns>	(or "file <rel> -": never read)
 *	...
 *	<a|g|r> <name>				(agent, group, role; sorted)
 *	...
 *	end
 *
 * A name holding a control character is left out: it is looked up in
 * the projection, like any name the cache lacks.
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "projection-directory.h"
#include "blob-cache.h"
#include "lockfile.h"
#include "repo.h"
#include "store.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

#define CACHE_FILE "directory"
#define LOCK_FILE "directory.lock"
#define MAGIC "thrum-directory 1"
/* some 250 000 names: a bigger file is not one of ours */
#define CACHE_MAX_BYTES (16 << 20)

static const char *const rels[DIRCACHE_FILES] = {
	STORE_EVENTS_FILE, STORE_LEGACY_FILE,
};

static const char kind_char[] = {
	[RECIPIENT_AGENT] = 'a', [RECIPIENT_GROUP] = 'g',
	[RECIPIENT_ROLE] = 'r',
};

void dircache_init(struct dircache *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < DIRCACHE_FILES; i++)
		c->files[i].rel = rels[i];
}

void dircache_release(struct dircache *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		free(c->v[i].name);
	free(c->v);
	dircache_init(c);
}

void dircache_add(struct dircache *c, const char *name,
		  enum recipient_kind kind)
{
	const char *p;

	if (!name || !*name)
		return;
	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return;
	ALLOC_GROW(c->v, c->nr + 1, c->alloc);
	c->v[c->nr].name = xstrdup(name);
	c->v[c->nr].kind = kind;
	c->nr++;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct dircache_entry *)a)->name,
		      ((const struct dircache_entry *)b)->name);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct dircache_entry *x = a, *y = b;
	int r = cmp_name(a, b);

	/* RECIPIENT_AGENT < GROUP < ROLE: the order projection_resolve() asks */
	return r ? r : (int)x->kind - (int)y->kind;
}

void dircache_sort(struct dircache *c)
{
	size_t i, nr = 0;

	if (c->nr)
		qsort(c->v, c->nr, sizeof(*c->v), cmp_entry);
	for (i = 0; i < c->nr; i++) {
		if (nr && !strcmp(c->v[nr - 1].name, c->v[i].name)) {
			free(c->v[i].name);
			continue;
		}
		c->v[nr++] = c->v[i];
	}
	c->nr = nr;
}

int dircache_lookup(const struct dircache *c, const char *name,
		    enum recipient_kind *kind)
{
	struct dircache_entry key, *e;

	if (!c->nr)
		return 0;
	key.name = (char *)name;
	key.kind = RECIPIENT_NONE;
	e = bsearch(&key, c->v, c->nr, sizeof(*c->v), cmp_name);
	if (!e)
		return 0;
	*kind = e->kind;
	return 1;
}

/* is f what the file at path is now (both absent counts)? */
static int file_current(const struct dircache_file *f, const char *path)
{
	struct blob_stat now;

	errno = 0;
	if (blob_stat_key(path, &now) < 0)
		return errno == ENOENT && !f->known;
	return f->known > 0 && (int64_t)now.size == f->size &&
	       (int64_t)now.ino == f->ino && now.mtime_ns == f->mtime;
}

/* the next line of *p, NUL-terminated in place; NULL at the end */
static char *next_line(char **p, char *end)
{
	char *line = *p, *nl;

	if (line >= end || !(nl = memchr(line, '\n', end - line)))
		return NULL;
	*nl = '\0';
	*p = nl + 1;
	return line;
}

static int parse_i64(const char *s, char **end, int64_t *out)
{
	long long v;

	errno = 0;
	v = strtoll(s, end, 10);
	if (errno || *end == s || v < 0)
		return -1;
	*out = v;
	return 0;
}

static int parse(struct dircache *c, struct strbuf *sb)
{
	char *p = sb->buf, *end = sb->buf + sb->len, *line, *q;
	size_t i;

	if (!(line = next_line(&p, end)) || strcmp(line, MAGIC))
		return -1;
	if (!(line = next_line(&p, end)) || strncmp(line, "db ", 3) ||
	    parse_i64(line + 3, &q, &c->db_ino) < 0 || *q)
		return -1;
	for (i = 0; i < DIRCACHE_FILES; i++) {
		struct dircache_file *f = &c->files[i];
		size_t n = strlen(f->rel);

		if (!(line = next_line(&p, end)) || strncmp(line, "file ", 5) ||
		    strncmp(line + 5, f->rel, n) || line[5 + n] != ' ')
			return -1;
		line += 6 + n;
		if (!strcmp(line, "-"))
			continue;
		f->known = 1;
		if (parse_i64(line, &q, &f->size) < 0 || *q != ' ' ||
		    parse_i64(q + 1, &q, &f->ino) < 0 || *q != ' ' ||
		    parse_i64(q + 1, &q, &f->mtime) < 0 || *q)
			return -1;
	}
	while ((line = next_line(&p, end)) && strcmp(line, "end")) {
		enum recipient_kind kind;

		if (line[0] == 'a')
			kind = RECIPIENT_AGENT;
		else if (line[0] == 'g')
			kind = RECIPIENT_GROUP;
		else if (line[0] == 'r')
			kind = RECIPIENT_ROLE;
		else
			return -1;
		if (line[1] != ' ' || !line[2])
			return -1;
		/* sorted and each name once, as written: else not ours */
		if (c->nr && strcmp(c->v[c->nr - 1].name, line + 2) >= 0)
			return -1;
		ALLOC_GROW(c->v, c->nr + 1, c->alloc);
		c->v[c->nr].name = xstrdup(line + 2);
		c->v[c->nr].kind = kind;
		c->nr++;
	}
	/* cut short, or more after its end: not one whole cache */
	if (!line || p != end)
		return -1;
	return 0;
}

/*
 * The inode and birth time (ns) of the file at path (at fd, when path is
 * ""): 0, or -1 without one, when it is not a regular file, or on a file
 * system that keeps no birth time (then no cache is written or used).
 */
static int file_born_at(int fd, const char *path, int64_t *ino,
			int64_t *born, uint64_t *size)
{
	struct statx stx;

	if (statx(fd, path, AT_SYMLINK_NOFOLLOW | (*path ? 0 : AT_EMPTY_PATH),
		  STATX_TYPE | STATX_INO | STATX_SIZE | STATX_BTIME,
		  &stx) < 0 ||
	    !(stx.stx_mask & STATX_TYPE) || !S_ISREG(stx.stx_mode) ||
	    !(stx.stx_mask & STATX_INO) || !(stx.stx_mask & STATX_BTIME))
		return -1;
	*ino = (int64_t)stx.stx_ino;
	*born = (int64_t)stx.stx_btime.tv_sec * 1000000000 +
		stx.stx_btime.tv_nsec;
	if (size)
		*size = stx.stx_size;
	return 0;
}

static int file_born(const char *path, int64_t *ino, int64_t *born)
{
	return file_born_at(AT_FDCWD, path, ino, born, NULL);
}

/*
 * The cache file's text and birth time.  var/ is in the work tree, where
 * a checkout puts whatever a commit tracks there: only a regular file,
 * not followed, of at most CACHE_MAX_BYTES is read (a FIFO would block,
 * a symlink to /dev/zero never end).  0, or -1 (no cache).
 */
static int read_cache(const char *path, struct strbuf *sb, int64_t *born)
{
	int fd = xopen(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
	int64_t ino;
	uint64_t size;
	int ret = -1;

	if (fd < 0)
		return -1;
	if (!file_born_at(fd, "", &ino, born, &size)) {
		sb->max = CACHE_MAX_BYTES;
		ret = strbuf_read_fd(sb, fd, size + 1) < 0 ? -1 : 0;
	}
	close(fd);
	return ret;
}

/*
 * Is the database at db the one the cache, born at cache_born, records?
 * Its inode alone does not tell: a file made after another was removed
 * may be given the freed inode (ext4 gives it to the next file made), as
 * a copy put in the place of the database is.  But the database the
 * cache describes was open while the cache was written, so its inode
 * was taken: any other file with that inode was made after the cache,
 * and is born in the same tick of the file clock (a few ms) or later.
 * So the database must be born before the cache, in an earlier tick.
 */
static int same_db(const char *db, int64_t want_ino, int64_t cache_born)
{
	int64_t ino, born;

	return !file_born(db, &ino, &born) && ino == want_ino &&
	       born < cache_born;
}

int dircache_load(struct dircache *c, const char *var_dir,
		  const struct store *s)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = path_join(var_dir, CACHE_FILE);
	char *db = path_join(var_dir, "messages.db");
	int64_t born;
	int ret = -1;
	size_t i;

	dircache_init(c);
	if (read_cache(path, &sb, &born) < 0 || parse(c, &sb) < 0)
		goto out;
	if (!same_db(db, c->db_ino, born))
		goto out;
	for (i = 0; i < DIRCACHE_FILES; i++) {
		char *f = store_abs_path(s, c->files[i].rel);
		int current = file_current(&c->files[i], f);

		free(f);
		if (!current)
			goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		dircache_release(c);
	strbuf_release(&sb);
	free(path);
	free(db);
	return ret;
}

static void format(struct strbuf *sb, const struct dircache *c)
{
	size_t i;

	strbuf_addf(sb, "%s\ndb %" PRId64 "\n", MAGIC, c->db_ino);
	for (i = 0; i < DIRCACHE_FILES; i++) {
		const struct dircache_file *f = &c->files[i];

		if (f->known)
			strbuf_addf(sb, "file %s %" PRId64 " %" PRId64
				    " %" PRId64 "\n", f->rel, f->size, f->ino,
				    f->mtime);
		else
			strbuf_addf(sb, "file %s -\n", f->rel);
	}
	for (i = 0; i < c->nr; i++)
		strbuf_addf(sb, "%c %s\n", kind_char[c->v[i].kind],
			    c->v[i].name);
	strbuf_addstr(sb, "end\n");
}

static const char dir_file_sql[] =
	"SELECT size, ino, mtime FROM log_files WHERE path = :path";

static const char dir_agents_sql[] =
	"SELECT agent_id, name, role FROM agents";

static const char dir_groups_sql[] =
	"SELECT name FROM groups WHERE group_id NOT IN" PROJ_GROUP_DELETED;

/*
 * Every name projection_resolve() finds, with what it finds it to be,
 * and the log files' state as consumed: one read transaction, so that
 * both describe the same commit.
 */
static int read_directory(struct projection *p, struct dircache *c)
{
	sqlite3_stmt *s;
	size_t i;
	int rc;

	for (i = 0; i < DIRCACHE_FILES; i++) {
		struct dircache_file *f = &c->files[i];

		s = proj_stmt(p, ST_DIR_FILE, dir_file_sql);
		proj_bind_text(s, ":path", f->rel);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			f->known = sqlite3_column_type(s, 1) == SQLITE_NULL ||
				   sqlite3_column_type(s, 2) == SQLITE_NULL ?
				   -1 : 1;
			f->size = sqlite3_column_int64(s, 0);
			f->ino = sqlite3_column_int64(s, 1);
			f->mtime = sqlite3_column_int64(s, 2);
		}
		sqlite3_reset(s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return -1;
	}
	s = proj_stmt(p, ST_DIR_AGENTS, dir_agents_sql);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		dircache_add(c, (const char *)sqlite3_column_text(s, 0),
			     RECIPIENT_AGENT);
		dircache_add(c, (const char *)sqlite3_column_text(s, 1),
			     RECIPIENT_AGENT);
		dircache_add(c, (const char *)sqlite3_column_text(s, 2),
			     RECIPIENT_ROLE);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return -1;
	s = proj_stmt(p, ST_DIR_GROUPS, dir_groups_sql);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		dircache_add(c, (const char *)sqlite3_column_text(s, 0),
			     RECIPIENT_GROUP);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return -1;
	dircache_sort(c);
	return 0;
}

int projection_directory(struct projection *p, struct dircache *c)
{
	int ret;

	if (proj_exec(p, "BEGIN") < 0)
		return -1;
	ret = read_directory(p, c);
	if (ret < 0)
		proj_db_error(p, "cannot read the directory");
	proj_exec(p, "COMMIT");
	return ret;
}

/* the tables projection_resolve() reads */
static int directory_table(const char *t)
{
	return t && (!strcmp(t, "agents") || !strcmp(t, "groups") ||
		     !strcmp(t, "group_deletes") || !strcmp(t, "sig_rejects"));
}

/*
 * Called by SQLite for each thing a statement being prepared will do
 * (and for the statements of the triggers it fires): one that writes a
 * directory table marks it (proj_stmt() keeps that mark with the
 * statement), or marks the transaction when it runs at once
 * (sqlite3_exec(), a statement prepared again after a schema change).
 */
static int authorize(void *data, int action, const char *a, const char *b,
		     const char *db, const char *trigger)
{
	struct projection *p = data;

	(void)b;
	(void)trigger;
	switch (action) {
	case SQLITE_INSERT:
	case SQLITE_UPDATE:
	case SQLITE_DELETE:
	case SQLITE_CREATE_TABLE:
	case SQLITE_DROP_TABLE:
		if ((!db || !strcmp(db, "main")) && directory_table(a)) {
			if (p->preparing)
				p->prep_dir = 1;
			else
				p->dir_changed = 1;
		}
		break;
	}
	return SQLITE_OK;
}

/*
 * Just before a commit: one that may change what a name resolves to
 * first removes the directory cache, and keeps its lock until the
 * commit is done (proj_dir_done()), so that nobody writes the cache
 * again from the state before it.  A cache that cannot be removed stops
 * the commit (non-zero: SQLite rolls it back).
 */
static int before_commit(void *data)
{
	struct projection *p = data;

	if (!p->dir_changed || !p->var_dir)
		return 0;
	p->dir_changed = 0;
	return dircache_invalidate(p->var_dir, &p->dir_lock) < 0;
}

static void after_rollback(void *data)
{
	struct projection *p = data;

	p->dir_changed = 0;
}

void proj_dir_done(struct projection *p)
{
	dircache_unlock(&p->dir_lock);
}

/*
 * After each commit in WAL mode, its write lock released: the cache's
 * lock goes too, also after a statement that committed by itself.  This
 * hook takes the place of sqlite3_wal_autocheckpoint()'s, so it does
 * what that one did, at the same default of 1000 frames.
 */
static int after_commit(void *data, sqlite3 *db, const char *name,
			int frames)
{
	proj_dir_done(data);
	if (frames >= 1000)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
					  NULL, NULL);
	return SQLITE_OK;
}

void proj_dir_watch(struct projection *p)
{
	sqlite3_set_authorizer(p->db, authorize, p);
	sqlite3_commit_hook(p->db, before_commit, p);
	sqlite3_rollback_hook(p->db, after_rollback, p);
	sqlite3_wal_hook(p->db, after_commit, p);
}

/*
 * Is the database file p reads no longer the one at its path (removed,
 * or another renamed into its place)?  Unknown counts as moved.
 */
static int db_moved(struct projection *p)
{
	int moved = 0;

	if (sqlite3_file_control(p->db, "main", SQLITE_FCNTL_HAS_MOVED,
				 &moved) != SQLITE_OK)
		return 1;
	return moved;
}

int dircache_write(struct projection *p, const char *var_dir)
{
	struct dircache c;
	struct strbuf sb = STRBUF_INIT;
	char *lock = path_join(var_dir, LOCK_FILE);
	char *path = path_join(var_dir, CACHE_FILE);
	char *db = path_join(var_dir, "messages.db");
	int64_t ino, born;
	int fd = -1, ret = 0, r;
	size_t i;

	dircache_init(&c);
	/*
	 * Under the lock, so that no commit that changes the directory
	 * falls between the read and the rename; somebody holding it
	 * is changing it: the next reader writes the cache
	 */
	r = lock_take(lock, LOCK_EX, 0, 0600, &fd);
	if (r == THRUM_EBUSY)
		goto out;
	if (r < 0) {
		ret = -1;
		goto out;
	}
	/* no birth time, no cache: it could not be checked */
	if (file_born(db, &ino, &born) < 0)
		goto out;
	if (projection_directory(p, &c) < 0) {
		ret = -1;
		goto out;
	}
	/* a file read without its stat recorded cannot be checked */
	for (i = 0; i < DIRCACHE_FILES; i++)
		if (c.files[i].known < 0)
			goto out;
	/*
	 * what was read must be the database at that inode: one renamed
	 * into its place since p opened it (a rebuild) is not what p read
	 */
	if (db_moved(p))
		goto out;
	c.db_ino = ino;
	format(&sb, &c);
	ret = write_file_derived(path, sb.buf, sb.len, 0644);
out:
	lock_release(fd);
	dircache_release(&c);
	strbuf_release(&sb);
	free(lock);
	free(path);
	free(db);
	return ret;
}

int dircache_invalidate(const char *var_dir, int *fd)
{
	char *lock, *path;
	int ret = 0;

	if (*fd >= 0)
		return 0;	/* held since the last commit: still removed */
	lock = path_join(var_dir, LOCK_FILE);
	path = path_join(var_dir, CACHE_FILE);
	if (lock_take(lock, LOCK_EX, -1, 0600, fd) < 0)
		ret = -1;
	else if (unlink(path) < 0 && errno != ENOENT)
		ret = error_errno("cannot remove '%s'", path);
	free(lock);
	free(path);
	return ret;
}

void dircache_unlock(int *fd)
{
	lock_release(*fd);
	*fd = -1;
}

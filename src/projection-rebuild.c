/*
 * projection-rebuild.c: a new database from the whole log, made aside and
 * renamed into place (keeping what the log does not record), and the
 * lines this clone wrote that the log lost, written back.
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "store.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

/*
 * A rebuild keeps what the log does not record: the order instants the
 * old database gave to events from the far future (see clamp_ns() in
 * projection-apply.c; taken from the clock when the event first
 * arrived), and the uncommitted lines it holds (see
 * projection_recover()).  An old database that is missing, corrupt or
 * without the tables has none to give.
 */
static void keep_local_state(struct projection *p, const char *old)
{
	sqlite3_stmt *s = NULL;

	if (access(old, F_OK) ||
	    sqlite3_prepare_v2(p->db, "ATTACH :path AS old", -1, &s, NULL))
		goto out;
	proj_bind_text(s, ":path", old);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto out;
	proj_try_exec(p, "INSERT OR IGNORE INTO clamped SELECT event_id, ns"
		    " FROM old.clamped");
	proj_try_exec(p, "INSERT OR IGNORE INTO pending SELECT path, offset, line"
		    " FROM old.pending");
	proj_try_exec(p, "DETACH old");
out:
	sqlite3_finalize(s);
}

int projection_rebuild(struct projection **out, const char *var_dir,
		       struct store *s, struct catch_up_stats *stats)
{
	struct projection *p = xcalloc(1, sizeof(*p));
	char *final = proj_db_path(var_dir);
	int fd, ret = -1;

	p->path = xstrfmt("%s.rebuild", final);
	p->var_dir = xstrdup(var_dir);
	p->bulk = 1;
	unlink(p->path);
	if (proj_open_file(p) < 0) {
		error("cannot create the database '%s'", p->path);
		goto out;
	}
	proj_start_trace(p);
	keep_local_state(p, final);
	if (projection_update(p, s, NULL, stats) < 0 ||
	    proj_clean_finish(p) < 0 ||
	    proj_refresh_edited(p) < 0 || proj_query_indexes(p) < 0)
		goto out;
	proj_close_db(p);
	fd = xopen(p->path, O_RDWR, 0);
	if (fd < 0 || fsync(fd) < 0) {
		error_errno("cannot write '%s'", p->path);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	/* the old database, its WAL and shared memory go; the new one comes */
	if (projection_remove(var_dir) < 0)
		goto out;
	if (rename(p->path, final) < 0) {
		error_errno("cannot replace '%s'", final);
		goto out;
	}
	ret = projection_open(out, var_dir);
	if (!ret && proj_exec(*out, "PRAGMA journal_mode = WAL") < 0) {
		projection_free(*out);
		*out = NULL;
		ret = -1;
	}
out:
	if (ret < 0)
		unlink(p->path);
	projection_free(p);
	free(final);
	return ret;
}

/* --- writing back what the log lost --- */

struct pending_line {
	char *path;
	int64_t offset;
	struct strbuf line;
};

static void release_pending(struct pending_line *v, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(v[i].path);
		strbuf_release(&v[i].line);
	}
	free(v);
}

/* where the whole line is in "\n" + file, or -1 */
static int64_t find_line(const struct strbuf *file, const struct strbuf *line)
{
	struct strbuf needle = STRBUF_INIT;
	const char *at;

	strbuf_addch(&needle, '\n');
	strbuf_addbuf(&needle, line);
	strbuf_addch(&needle, '\n');
	at = memmem(file->buf, file->len, needle.buf, needle.len);
	strbuf_release(&needle);
	return at ? at - file->buf : -1;
}

static const char pending_drop_sql[] =
	"DELETE FROM pending WHERE path = :path";

/*
 * The rows of one file, v[0..nr): append those the file lacks, then
 * record where each now is.
 */
static int recover_file(struct projection *p, struct store *s,
			struct pending_line *v, size_t nr, size_t *restored)
{
	char *path = store_abs_path(s, v[0].path);
	struct strbuf file = STRBUF_INIT, add = STRBUF_INIT;
	int64_t base;
	size_t i;
	int ret = -1;

	if (strbuf_read_file(&add, path, 0) < 0) {
		if (errno != ENOENT) {
			error_errno("cannot read '%s'", path);
			goto out;
		}
		strbuf_reset(&add);
	}
	/* a leading "\n" makes the first line findable like the others */
	strbuf_addch(&file, '\n');
	strbuf_addbuf(&file, &add);
	strbuf_reset(&add);
	/* the appender completes a torn last line first */
	base = file.len - 1 + (file.len > 1 && file.buf[file.len - 1] != '\n');
	for (i = 0; i < nr; i++) {
		int64_t at = find_line(&file, &v[i].line);

		if (at >= 0) {
			v[i].offset = at;
			continue;
		}
		v[i].offset = base + add.len;
		strbuf_addbuf(&add, &v[i].line);
		strbuf_addch(&add, '\n');
		(*restored)++;
	}
	if (add.len && store_append_raw(s, v[0].path, &add) < 0)
		goto out;
	if (proj_run_text(p, ST_PENDING_DROP, pending_drop_sql, ":path",
			  v[0].path, "cannot update uncommitted lines") < 0)
		goto out;
	for (i = 0; i < nr; i++)
		if (proj_keep_pending(p, v[i].path, v[i].offset, v[i].line.buf,
				 v[i].line.len) < 0)
			goto out;
	ret = 0;
out:
	strbuf_release(&file);
	strbuf_release(&add);
	free(path);
	return ret;
}

static const char pending_all_sql[] =
	"SELECT path, offset, line FROM pending ORDER BY path, offset";

int projection_recover(struct projection *p, struct store *s,
		       size_t *restored)
{
	struct pending_line *v = NULL;
	size_t nr = 0, alloc = 0, i, start, local = 0;
	sqlite3_stmt *q = proj_stmt(p, ST_PENDING_ALL, pending_all_sql);
	int rc, ret = -1;

	if (!restored)
		restored = &local;
	*restored = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct pending_line *e;

		ALLOC_GROW(v, nr + 1, alloc);
		e = &v[nr++];
		e->path = proj_col_text(q, 0);
		e->offset = sqlite3_column_int64(q, 1);
		strbuf_init(&e->line, 0);
		strbuf_add(&e->line, sqlite3_column_blob(q, 2),
			   sqlite3_column_bytes(q, 2));
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		proj_db_error(p, "cannot read uncommitted lines");
		goto out;
	}
	if (!nr || projection_begin(p) < 0) {
		ret = nr ? -1 : 0;
		goto out;
	}
	for (start = 0, i = 1; i <= nr; i++)
		if (i == nr || strcmp(v[i].path, v[start].path)) {
			if (recover_file(p, s, v + start, i - start,
					 restored) < 0) {
				projection_rollback(p);
				goto out;
			}
			start = i;
		}
	ret = projection_commit(p);
out:
	release_pending(v, nr);
	return ret;
}

#ifndef THRUM_UNIT_TABLES_H
#define THRUM_UNIT_TABLES_H

/*
 * Every row of every table of a projection, as text in a canonical
 * order: what "the same projection" means to the order-independence
 * tests.  Tables are found in the schema (PRAGMA table_list: an FTS
 * table counts once, its shadow tables not at all), so a table added to
 * the projection is compared without a line here; only the bookkeeping
 * of this clone's reading of its files is left out.
 */
#include <sqlite3.h>
#include "strbuf.h"
#include "strvec.h"

static const char *const unit_bookkeeping[] = {
	"log_files", "pending", "skipped_lines",
};

static inline int unit_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static inline int unit_is_bookkeeping(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(unit_bookkeeping) / sizeof(*unit_bookkeeping);
	     i++)
		if (!strcmp(name, unit_bookkeeping[i]))
			return 1;
	return 0;
}

/* one table's rows, sorted, after a "== name" line */
static inline void unit_dump_table(sqlite3 *db, const char *name,
				   struct strbuf *out)
{
	struct strbuf sql = STRBUF_INIT, row = STRBUF_INIT;
	struct strvec rows = STRVEC_INIT;
	sqlite3_stmt *s = NULL;
	size_t i;
	int c;

	strbuf_addf(&sql, "SELECT * FROM \"%s\"", name);
	assert_int_equal(sqlite3_prepare_v2(db, sql.buf, -1, &s, NULL),
			 SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		strbuf_reset(&row);
		for (c = 0; c < sqlite3_column_count(s); c++) {
			const unsigned char *t = sqlite3_column_text(s, c);

			strbuf_addf(&row, "%s%s", c ? "|" : "",
				    t ? (const char *)t : "NULL");
		}
		strvec_push(&rows, row.buf);
	}
	sqlite3_finalize(s);
	qsort(rows.v, rows.nr, sizeof(*rows.v), unit_cmp_str);
	strbuf_addf(out, "== %s %zu\n", name, rows.nr);
	for (i = 0; i < rows.nr; i++)
		strbuf_addf(out, "%s\n", rows.v[i]);
	strvec_clear(&rows);
	strbuf_release(&row);
	strbuf_release(&sql);
}

static inline void unit_dump_tables(sqlite3 *db, struct strbuf *out)
{
	struct strvec names = STRVEC_INIT;
	sqlite3_stmt *s = NULL;
	size_t i;

	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT name FROM pragma_table_list"
		" WHERE schema = 'main' AND type IN ('table', 'virtual')"
		" AND name NOT LIKE 'sqlite_%' ORDER BY name", -1, &s, NULL),
		SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW)
		strvec_push(&names, (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	assert_true(names.nr > 10);
	for (i = 0; i < names.nr; i++)
		if (!unit_is_bookkeeping(names.v[i]))
			unit_dump_table(db, names.v[i], out);
	strvec_clear(&names);
}

#endif

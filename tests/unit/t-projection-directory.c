/*
 * projection-directory: names sort once, in the order projection_resolve()
 * asks (agent, group, role), without control characters; a cache file
 * is used only whole and only while the log files and the database are
 * the ones it records (a copy given the inode of the database it
 * replaced is another); a database put in place while the cache is
 * being written from the one before gives no cache.
 */
#include "unit.h"
#include "unit-scratch.h"
#include "projection-directory.h"
#include "blob-cache.h"
#include "repo.h"
#include "sign.h"
#include "store.h"
#include "strbuf.h"
#include "wrapper.h"

static char tmpdir[] = "/tmp/t-projection-directory-XXXXXX";
static struct repo r;
static struct store s;

static char *at(const char *dir, const char *name)
{
	return path_join(dir, name);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) < 0, 0);
	assert_int_equal(fclose(f), 0);
}

static void add_line(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) < 0, 0);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	char *sync, *var, *db, *events;

	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	sync = at(tmpdir, "sync");
	var = at(tmpdir, "var");
	if (mkdir(sync, 0755) || mkdir(var, 0755))
		return -1;
	memset(&r, 0, sizeof(r));
	r.sync_dir = sync;
	r.var_dir = var;
	store_init(&s, &r);
	db = at(var, "messages.db");
	events = at(sync, STORE_EVENTS_FILE);
	put(db, "a database");
	put(events, "{\"one\":1}\n");
	free(db);
	free(events);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_release(&s);
	unit_rm_rf(tmpdir);
	repo_release(&r);
	memcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6);
	return 0;
}

static int64_t born_ns(const char *path)
{
	struct statx st;

	assert_int_equal(statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW,
			       STATX_BTIME, &st), 0);
	assert_true(st.stx_mask & STATX_BTIME);
	return (int64_t)st.stx_btime.tv_sec * 1000000000 +
	       st.stx_btime.tv_nsec;
}

/*
 * until a file made now is born after path (birth times tick with a
 * clock of a few ms), as the database a cache describes is born before
 * the cache: bounded, 10 000 files
 */
static void tick_after_birth(const char *path)
{
	char *probe = at(tmpdir, "probe");
	int64_t born = born_ns(path);
	int n;

	for (n = 0; n < 10000; n++) {
		int later;

		put(probe, "");
		later = born_ns(probe) > born;
		assert_int_equal(unlink(probe), 0);
		if (later)
			break;
		usleep(100);
	}
	assert_true(n < 10000);
	free(probe);
}

/* the cache text for the files as they are now, with entries after it */
static void write_cache(const char *entries, const char *tail)
{
	struct strbuf sb = STRBUF_INIT;
	struct blob_stat db, ev;
	char *dbp = at(r.var_dir, "messages.db");
	char *evp = at(r.sync_dir, STORE_EVENTS_FILE);
	char *cache = at(r.var_dir, "directory");

	assert_int_equal(blob_stat_key(dbp, &db), 0);
	assert_int_equal(blob_stat_key(evp, &ev), 0);
	tick_after_birth(dbp);
	strbuf_addf(&sb, "thrum-directory 1\ndb %" PRIu64 "\n"
		    "file events.jsonl %" PRIu64 " %" PRIu64 " %" PRId64 "\n"
		    "file messages.jsonl -\n%s%s", db.ino, ev.size, ev.ino,
		    ev.mtime_ns, entries, tail);
	/* made anew, as write_file_derived() makes it (its birth counts) */
	unlink(cache);
	put(cache, sb.buf);
	strbuf_release(&sb);
	free(dbp);
	free(evp);
	free(cache);
}

static int loads(void)
{
	struct dircache c;
	int ret = dircache_load(&c, r.var_dir, &s);

	if (!ret)
		dircache_release(&c);
	return ret;
}

static void names_sort_once_agent_first(void **state)
{
	struct dircache c;
	enum recipient_kind k = RECIPIENT_NONE;

	(void)state;
	dircache_init(&c);
	dircache_add(&c, "ops", RECIPIENT_ROLE);
	dircache_add(&c, "ops", RECIPIENT_GROUP);
	dircache_add(&c, "bob", RECIPIENT_ROLE);
	dircache_add(&c, "bob", RECIPIENT_AGENT);
	dircache_add(&c, "crew", RECIPIENT_GROUP);
	dircache_add(&c, "bad\nname", RECIPIENT_AGENT);
	dircache_add(&c, "", RECIPIENT_AGENT);
	dircache_add(&c, NULL, RECIPIENT_ROLE);
	dircache_sort(&c);
	assert_int_equal(c.nr, 3);
	assert_true(dircache_lookup(&c, "bob", &k));
	assert_int_equal(k, RECIPIENT_AGENT);
	assert_true(dircache_lookup(&c, "ops", &k));
	assert_int_equal(k, RECIPIENT_GROUP);
	assert_true(dircache_lookup(&c, "crew", &k));
	assert_int_equal(k, RECIPIENT_GROUP);
	assert_false(dircache_lookup(&c, "bad\nname", &k));
	assert_false(dircache_lookup(&c, "nobody", &k));
	dircache_release(&c);
}

static void a_current_cache_is_used(void **state)
{
	struct dircache c;
	enum recipient_kind k = RECIPIENT_NONE;

	(void)state;
	write_cache("a alice\ng crew\nr review\n", "end\n");
	assert_int_equal(dircache_load(&c, r.var_dir, &s), 0);
	assert_true(dircache_lookup(&c, "crew", &k));
	assert_int_equal(k, RECIPIENT_GROUP);
	assert_true(dircache_lookup(&c, "review", &k));
	assert_int_equal(k, RECIPIENT_ROLE);
	dircache_release(&c);
}

static void only_a_whole_cache_is_used(void **state)
{
	static const char *const tails[] = {
		"",			/* no end */
		"end\nmore\n",		/* past its end */
		"end",			/* no newline */
		"x bob\nend\n",		/* not a kind */
		"a\nend\n",		/* no name */
		"a zed\na bob\nend\n",	/* not sorted */
		"a bob\na bob\nend\n",	/* twice */
	};
	size_t i;

	(void)state;
	write_cache("", "end\n");
	assert_int_equal(loads(), 0);
	for (i = 0; i < ARRAY_SIZE(tails); i++) {
		write_cache("", tails[i]);
		assert_int_equal(loads(), -1);
	}
}

static void a_changed_log_or_database_is_not_current(void **state)
{
	char *events = at(r.sync_dir, STORE_EVENTS_FILE);
	char *legacy = at(r.sync_dir, STORE_LEGACY_FILE);
	char *db = at(r.var_dir, "messages.db");
	char *other = at(r.var_dir, "other.db");

	(void)state;
	write_cache("a bob\n", "end\n");
	assert_int_equal(loads(), 0);
	/* a line the projection has not read */
	add_line(events, "{\"two\":2}\n");
	assert_int_equal(loads(), -1);
	write_cache("a bob\n", "end\n");
	assert_int_equal(loads(), 0);
	/* a legacy log that was never read appears */
	put(legacy, "{}\n");
	assert_int_equal(loads(), -1);
	assert_int_equal(unlink(legacy), 0);
	assert_int_equal(loads(), 0);
	/* another database in its place */
	put(other, "a database");
	assert_int_equal(rename(other, db), 0);
	assert_int_equal(loads(), -1);
	/*
	 * a copy made where the database was removed: ext4 gives it the
	 * freed inode, and it is another database all the same
	 */
	write_cache("a bob\n", "end\n");
	assert_int_equal(loads(), 0);
	assert_int_equal(unlink(db), 0);
	put(db, "a database");
	assert_int_equal(loads(), -1);
	/* no database */
	assert_int_equal(unlink(db), 0);
	assert_int_equal(loads(), -1);
	free(events);
	free(legacy);
	free(db);
	free(other);
}

/* an unsigned registration of olga, the original's */
#define OLGA "{\"agent_id\":\"olga\",\"event_id\":" \
	"\"evt_01JKM4T2YQ8M3E5X6Z7A9B01\",\"kind\":\"agent\"," \
	"\"module\":\"nav\",\"name\":\"olga\",\"origin_daemon\":" \
	"\"d_01JKM4T2YQ8M3E5X6Z7A9B99\",\"role\":\"pilot\",\"sequence\":1," \
	"\"timestamp\":\"2026-02-03T10:00:01.000Z\"," \
	"\"type\":\"agent.register\",\"v\":1}\n"

/* the real database of var_dir, caught up: what it resolves name to */
static enum recipient_kind truth(const char *var_dir, const char *name)
{
	struct projection *t;
	enum recipient_kind k = RECIPIENT_NONE;

	assert_int_equal(projection_open(&t, var_dir), 0);
	assert_int_equal(projection_update(t, &s, NULL, NULL), 0);
	assert_int_equal(projection_resolve(t, name, &k), 0);
	projection_free(t);
	return k;
}

/*
 * A database renamed into place (a rebuild, a restored copy) while a
 * send that opened the one before writes the cache: the cache must not
 * carry the old database's names under the new one's inode.
 */
static void a_database_replaced_while_the_cache_is_written(void **state)
{
	char *events = at(r.sync_dir, STORE_EVENTS_FILE);
	char *db = at(r.var_dir, "messages.db");
	char *var2 = at(tmpdir, "var2");
	char *db2 = at(var2, "messages.db");
	char *signers = at(tmpdir, "signers");
	struct strbuf line = STRBUF_INIT;
	struct projection *p, *q;
	struct sign_key key;
	struct dircache c;
	enum recipient_kind k = RECIPIENT_NONE;

	(void)state;
	assert_int_equal(unlink(db), 0);
	put(events, OLGA);
	assert_int_equal(projection_open(&p, r.var_dir), 0);
	assert_int_equal(projection_update(p, &s, NULL, NULL), 0);
	assert_int_equal(projection_resolve(p, "olga", &k), 0);
	assert_int_equal(k, RECIPIENT_AGENT);

	/* the same log, projected where a key speaks for olga: she is not */
	assert_int_equal(sign_init(), 0);
	assert_int_equal(sign_keygen(&key), 0);
	strbuf_addstr(&line, "olga ");
	sign_pubkey_text(key.pk, &line);
	strbuf_addch(&line, '\n');
	put(signers, line.buf);
	assert_int_equal(mkdir(var2, 0755), 0);
	assert_int_equal(projection_open(&q, var2), 0);
	assert_int_equal(projection_set_signers(q, signers), 0);
	assert_int_equal(projection_update(q, &s, NULL, NULL), 0);
	assert_int_equal(projection_resolve(q, "olga", &k), 0);
	assert_int_equal(k, RECIPIENT_NONE);
	projection_free(q);
	/* as a rebuild does: the database, its WAL and shared memory go */
	assert_int_equal(projection_remove(r.var_dir), 0);
	assert_int_equal(rename(db2, db), 0);

	/* p still reads the database it opened */
	assert_int_equal(dircache_write(p, r.var_dir), 0);
	projection_free(p);
	if (!dircache_load(&c, r.var_dir, &s)) {
		k = RECIPIENT_NONE;
		dircache_lookup(&c, "olga", &k);
		dircache_release(&c);
		assert_int_equal(k, truth(r.var_dir, "olga"));
	}
	unit_rm_rf(var2);
	strbuf_release(&line);
	free(events);
	free(db);
	free(var2);
	free(db2);
	free(signers);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_sort_once_agent_first),
		cmocka_unit_test_setup_teardown(a_current_cache_is_used,
						setup, teardown),
		cmocka_unit_test_setup_teardown(only_a_whole_cache_is_used,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_changed_log_or_database_is_not_current, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			a_database_replaced_while_the_cache_is_written, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

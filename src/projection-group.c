/*
 * projection-group.c: a group's row (groups) from the facts that count.
 * Every group.create (group_creates) and every field of every
 * group.update (group_updates) is kept with its event; a group is its
 * first create that counts by (instant, event_id), named and described
 * by the newest update of each field that counts.  Whether an event
 * counts is its signature's verdict (projection-sign.c, sig_rejects),
 * which a registration can change after the event arrived: each one
 * derives again the groups its name created or updated, so that a
 * forged create or update (an unsigned or badly signed line naming an
 * actor that has a key) changes no group, in any order of arrival
 * (Documentation/security.adoc, "Group creates and updates").
 */
#include "thrum.h"
#include "projection.h"
#include "projection-internal.h"
#include "event.h"

static const char create_add_sql[] =
	"INSERT OR IGNORE INTO group_creates(group_id, name, description,"
	" created_by, ns, eid) VALUES(:group_id, :name, :description,"
	" :actor, :ts_ns, :event_id)";

static const char update_add_sql[] =
	"INSERT OR IGNORE INTO group_updates(group_id, field, value, ns, eid)"
	" VALUES(:group_id, :field, :value, :ts_ns, :event_id)";

static const char group_clear_sql[] =
	"DELETE FROM groups WHERE group_id = :group_id";

static const char group_derive_sql[] =
	"INSERT INTO groups(group_id, name, description, created_by,"
	" created_ns, eid)"
	" SELECT group_id, name, description, created_by, ns, eid"
	" FROM group_creates c WHERE group_id = :group_id AND"
	PROJ_SIG_COUNTS("c.eid") " ORDER BY ns, eid LIMIT 1";

/* the newest update of field of the group row groups that counts */
#define NEWEST(field) \
	" (SELECT u.value FROM group_updates u" \
	"  WHERE u.group_id = groups.group_id AND u.field = '" field "'" \
	"  AND" PROJ_SIG_COUNTS("u.eid") " ORDER BY u.ns DESC, u.eid DESC" \
	"  LIMIT 1)"

#define ANY(field) \
	" EXISTS (SELECT 1 FROM group_updates u" \
	"  WHERE u.group_id = groups.group_id AND u.field = '" field "'" \
	"  AND" PROJ_SIG_COUNTS("u.eid") ")"

/* an update with an empty name keeps the create's, as the original */
static const char group_fields_sql[] =
	"UPDATE groups SET name = COALESCE(" NEWEST("name") ", name),"
	" description = CASE WHEN" ANY("description") " THEN"
	NEWEST("description") " ELSE description END"
	" WHERE group_id = :group_id";

/* the groups whose creates or updates speak for who */
static const char groups_of_sql[] =
	"SELECT c.group_id FROM group_creates c JOIN event_sigs e"
	" ON e.event_id = c.eid WHERE e.agent_id = :who"
	" UNION SELECT u.group_id FROM group_updates u JOIN event_sigs e"
	" ON e.event_id = u.eid WHERE e.agent_id = :who";

static int derive(struct projection *p, const char *group_id)
{
	static const struct {
		enum stmt_id id;
		const char *sql;
	} steps[] = {
		{ ST_GROUP_CLEAR, group_clear_sql },
		{ ST_GROUP_DERIVE, group_derive_sql },
		{ ST_GROUP_FIELDS, group_fields_sql },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(steps); i++)
		if (proj_run_text(p, steps[i].id, steps[i].sql, ":group_id",
				  group_id, "cannot store a group") < 0)
			return -1;
	return 0;
}

int proj_group_create(struct projection *p, const struct event *ev)
{
	sqlite3_stmt *s = proj_stmt(p, ST_GROUP_CREATE, create_add_sql);

	proj_bind_text(s, ":group_id", ev->group_id);
	proj_bind_text(s, ":name", ev->name);
	proj_bind_text(s, ":description", ev->description);
	proj_bind_text(s, ":actor", ev->actor);
	proj_bind_int(s, ":ts_ns", ev->ts_ns);
	proj_bind_text(s, ":event_id", ev->event_id);
	if (proj_run(p, s, "cannot store a group") < 0)
		return -1;
	return derive(p, ev->group_id);
}

int proj_group_update(struct projection *p, const struct event *ev)
{
	const char *field[2] = { "name", "description" };
	const char *value[2] = { ev->new_name, ev->new_description };
	int i;

	/* a name nobody could address is not taken */
	if (value[0] && !event_valid_name(value[0], NULL))
		value[0] = NULL;
	for (i = 0; i < 2; i++) {
		sqlite3_stmt *s;

		if (!value[i])
			continue;
		s = proj_stmt(p, ST_GROUP_UPDATE_ADD, update_add_sql);
		proj_bind_text(s, ":group_id", ev->group_id);
		proj_bind_text(s, ":field", field[i]);
		/* an empty description clears it, as the original does */
		proj_bind_text(s, ":value", *value[i] ? value[i] : NULL);
		proj_bind_int(s, ":ts_ns", ev->ts_ns);
		proj_bind_text(s, ":event_id", ev->event_id);
		if (proj_run(p, s, "cannot store a group update") < 0)
			return -1;
	}
	return derive(p, ev->group_id);
}

int proj_group_rejudge(struct projection *p, const char *who)
{
	sqlite3_stmt *s = proj_stmt(p, ST_GROUPS_OF, groups_of_sql);

	proj_bind_text(s, ":who", who);
	return proj_each_text(p, s, "cannot read groups", derive);
}

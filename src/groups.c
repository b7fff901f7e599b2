/*
 * Groups (groups.h): each change checked against the directory, then one
 * append.
 */
#include "thrum.h"
#include "groups.h"
#include "core.h"
#include "event.h"
#include "identity.h"
#include "projection.h"
#include "ulid.h"
#include "usage.h"
#include "wrapper.h"

static int new_event(struct core *c, struct event *ev, enum event_type type,
		     const char *group_id)
{
	if (core_need_writer(c) < 0 || core_new_event(c, ev, type) < 0)
		return -1;
	ev->group_id = xstrdup(group_id);
	ev->actor = xstrdup(c->me->agent_id);
	return 0;
}

static int find_group(struct core *c, const char *name, char **id)
{
	int ret = projection_group_id(c->proj, name[0] == '@' ? name + 1
							 : name, id);

	if (ret == THRUM_ENOTFOUND)
		return error("no group '%s'", name);
	return ret;
}

/* name names no agent and no group (a role may share it); 0 or -1 */
static int name_is_free(struct core *c, const char *name)
{
	enum recipient_kind kind;

	if (projection_resolve(c->proj, name, &kind) < 0)
		return -1;
	if (kind == RECIPIENT_AGENT || kind == RECIPIENT_GROUP)
		return error("'%s' names %s already", name,
			     kind == RECIPIENT_AGENT ? "an agent" : "a group");
	return 0;
}

int group_create(struct core *c, const char *name, const char *description,
		 char **group_id)
{
	struct event ev = EVENT_INIT;
	struct event *list[1] = { &ev };
	const char *why;
	char *gid = ulid_new_id("grp_");
	int ret = -1;

	if (name[0] == '@')
		name++;
	if (!event_valid_name(name, &why)) {
		error("invalid group name '%s': %s", name, why);
		goto out;
	}
	if (name_is_free(c, name) < 0 ||
	    new_event(c, &ev, EV_GROUP_CREATE, gid) < 0)
		goto out;
	ev.name = xstrdup(name);
	ev.description = xstrdup_or_null(description);
	if (core_append(c, NULL, list, 1) < 0)
		goto out;
	*group_id = gid;
	gid = NULL;
	ret = 0;
out:
	free(gid);
	event_release(&ev);
	return ret;
}

/* "@x" / "role:x" / "*" -> member type and value */
static int parse_member(struct core *c, const char *arg, const char **type,
			const char **value)
{
	enum recipient_kind kind;

	if (!strcmp(arg, "*") || !strcmp(arg, "@everyone")) {
		*type = "all";
		*value = "*";
		return 0;
	}
	if (!strncmp(arg, "role:", 5)) {
		*type = "role";
		*value = arg + 5;
		return event_valid_name(*value, NULL) ? 0
			: error("invalid role '%s'", *value);
	}
	*value = arg[0] == '@' ? arg + 1 : arg;
	if (projection_resolve(c->proj, *value, &kind) < 0)
		return -1;
	if (kind == RECIPIENT_AGENT)
		*type = "agent";
	else if (kind == RECIPIENT_ROLE)
		*type = "role";
	else
		return error("unknown member '%s': no agent or role of that "
			     "name", arg);
	return 0;
}

int group_change_members(struct core *c, int add, const char *name,
			 const char *const *members, size_t nr)
{
	struct event *evs = xcalloc(nr, sizeof(*evs));
	struct event **list = xcalloc(nr, sizeof(*list));
	char *gid = NULL;
	size_t i;
	int ret = -1;

	if (find_group(c, name, &gid) < 0)
		goto out;
	for (i = 0; i < nr; i++) {
		const char *type, *value;

		if (parse_member(c, members[i], &type, &value) < 0 ||
		    new_event(c, &evs[i], add ? EV_GROUP_MEMBER_ADD
					      : EV_GROUP_MEMBER_REMOVE,
			      gid) < 0)
			goto out;
		evs[i].member_type = xstrdup(type);
		evs[i].member_value = xstrdup(value);
		list[i] = &evs[i];
	}
	/* all or nothing: nothing is written unless every member resolved */
	if (core_append(c, NULL, list, nr) < 0)
		goto out;
	ret = 0;
out:
	for (i = 0; i < nr; i++)
		event_release(&evs[i]);
	free(evs);
	free(list);
	free(gid);
	return ret;
}

int group_delete(struct core *c, const char *name)
{
	struct event ev = EVENT_INIT;
	struct event *list[1] = { &ev };
	char *gid = NULL;
	int ret = -1;

	if (find_group(c, name, &gid) < 0 ||
	    new_event(c, &ev, EV_GROUP_DELETE, gid) < 0 ||
	    core_append(c, NULL, list, 1) < 0)
		goto out;
	ret = 0;
out:
	event_release(&ev);
	free(gid);
	return ret;
}

int group_update(struct core *c, const char *name, const char *new_name,
		 const char *description)
{
	struct event ev = EVENT_INIT;
	struct event *list[1] = { &ev };
	char *gid = NULL;
	int ret = -1;

	if (new_name && new_name[0] == '@')
		new_name++;
	if (find_group(c, name, &gid) < 0)
		goto out;
	if (new_name && strcmp(new_name, name[0] == '@' ? name + 1 : name) &&
	    name_is_free(c, new_name) < 0)
		goto out;
	if (new_event(c, &ev, EV_GROUP_UPDATE, gid) < 0)
		goto out;
	ev.new_name = xstrdup_or_null(new_name);
	ev.new_description = xstrdup_or_null(description);
	if (core_append(c, NULL, list, 1) < 0)
		goto out;
	ret = 0;
out:
	event_release(&ev);
	free(gid);
	return ret;
}

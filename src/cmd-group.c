/*
 * git thrum group create|add|remove|list|delete: named audiences.  A
 * member is an agent (@name), a role (role:<name>, or @name naming a role
 * no agent has as a name) or everyone (*).  Every change is an event in
 * events.jsonl, so groups travel with sync like messages do.
 */
#include "thrum.h"
#include <json-c/json.h>
#include "cmd.h"
#include "event.h"
#include "format.h"
#include "projection.h"
#include "strbuf.h"
#include "ulid.h"
#include "usage.h"
#include "utf8.h"
#include "wrapper.h"

static const char *const group_usage[] = {
	"git thrum group create <name> [--description <text>]",
	"git thrum group add <name> <member>...",
	"git thrum group remove <name> <member>...",
	"git thrum group list [--json]",
	"git thrum group delete <name>",
	NULL
};

struct group_opts {
	const char *description;
	int json;
};

static void group_opt(int opt, const char *arg, void *payload)
{
	struct group_opts *o = payload;

	if (opt == 'd')
		o->description = arg;
	else if (opt == 'j')
		o->json = 1;
}

static int new_event(struct thrum_ctx *ctx, struct event *ev,
		     enum event_type type, const char *group_id)
{
	const char *origin = ctx_origin(ctx);

	if (!origin || event_init_new(ev, type, origin) < 0)
		return -1;
	ev->group_id = xstrdup(group_id);
	ev->actor = xstrdup(ctx->me.agent_id);
	return 0;
}

static int find_group(struct thrum_ctx *ctx, const char *name, char **id)
{
	int ret = projection_group_id(ctx->proj, name[0] == '@' ? name + 1
							   : name, id);

	if (ret == THRUM_ENOTFOUND)
		return error("no group '%s'", name);
	return ret;
}

static int create(struct thrum_ctx *ctx, const char *name,
		  const struct group_opts *o)
{
	struct event ev = EVENT_INIT;
	struct event *list[1] = { &ev };
	enum recipient_kind kind;
	const char *why;
	char *gid = ulid_new_id("grp_");
	int ret = 1;

	if (name[0] == '@')
		name++;
	if (!event_valid_name(name, &why)) {
		error("invalid group name '%s': %s", name, why);
		goto out;
	}
	if (projection_resolve(ctx->proj, name, &kind) < 0)
		goto out;
	if (kind == RECIPIENT_AGENT || kind == RECIPIENT_GROUP) {
		error("'%s' names %s already", name,
		      kind == RECIPIENT_AGENT ? "an agent" : "a group");
		goto out;
	}
	if (new_event(ctx, &ev, EV_GROUP_CREATE, gid) < 0)
		goto out;
	ev.name = xstrdup(name);
	ev.description = xstrdup_or_null(o->description);
	if (ctx_append(ctx, NULL, list, 1) < 0)
		goto out;
	printf("created group '%s' (%s)\n", name, gid);
	ret = 0;
out:
	free(gid);
	event_release(&ev);
	return ret;
}

/* "@x" / "role:x" / "*" -> member type and value */
static int parse_member(struct thrum_ctx *ctx, const char *arg,
			const char **type, const char **value)
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
	if (projection_resolve(ctx->proj, *value, &kind) < 0)
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

static int change_members(struct thrum_ctx *ctx, int add, const char *name,
			  int argc, const char **argv)
{
	struct event *evs = xcalloc(argc, sizeof(*evs));
	struct event **list = xcalloc(argc, sizeof(*list));
	char *gid = NULL;
	int i, ret = 1;

	if (find_group(ctx, name, &gid) < 0)
		goto out;
	for (i = 0; i < argc; i++) {
		const char *type, *value;

		if (parse_member(ctx, argv[i], &type, &value) < 0 ||
		    new_event(ctx, &evs[i], add ? EV_GROUP_MEMBER_ADD
						: EV_GROUP_MEMBER_REMOVE,
			      gid) < 0)
			goto out;
		evs[i].member_type = xstrdup(type);
		evs[i].member_value = xstrdup(value);
		list[i] = &evs[i];
	}
	/* all or nothing: nothing is written unless every member resolved */
	if (ctx_append(ctx, NULL, list, argc) < 0)
		goto out;
	printf("%s %d member%s %s '%s'\n", add ? "added" : "removed", argc,
	       argc == 1 ? "" : "s", add ? "to" : "from", name);
	ret = 0;
out:
	for (i = 0; i < argc; i++)
		event_release(&evs[i]);
	free(evs);
	free(list);
	free(gid);
	return ret;
}

static int delete(struct thrum_ctx *ctx, const char *name)
{
	struct event ev = EVENT_INIT;
	struct event *list[1] = { &ev };
	char *gid = NULL;
	int ret = 1;

	if (find_group(ctx, name, &gid) < 0 ||
	    new_event(ctx, &ev, EV_GROUP_DELETE, gid) < 0 ||
	    ctx_append(ctx, NULL, list, 1) < 0)
		goto out;
	printf("deleted group '%s'\n", name);
	ret = 0;
out:
	event_release(&ev);
	free(gid);
	return ret;
}

static int list(struct thrum_ctx *ctx, int json)
{
	struct group_list l = GROUP_LIST_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t i, j;

	if (projection_groups(ctx->proj, &l) < 0)
		return 1;
	if (json) {
		json_object *o = json_object_new_object();
		json_object *arr = json_object_new_array();

		for (i = 0; i < l.nr; i++) {
			json_object *g = json_object_new_object();
			json_object *m = json_object_new_array();
			const struct group_info *gi = &l.items[i];

			json_object_object_add(g, "group_id",
				json_object_new_string(gi->group_id));
			json_object_object_add(g, "name",
				json_object_new_string(gi->name));
			json_object_object_add(g, "description", gi->description ?
				json_object_new_string(gi->description) : NULL);
			json_object_object_add(g, "created_by", gi->created_by ?
				json_object_new_string(gi->created_by) : NULL);
			for (j = 0; j < gi->members.nr; j++)
				json_object_array_add(m,
					json_object_new_string(gi->members.v[j]));
			json_object_object_add(g, "members", m);
			json_object_array_add(arr, g);
		}
		json_object_object_add(o, "groups", arr);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (!l.nr) {
		printf("no groups\n");
	}
	for (i = 0; !json && i < l.nr; i++) {
		const struct group_info *gi = &l.items[i];

		printf("%s:", format_safe(&sb, gi->name));
		for (j = 0; j < gi->members.nr; j++)
			printf(" %s", format_safe(&sb, gi->members.v[j]));
		if (!gi->members.nr)
			printf(" (no members)");
		if (gi->description)
			printf("  # %s", format_safe(&sb, gi->description));
		putchar('\n');
	}
	strbuf_release(&sb);
	group_list_release(&l);
	return 0;
}

int cmd_group(int argc, const char **argv, struct thrum_ctx *ctx)
{
	static const struct option opts[] = {
		{ "description", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct group_opts o = { 0 };
	const char *sub;
	size_t bad;
	int i, n;

	if (argc < 2)
		usage_msg(group_usage, "want a subcommand");
	if (!strcmp(argv[1], "-h"))
		usage_help(group_usage);
	sub = argv[1];
	i = 1 + parse_options(argc - 1, argv + 1, opts, group_usage,
			      group_opt, &o);
	n = argc - i;
	if ((bad = utf8_invalid_at(o.description)))
		usage_msg(group_usage, "--description is not valid UTF-8 "
			  "(byte %zu)", bad);
	ctx_need_projection(ctx);
	if (!strcmp(sub, "list")) {
		if (n)
			usage_msg(group_usage, "too many arguments");
		return list(ctx, o.json);
	}
	if (ctx_need_me(ctx) < 0)
		return 1;
	if (!strcmp(sub, "create")) {
		if (n != 1)
			usage_msg(group_usage, "want: group create <name>");
		return create(ctx, argv[i], &o);
	}
	if (!strcmp(sub, "add") || !strcmp(sub, "remove")) {
		if (n < 2)
			usage_msg(group_usage, "want a group and members");
		return change_members(ctx, !strcmp(sub, "add"), argv[i],
				      n - 1, argv + i + 1);
	}
	if (!strcmp(sub, "delete")) {
		if (n != 1)
			usage_msg(group_usage, "want: group delete <name>");
		return delete(ctx, argv[i]);
	}
	usage_msg(group_usage, "unknown subcommand '%s'", sub);
}

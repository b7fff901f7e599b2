/*
 * git thrum group create|add|remove|list|update|delete: named audiences; the
 * changes are the core's (groups.h), the printing is here.
 */
#include "thrum.h"
#include <json-c/json.h>
#include "cmd.h"
#include "groups.h"
#include "event.h"
#include "format.h"
#include "parse-options.h"
#include "projection.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

static struct {
	const char *description;
	const char *name, *new_description;
	int json;
} opt;

static int create(int argc, const char **argv, struct thrum_ctx *ctx)
{
	char *gid = NULL;

	if (group_create(ctx_core(ctx), argv[0], opt.description, &gid) < 0)
		return 1;
	printf("created group '%s' (%s)\n",
	       argv[0][0] == '@' ? argv[0] + 1 : argv[0], gid);
	free(gid);
	return 0;
}

static int change_members(struct thrum_ctx *ctx, int add, int argc,
			  const char **argv)
{
	if (group_change_members(ctx_core(ctx), add, argv[0], argv + 1,
				 argc - 1) < 0)
		return 1;
	printf("%s %d member%s %s '%s'\n", add ? "added" : "removed",
	       argc - 1, argc == 2 ? "" : "s", add ? "to" : "from", argv[0]);
	return 0;
}

static int add(int argc, const char **argv, struct thrum_ctx *ctx)
{
	return change_members(ctx, 1, argc, argv);
}

static int remove_members(int argc, const char **argv, struct thrum_ctx *ctx)
{
	return change_members(ctx, 0, argc, argv);
}

static int delete(int argc, const char **argv, struct thrum_ctx *ctx)
{
	if (group_delete(ctx_core(ctx), argv[0]) < 0)
		return 1;
	printf("deleted group '%s'\n", argv[0]);
	return 0;
}

static const struct thrum_option update_options[] = {
	OPT_TEXT("name", &opt.name, "<new-name>", "its new name"),
	OPT_TEXT("description", &opt.new_description, "<text>",
		 "what the group is for (\"\" clears it)"),
	OPT_END()
};

static const struct cmd_args update_args = {
	{ "git thrum group update <name> [--name <new-name>] "
	  "[--description <text>]" },
	update_options, 1, 1, "want: group update <name>"
};

static int update(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct strbuf sb = STRBUF_INIT;
	const char *why = NULL;
	const char *to = opt.name && opt.name[0] == '@' ? opt.name + 1
							 : opt.name;

	if (!opt.name && !opt.new_description)
		usage_opt_msg(update_args.usage, update_options,
			      "nothing to update: want --name or --description");
	if (to && !event_valid_name(to, &why))
		usage_opt_msg(update_args.usage, update_options,
			      "invalid group name '%s': %s",
			      format_safe(&sb, to), why);
	if (group_update(ctx_core(ctx), argv[0], to, opt.new_description) < 0)
		return 1;
	printf("updated group '%s'\n", to ? to
	       : argv[0][0] == '@' ? argv[0] + 1 : argv[0]);
	strbuf_release(&sb);
	return 0;
}

static int list(int argc, const char **argv, struct thrum_ctx *ctx)
{
	int json = opt.json;

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
		format_json(o, stdout);
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

static const struct thrum_option create_options[] = {
	OPT_TEXT("description", &opt.description, "<text>",
		 "what the group is for"),
	OPT_END()
};

static const struct thrum_option list_options[] = {
	OPT_JSON(&opt.json),
	OPT_END()
};


static const struct cmd_args create_args = {
	{ "git thrum group create <name> [--description <text>]" },
	create_options, 1, 1, "want: group create <name>"
};
static const struct cmd_args add_args = {
	{ "git thrum group add <name> <member>..." },
	NULL, 2, -1, "want a group and members"
};
static const struct cmd_args remove_args = {
	{ "git thrum group remove <name> <member>..." },
	NULL, 2, -1, "want a group and members"
};
static const struct cmd_args list_args = {
	{ "git thrum group list [--json]" }, list_options
};
static const struct cmd_args delete_args = {
	{ "git thrum group delete <name>" },
	NULL, 1, 1, "want: group delete <name>"
};

static const struct cmd_spec group_sub[] = {
	{ "create", create, NEED_ME, "a new group", &create_args },
	{ "add", add, NEED_ME, "add members", &add_args },
	{ "remove", remove_members, NEED_ME, "remove members", &remove_args },
	{ "list", list, 0, "every group and its members", &list_args },
	{ "update", update, NEED_ME, "rename or describe a group",
	  &update_args },
	{ "delete", delete, NEED_ME, "delete a group", &delete_args },
	{ NULL }
};

const struct cmd_args group_args = { .sub = group_sub };

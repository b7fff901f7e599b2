#ifndef THRUM_GROUPS_H
#define THRUM_GROUPS_H

/*
 * Groups, in the core (core.h): named audiences.  A member is an agent
 * (@name), a role (role:<name>, or @name naming a role no agent has as a
 * name) or everyone (*).  Every change is an event in events.jsonl, so
 * groups travel with sync like messages do.  c->proj must hold the
 * directory (agents, roles, groups).  0, or -1 after error().
 */
struct core;

/* a new group; its id in *group_id (caller frees) */
int group_create(struct core *c, const char *name, const char *description,
		 char **group_id);

/* add (add set) or remove members[0..nr), all or nothing */
int group_change_members(struct core *c, int add, const char *name,
			 const char *const *members, size_t nr);

int group_delete(struct core *c, const char *name);

/*
 * Rename (new_name) and/or describe (description; "" clears it) the
 * group name: one group.update, with the fields the original uses.
 */
int group_update(struct core *c, const char *name, const char *new_name,
		 const char *description);

#endif

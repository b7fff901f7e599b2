#ifndef THRUM_AGENTS_H
#define THRUM_AGENTS_H

/*
 * Agents, in the core (core.h): quickstart creates or updates this work
 * tree's identity and opens a session, in one append: agent.register
 * (when the agent is new, or its role, module or work tree changed), then
 * what session_start() writes (session.h).  The identity file is written
 * after the log, never before.
 */
struct core;
struct identity;

struct agent_start {
	const char *name;	/* valid (event_valid_name) */
	const char *role;	/* valid */
	const char *module;	/* non-empty */
	const char *intent;	/* NULL: keep the one it had */
	const char *worktree;
	const char *hostname;	/* NULL or "": not recorded */
};

/*
 * *id (from IDENTITY_INIT; caller releases) is the identity saved;
 * *updated is 1 when it existed before.  0, or -1 after error().
 */
int agent_quickstart(struct core *c, const struct agent_start *rq,
		     struct identity *id, int *updated);

/*
 * Delete name, an agent of this work tree (its identity file here; any
 * other name is refused): agent.cleanup in events.jsonl, as the original
 * writes it, then the identity file goes.  Every clone's projection then
 * drops the agent with its messages and sessions; the log keeps every
 * line.  *agent_id (caller frees) is the agent's id.  0, or -1 after
 * error().
 */
int agent_delete(struct core *c, const char *name, char **agent_id);

#endif

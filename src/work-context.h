#ifndef THRUM_WORK_CONTEXT_H
#define THRUM_WORK_CONTEXT_H

/*
 * Work contexts: what an agent's work tree holds now (its branch, the
 * files its commits changed against the upstream, its uncommitted
 * files), read with the user's `git`, published as agent.update events
 * while the agent's session is open (gitthrum-format(5)) and read live
 * from this machine's work trees.  Strings are owned by the structs
 * filled, freed with event_work_context_release() / work_list_release().
 */
#include "event.h"

struct core;
struct repo;
struct store;
struct work_list;

/* a context is looked at, and published, at most this often per agent */
#define WORK_CONTEXT_INTERVAL_NS (60LL * 1000000000)

/*
 * The git state of the work tree at dir into wc (released first):
 * worktree_path, branch (NULL when detached), changed_files (from the
 * merge base of HEAD and its upstream, or the remote's default branch,
 * to HEAD) and uncommitted_files (changed against HEAD, staged or not,
 * and untracked ones git does not ignore), each sorted.  session_id,
 * intent and git_updated_at are left to the caller.  0, or -1 when dir is
 * no work tree git can read (nothing reported).
 */
int work_context_read(const char *dir, struct event_work_context *wc);

/*
 * Publish c->me's work context for its work tree dir, when c->me has an
 * open session, when its last look was WORK_CONTEXT_INTERVAL_NS ago or
 * more, and only when the context differs from the one published last
 * (remembered in var/work/<name>).  1 published, 0 nothing to do, -1
 * after error().
 */
int work_context_publish(struct core *c, const char *dir);

/*
 * Publish, as above, for every identity with an open session in every
 * work tree of r's repository (the daemon's hook), appending to store
 * with origin.  Looks at the work trees at most once per interval (the
 * stamp var/work/.daemon).  The number published, or -1 after error().
 */
int work_context_publish_all(const struct repo *r, struct store *store,
			     const char *origin);

/*
 * Every identity with an open session in the work trees of r's
 * repository, with its context read now (row->live set), appended to
 * out.  0, or -1 after error().
 */
int work_context_live(const struct repo *r, struct work_list *out);

/*
 * Move the rows of live into dst, each replacing dst's row of the same
 * agent and session (what the work tree holds now beats what was
 * published), and keep dst ordered by name, agent and session.
 */
void work_list_merge_live(struct work_list *dst, struct work_list *live);

#endif

#ifndef THRUM_UNIT_STORE_H
#define THRUM_UNIT_STORE_H

/*
 * The scratch directory of the unit tests that stand on a store: tmpdir
 * (a mkdtemp() template) holding sync/ (with sync/messages/) and var/,
 * as r's sync_dir and var_dir; and, after the tests, all of it gone.
 */
#include "unit-scratch.h"
#include "repo.h"
#include "store.h"

/* 0, or -1 when a directory cannot be made */
static inline int unit_store_dirs(char *tmpdir, struct repo *r)
{
	char *msgs;
	int ret;

	if (!mkdtemp(tmpdir))
		return -1;
	memset(r, 0, sizeof(*r));
	r->sync_dir = path_join(tmpdir, "sync");
	r->var_dir = path_join(tmpdir, "var");
	msgs = path_join(r->sync_dir, "messages");
	ret = mkdir(r->sync_dir, 0755) || mkdir(r->var_dir, 0755) ||
	      mkdir(msgs, 0755) ? -1 : 0;
	free(msgs);
	return ret;
}

/* release s and r, and remove tmpdir and everything under it */
static inline void unit_store_cleanup(char *tmpdir, struct repo *r,
				      struct store *s)
{
	store_release(s);
	unit_rm_rf(tmpdir);
	repo_release(r);
}

#endif

/*
 * identity.c: who "I" am in this work tree.  Files are written with a
 * temporary name and renamed into place, so a reader never sees half a
 * file; they are parsed by the event codec (the bare form of an
 * agent.register event), so there is one JSON reader in the project.
 */
#include "thrum.h"
#include "identity.h"
#include "event.h"
#include "repo.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

void identity_release(struct identity *id)
{
	free(id->name);
	free(id->agent_id);
	free(id->kind);
	free(id->role);
	free(id->module);
	free(id->display);
	free(id->worktree);
	free(id->session_id);
	free(id->intent);
	memset(id, 0, sizeof(*id));
}

static char *identity_dir(const struct repo *r)
{
	return path_join(r->local_thrum_dir, "identities");
}

static char *identity_path(const struct repo *r, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	char *dir = identity_dir(r);

	strbuf_addf(&sb, "%s/%s.json", dir, name);
	free(dir);
	return strbuf_detach(&sb, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void identity_list(const struct repo *r, struct strvec *out)
{
	char *dir = identity_dir(r);
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t first = out->nr;

	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *name;

		if (len <= 5 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		name = xstrndup(de->d_name, len - 5);
		if (event_valid_name(name, NULL))
			strvec_push(out, name);
		free(name);
	}
	if (d)
		closedir(d);
	free(dir);
	qsort(out->v + first, out->nr - first, sizeof(char *), cmp_str);
}

int identity_load(const struct repo *r, const char *name,
		  struct identity *out)
{
	char *path = identity_path(r, name);
	struct strbuf sb = STRBUF_INIT;
	struct event ev = EVENT_INIT;
	const char *why = NULL;
	int ret;

	sb.max = 1 << 20;
	if (strbuf_read_file(&sb, path, 512) < 0) {
		ret = errno == ENOENT ? THRUM_ENOTFOUND
				      : error_errno("cannot read '%s'", path);
		goto out;
	}
	strbuf_rtrim(&sb);
	if (event_parse(&ev, sb.buf, sb.len, EVENT_PARSE_BARE, &why) < 0) {
		error("corrupt identity file '%s': %s", path, why);
		ret = THRUM_EINVALID;
		goto out;
	}
	if (!ev.name || strcmp(ev.name, name) || !ev.agent_id) {
		error("corrupt identity file '%s': it does not name agent '%s'",
		      path, name);
		ret = THRUM_EINVALID;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->name = ev.name;
	out->agent_id = ev.agent_id;
	out->kind = ev.kind;
	out->role = ev.role;
	out->module = ev.module;
	out->display = ev.display;
	out->worktree = ev.worktree;
	out->session_id = ev.session_id;
	out->intent = ev.intent;
	ev.name = ev.agent_id = ev.kind = ev.role = ev.module = NULL;
	ev.display = ev.worktree = ev.session_id = ev.intent = NULL;
	ret = 0;
out:
	event_release(&ev);
	strbuf_release(&sb);
	free(path);
	return ret;
}

int identity_select(const struct repo *r, struct identity *out)
{
	const char *env = getenv("THRUM_NAME");
	struct strvec names = STRVEC_INIT;
	const char *why;
	int ret;

	if (env && *env) {
		if (!event_valid_name(env, &why))
			return error("invalid THRUM_NAME '%s': %s", env, why);
		ret = identity_load(r, env, out);
		if (ret == THRUM_ENOTFOUND)
			return error("no identity '%s' in this work tree "
				     "(THRUM_NAME); create it with 'git thrum "
				     "quickstart --name %s --role R --module M'",
				     env, env);
		return ret < 0 ? -1 : 0;
	}
	identity_list(r, &names);
	if (!names.nr) {
		ret = error("no identity in this work tree; create one with "
			    "'git thrum quickstart --name N --role R "
			    "--module M'");
	} else if (names.nr > 1) {
		struct strbuf list = STRBUF_INIT;
		size_t i;

		for (i = 0; i < names.nr; i++)
			strbuf_addf(&list, "%s%s", i ? ", " : "", names.v[i]);
		ret = error("several identities here (%s): set THRUM_NAME to "
			    "choose one", list.buf);
		strbuf_release(&list);
	} else {
		ret = identity_load(r, names.v[0], out) < 0 ? -1 : 0;
	}
	strvec_clear(&names);
	return ret;
}

int identity_save(const struct repo *r, const struct identity *id)
{
	struct event ev = EVENT_INIT;
	struct strbuf line = STRBUF_INIT;
	char *dir = identity_dir(r), *path = identity_path(r, id->name);
	int ret = -1;

	/* borrow the strings; ev is not released, only cleared */
	ev.name = id->name;
	ev.agent_id = id->agent_id;
	ev.kind = id->kind;
	ev.role = id->role;
	ev.module = id->module;
	ev.display = id->display;
	ev.worktree = id->worktree;
	ev.session_id = id->session_id;
	ev.intent = id->intent;
	if (event_serialize(&ev, &line, EVENT_PARSE_BARE) < 0) {
		error("cannot serialise identity '%s'", id->name);
		goto out;
	}
	strbuf_addch(&line, '\n');
	if (mkdir_p(dir, 0700) < 0) {
		error_errno("cannot create '%s'", dir);
		goto out;
	}
	if (write_file_atomic(path, line.buf, line.len, 0600) < 0)
		goto out;
	ret = 0;
out:
	memset(&ev, 0, sizeof(ev));
	strbuf_release(&line);
	free(dir);
	free(path);
	return ret;
}

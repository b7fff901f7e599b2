/*
 * git thrum daemon start|stop|restart|status|run.
 */
#include "thrum.h"
#include "format.h"
#include "cmd.h"
#include "daemon.h"
#include "parse-options.h"
#include "rpc.h"
#include "strbuf.h"
#include "usage.h"

static int local;

static const struct thrum_option local_options[] = {
	OPT_BOOL("local", &local,
		 "sync nothing over the network (like thrum.localOnly)"),
	OPT_END()
};


static int start(struct thrum_ctx *ctx, unsigned flags)
{
	long pid = 0;
	int ret;

	daemon_clear_stopped(&ctx->repo);
	ret = daemon_start_flags(&ctx->repo, flags, &pid);

	if (ret == THRUM_EBUSY) {
		printf("daemon is running already (pid %ld)\n", pid);
		return 0;
	}
	if (ret < 0)
		return 1;
	printf("daemon started (pid %ld%s)\n", pid,
	       flags & DAEMON_LOCAL_ONLY ? ", local only" : "");
	return 0;
}

static int stop(struct thrum_ctx *ctx)
{
	int ret = daemon_stop(&ctx->repo);

	/* no command starts it again behind the user's back */
	if (ret != -1)
		daemon_mark_stopped(&ctx->repo);
	if (ret == THRUM_ENOTFOUND) {
		printf("daemon is not running\n");
		return 0;
	}
	if (ret < 0)
		return 1;
	printf("daemon stopped\n");
	return 0;
}

static void add_field(json_object *o, const char *key, json_object *res)
{
	json_object *v;

	if (res && json_object_object_get_ex(res, key, &v))
		json_object_object_add(o, key, json_object_get(v));
}

/*
 * {"state":"running"|"stopped"|"not-answering", "pid", "socket",
 * "repository", "cycles", "local_only", "sync_interval", "auth_failures",
 * "backoff_skips", "push_attempts", "push_rejections", "push_give_ups",
 * "async_rejections", "error"}: what the health answer says, and the state
 * from the pid lock when there is none
 */
static void status_json(struct thrum_ctx *ctx, const char *state, long pid,
			const char *sock, json_object *res,
			const struct strbuf *err)
{
	json_object *o = json_object_new_object();
	static const char *const keys[] = {
		"cycles", "local_only", "sync_interval", "auth_failures",
		"backoff_skips", "push_attempts", "push_rejections",
		"push_give_ups", "async_rejections",
	};
	size_t i;

	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "pid", pid > 0 ? json_object_new_int64(pid)
						 : NULL);
	json_object_object_add(o, "socket", json_object_new_string(sock));
	json_object_object_add(o, "repository",
			       json_object_new_string(ctx->repo.worktree));
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		add_field(o, keys[i], res);
	if (err && err->len)
		json_object_object_add(o, "error",
				       json_object_new_string(err->buf));
	format_json(o, stdout);
}

static int status(struct thrum_ctx *ctx, int as_json)
{
	char *sock = daemon_socket_path(&ctx->repo);
	struct strbuf err = STRBUF_INIT;
	json_object *res = NULL, *v;
	long pid = 0;
	int ret = 1;

	if (!daemon_running(&ctx->repo, &pid)) {
		if (as_json)
			status_json(ctx, "stopped", 0, sock, NULL, NULL);
		else
			printf("daemon is not running\n");
		goto out;
	}
	if (rpc_call(sock, "health", NULL, 5000, &res, &err) < 0) {
		if (as_json)
			status_json(ctx, "not-answering", pid, sock, NULL,
				    &err);
		else
			printf("daemon (pid %ld) does not answer: %s\n", pid,
			       err.buf);
		goto out;
	}
	ret = 0;
	if (as_json) {
		status_json(ctx, "running", pid, sock, res, NULL);
		goto out;
	}
	printf("daemon is running (pid %ld", pid);
	if (json_object_object_get_ex(res, "cycles", &v))
		printf(", %" PRId64 " sync cycles", json_object_get_int64(v));
	if (json_object_object_get_ex(res, "local_only", &v) &&
	    json_object_get_boolean(v))
		printf(", local only");
	printf(")\n");
out:
	json_object_put(res);
	strbuf_release(&err);
	free(sock);
	return ret;
}

static int daemon_start_cmd(int argc, const char **argv,
			    struct thrum_ctx *ctx)
{
	return start(ctx, local ? DAEMON_LOCAL_ONLY : 0);
}

static int daemon_stop_cmd(int argc, const char **argv,
			   struct thrum_ctx *ctx)
{
	return stop(ctx);
}

static int daemon_restart_cmd(int argc, const char **argv,
			      struct thrum_ctx *ctx)
{
	int ret = stop(ctx);

	return ret ? ret : start(ctx, local ? DAEMON_LOCAL_ONLY : 0);
}

static int daemon_status_cmd(int argc, const char **argv,
			     struct thrum_ctx *ctx)
{
	return status(ctx, cmd_json);
}

/* the daemon itself, in the foreground */
static int daemon_run_cmd(int argc, const char **argv, struct thrum_ctx *ctx)
{
	return daemon_run(&ctx->repo, local ? DAEMON_LOCAL_ONLY : 0);
}


static const struct cmd_args start_args = {
	{ "git thrum daemon start [--local]" }, local_options
};
static const struct cmd_args stop_args = {
	{ "git thrum daemon stop" }
};
static const struct cmd_args restart_args = {
	{ "git thrum daemon restart [--local]" }, local_options
};
static const struct cmd_args status_args = {
	{ "git thrum daemon status [--json]" }, cmd_json_options
};
static const struct cmd_args run_args = {
	{ "git thrum daemon run [--local]" }, local_options
};

static const struct cmd_spec daemon_sub[] = {
	{ "start", daemon_start_cmd, 0, "start it", &start_args },
	{ "stop", daemon_stop_cmd, 0, "stop it", &stop_args },
	{ "restart", daemon_restart_cmd, 0, "stop, then start it",
	  &restart_args },
	{ "status", daemon_status_cmd, 0, "say whether it runs",
	  &status_args },
	{ "run", daemon_run_cmd, CMD_HIDDEN, "be it, in the foreground",
	  &run_args },
	{ NULL }
};

const struct cmd_args daemon_args = { .sub = daemon_sub };

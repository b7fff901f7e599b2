/*
 * git thrum daemon start|stop|restart|status|run.
 */
#include "thrum.h"
#include "cmd.h"
#include "daemon.h"
#include "rpc.h"
#include "strbuf.h"
#include "usage.h"

static const char *const daemon_usage[] = {
	"git thrum daemon start [--local]",
	"git thrum daemon stop",
	"git thrum daemon restart [--local]",
	"git thrum daemon status [--json]",
	NULL
};

struct daemon_opts {
	int local;
	int json;
};

static void daemon_opt(int opt, const char *arg, void *payload)
{
	struct daemon_opts *o = payload;

	if (opt == 'l')
		o->local = 1;
	else
		o->json = 1;
}

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
 * "backoff_skips", "error"}: what the health answer says, and the state
 * from the pid lock when there is none
 */
static void status_json(struct thrum_ctx *ctx, const char *state, long pid,
			const char *sock, json_object *res,
			const struct strbuf *err)
{
	json_object *o = json_object_new_object();
	static const char *const keys[] = {
		"cycles", "local_only", "sync_interval", "auth_failures",
		"backoff_skips",
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
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int status(struct thrum_ctx *ctx, int json)
{
	char *sock = daemon_socket_path(&ctx->repo);
	struct strbuf err = STRBUF_INIT;
	json_object *res = NULL, *v;
	long pid = 0;
	int ret = 1;

	if (!daemon_running(&ctx->repo, &pid)) {
		if (json)
			status_json(ctx, "stopped", 0, sock, NULL, NULL);
		else
			printf("daemon is not running\n");
		goto out;
	}
	if (rpc_call(sock, "health", NULL, 5000, &res, &err) < 0) {
		if (json)
			status_json(ctx, "not-answering", pid, sock, NULL,
				    &err);
		else
			printf("daemon (pid %ld) does not answer: %s\n", pid,
			       err.buf);
		goto out;
	}
	ret = 0;
	if (json) {
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

int cmd_daemon(int argc, const char **argv, struct thrum_ctx *ctx)
{
	static const struct option opts[] = {
		{ "local", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon_opts o = { 0 };
	const char *sub;
	unsigned flags;
	int ret;

	if (argc < 2)
		usage_msg(daemon_usage, "want start, stop, restart or status");
	sub = argv[1];
	if (!strcmp(sub, "-h"))
		usage_help(daemon_usage);
	/* these commands decide about the daemon themselves */
	ctx->no_daemon_check = 1;
	if (parse_options(argc - 1, argv + 1, opts, daemon_usage, daemon_opt,
			  &o) < argc - 1)
		usage_msg(daemon_usage, "too many arguments");
	if (o.local && strcmp(sub, "start") && strcmp(sub, "restart") &&
	    strcmp(sub, "run"))
		usage_msg(daemon_usage, "--local is for start and restart");
	if (o.json && strcmp(sub, "status"))
		usage_msg(daemon_usage, "--json is for status");
	flags = o.local ? DAEMON_LOCAL_ONLY : 0;
	ctx_need_store(ctx);
	if (!strcmp(sub, "start"))
		return start(ctx, flags);
	if (!strcmp(sub, "stop"))
		return stop(ctx);
	if (!strcmp(sub, "restart")) {
		ret = stop(ctx);
		return ret ? ret : start(ctx, flags);
	}
	if (!strcmp(sub, "status"))
		return status(ctx, o.json);
	if (!strcmp(sub, "run"))	/* the daemon itself, in the foreground */
		return daemon_run(&ctx->repo, flags);
	usage_msg(daemon_usage, "unknown subcommand '%s'", sub);
}

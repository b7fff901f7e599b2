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
	"git thrum daemon (start | stop | restart | status)",
	NULL
};

static int start(struct thrum_ctx *ctx)
{
	long pid = 0;
	int ret;

	daemon_clear_stopped(&ctx->repo);
	ret = daemon_start(&ctx->repo, &pid);

	if (ret == THRUM_EBUSY) {
		printf("daemon is running already (pid %ld)\n", pid);
		return 0;
	}
	if (ret < 0)
		return 1;
	printf("daemon started (pid %ld)\n", pid);
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

static int status(struct thrum_ctx *ctx)
{
	char *sock = daemon_socket_path(&ctx->repo);
	struct strbuf err = STRBUF_INIT;
	json_object *res = NULL, *v;
	long pid = 0;
	int ret = 1;

	if (!daemon_running(&ctx->repo, &pid)) {
		printf("daemon is not running\n");
		goto out;
	}
	if (rpc_call(sock, "health", NULL, 5000, &res, &err) < 0) {
		printf("daemon (pid %ld) does not answer: %s\n", pid, err.buf);
		goto out;
	}
	printf("daemon is running (pid %ld", pid);
	if (json_object_object_get_ex(res, "cycles", &v))
		printf(", %" PRId64 " sync cycles", json_object_get_int64(v));
	printf(")\n");
	ret = 0;
out:
	json_object_put(res);
	strbuf_release(&err);
	free(sock);
	return ret;
}

int cmd_daemon(int argc, const char **argv, struct thrum_ctx *ctx)
{
	const char *sub;
	int ret;

	if (argc != 2)
		usage_msg(daemon_usage, "want start, stop, restart or status");
	sub = argv[1];
	if (!strcmp(sub, "-h"))
		usage_help(daemon_usage);
	/* these commands decide about the daemon themselves */
	ctx->no_daemon_check = 1;
	ctx_need_store(ctx);
	if (!strcmp(sub, "start"))
		return start(ctx);
	if (!strcmp(sub, "stop"))
		return stop(ctx);
	if (!strcmp(sub, "restart")) {
		ret = stop(ctx);
		return ret ? ret : start(ctx);
	}
	if (!strcmp(sub, "status"))
		return status(ctx);
	if (!strcmp(sub, "run"))	/* the daemon itself, in the foreground */
		return daemon_run(&ctx->repo);
	usage_msg(daemon_usage, "unknown subcommand '%s'", sub);
}

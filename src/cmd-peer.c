/*
 * git thrum peer add|join|list|status|remove: pair this clone's daemon
 * with another's, so that each nudges the other after it pushed
 * (peer.h, daemon-peers.h, Documentation/near-real-time.adoc).  The
 * pairs are in $GIT_COMMON_DIR/thrum-peers (0600), changed under its
 * lock; a pair's secret is printed once, inside the pairing string of
 * `add`, and never again.
 */
#include "thrum.h"
#include "cmd.h"
#include "daemon.h"
#include "daemon-peers.h"
#include "format.h"
#include "lockfile.h"
#include "parse-options.h"
#include "run-command.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

static struct {
	const char *listen;
	const char *name;
	int json;
} opt;

static const struct thrum_option add_options[] = {
	OPT_STRING("listen", &opt.listen, "<addr:port>",
		   "where this daemon listens (sets thrum.peerListen)"),
	OPT_STRING("name", &opt.name, "<name>",
		   "what to call the other side here"),
	OPT_END()
};

static const struct thrum_option join_options[] = {
	OPT_STRING("listen", &opt.listen, "<addr:port>",
		   "where this daemon listens (sets thrum.peerListen)"),
	OPT_STRING("name", &opt.name, "<name>",
		   "what to call the other side here (default: its own "
		   "name)"),
	OPT_END()
};

static const struct thrum_option json_options[] = {
	OPT_JSON(&opt.json),
	OPT_END()
};

static const struct cmd_args add_args = {
	{ "git thrum peer add [--listen <addr:port>] [--name <name>]" },
	add_options
};
static const struct cmd_args join_args = {
	{ "git thrum peer join [--listen <addr:port>] [--name <name>] "
	  "<string>" },
	join_options, 1, 1, "want: peer join <string>"
};
static const struct cmd_args list_args = {
	{ "git thrum peer list [--json]" }, json_options
};
static const struct cmd_args status_args = {
	{ "git thrum peer status [--json]" }, json_options
};
static const struct cmd_args remove_args = {
	{ "git thrum peer remove <name>" },
	NULL, 1, 1, "want: peer remove <name>"
};

/* the daemon rereads the pairs and thrum.peerListen when asked */
static void tell_daemon(struct thrum_ctx *ctx)
{
	struct peer_report rep = PEER_REPORT_INIT;

	peer_report_fetch(&ctx->repo, &rep, NULL);
	peer_report_release(&rep);
}

static void warn_local_only(struct thrum_ctx *ctx)
{
	if (ctx->cfg.local_only)
		warning("thrum.localOnly is true: this clone neither sends "
			"nor accepts nudges until sync is on");
}

/* --listen: checked, and kept as thrum.peerListen for the daemon */
static int set_listen(struct thrum_ctx *ctx, const struct cmd_args *args)
{
	if (!opt.listen)
		return 0;
	if (!peer_valid_address(opt.listen))
		usage_opt_msg(args->usage, args->options,
			      "bad address '%s' for --listen: want a numeric "
			      "host:port", opt.listen);
	if (ctx->cfg.peer_listen && !strcmp(ctx->cfg.peer_listen, opt.listen))
		return 0;
	if (run_git(ctx->repo.worktree, 0, NULL, "config", "--local",
		    "thrum.peerListen", opt.listen, NULL))
		return error("cannot set thrum.peerListen in the repository's "
			     "configuration");
	return config_set_flag(&ctx->cfg, CFG_PEER_LISTEN, opt.listen);
}

/* -1 after error() when a pair of that name exists */
static int name_taken(struct peer_list *l, const char *name)
{
	if (!peer_find(l, name))
		return 0;
	return error("a peer named '%s' exists already ('git thrum peer "
		     "remove %s' first)", name, name);
}

/* add *p (taken) to l, save the pairs, let go of their lock */
static int keep_pair(struct thrum_ctx *ctx, struct peer_list *l,
		     struct peer *p, int *fd)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr++] = *p;
	memset(p, 0, sizeof(*p));
	if (peer_list_save(&ctx->repo, l) < 0)
		return -1;
	lock_release(*fd);
	*fd = -1;
	return 0;
}

/* "peer1", "peer2", ...: the first that is free */
static char *free_name(struct peer_list *l)
{
	int i;

	for (i = 1;; i++) {
		char *name = xstrfmt("peer%d", i);

		if (!peer_find(l, name))
			return name;
		free(name);
	}
}

static int add(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct peer_list l = PEER_LIST_INIT;
	struct peer p = { NULL };
	char self[65], *name = NULL, *pairing = NULL;
	const char *listen;
	int fd = -1, ret = 1;

	if (opt.listen && !peer_valid_address(opt.listen))
		usage_opt_msg(add_args.usage, add_args.options,
			      "bad address '%s' for --listen: want a numeric "
			      "host:port", opt.listen);
	listen = opt.listen ? opt.listen : ctx->cfg.peer_listen;
	if (!listen) {
		error("no address to listen on: give --listen <addr:port> "
		      "(or set thrum.peerListen)");
		return 1;
	}
	/* a bad name is refused before anything is written, the lock too */
	if (opt.name && peer_new(&p, opt.name) < 0)
		return 1;
	if (peer_list_lock(&ctx->repo, 5000, &fd) < 0 ||
	    peer_list_load(&ctx->repo, &l) < 0)
		goto out;
	name = opt.name ? xstrdup(opt.name) : free_name(&l);
	if (name_taken(&l, name) ||
	    (!p.name && peer_new(&p, name) < 0) ||
	    set_listen(ctx, &add_args) < 0 || keep_pair(ctx, &l, &p, &fd) < 0)
		goto out;
	peer_self_name(self, sizeof(self));
	pairing = peer_pairing_string(&l.v[l.nr - 1], self, listen);
	puts(pairing);
	fflush(stdout);
	fprintf(stderr, "paired as '%s': run 'git thrum peer join <string>' "
		"in the other clone; the string holds the secret, pass it "
		"privately\n", name);
	if (!strncmp(listen, "0.0.0.0:", 8) || !strncmp(listen, "[::]:", 5))
		warning("the pairing string says %s, which the other machine "
			"cannot reach: put an address of this one in its last "
			"field", listen);
	warn_local_only(ctx);
	tell_daemon(ctx);
	ret = 0;
out:
	if (pairing) {
		memset(pairing, 0, strlen(pairing));
		free(pairing);
	}
	if (fd >= 0)
		lock_release(fd);
	free(p.name);
	free(p.address);
	free(name);
	peer_list_release(&l);
	return ret;
}

static int join(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct peer_list l = PEER_LIST_INIT;
	struct peer p = { NULL };
	const char *why = NULL;
	int fd = -1, ret = 1;

	if (peer_parse_pairing(argv[0], &p, &why) < 0) {
		error("%s", why);
		return 1;
	}
	if (opt.listen && !peer_valid_address(opt.listen))
		usage_opt_msg(join_args.usage, join_args.options,
			      "bad address '%s' for --listen: want a numeric "
			      "host:port", opt.listen);
	if (opt.name) {
		struct peer check;

		/* the name is checked as `add` checks it */
		if (peer_new(&check, opt.name) < 0)
			goto out;
		free(check.name);
		free(p.name);
		p.name = xstrdup(opt.name);
	}
	if (peer_list_lock(&ctx->repo, 5000, &fd) < 0 ||
	    peer_list_load(&ctx->repo, &l) < 0)
		goto out;
	if (name_taken(&l, p.name) || set_listen(ctx, &join_args) < 0 ||
	    keep_pair(ctx, &l, &p, &fd) < 0)
		goto out;
	printf("paired with '%s' at %s\n", l.v[l.nr - 1].name,
	       l.v[l.nr - 1].address);
	if (!ctx->cfg.peer_listen)
		fprintf(stderr, "hint: this side only sends nudges; with "
			"--listen (or thrum.peerListen) it receives them "
			"too\n");
	warn_local_only(ctx);
	tell_daemon(ctx);
	ret = 0;
out:
	if (fd >= 0)
		lock_release(fd);
	free(p.name);
	free(p.address);
	peer_list_release(&l);
	return ret;
}

static int list(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct peer_report rep = PEER_REPORT_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (peer_report_from_file(&ctx->repo, &rep) < 0)
		return 1;
	if (opt.json) {
		rep.listen = xstrdup_or_null(ctx->cfg.peer_listen);
		format_peers_json(&rep, stdout);
	} else {
		for (i = 0; i < rep.nr; i++)
			printf("%s\t%s\n", format_safe(&sb, rep.v[i].name),
			       rep.v[i].address ? rep.v[i].address
						: "(address not known yet)");
	}
	strbuf_release(&sb);
	peer_report_release(&rep);
	return 0;
}

static int status(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct peer_report rep = PEER_REPORT_INIT;
	struct strbuf err = STRBUF_INIT;
	int ret = peer_report_fetch(&ctx->repo, &rep, &err);

	if (ret == -1) {
		error("the daemon does not answer: %s", err.buf);
		strbuf_release(&err);
		return 1;
	}
	strbuf_release(&err);
	/* no daemon: the pairs, and nothing counted */
	if (ret == THRUM_ENOTFOUND && peer_report_from_file(&ctx->repo,
							    &rep) < 0)
		return 1;
	if (opt.json) {
		format_peers_json(&rep, stdout);
	} else {
		if (ret == THRUM_ENOTFOUND)
			printf("daemon:    stopped: nothing listens, nothing "
			       "is sent\n");
		else if (rep.listen)
			printf("listening: %s (UDP)\n", rep.listen);
		else
			printf("listening: no (%s)\n",
			       ctx->cfg.local_only ? "thrum.localOnly is true"
			       : daemon_local_only(&ctx->repo)
			       ? "the daemon runs with --local"
			       : !rep.nr ? "no pair"
			       : !ctx->cfg.peer_listen ? "thrum.peerListen is "
							 "not set"
			       : "see .thrum/var/daemon.log");
		if (!rep.nr)
			printf("no peers ('git thrum peer add' makes a "
			       "pair)\n");
		format_peers_text(&rep, "", stdout);
	}
	peer_report_release(&rep);
	return 0;
}

static int remove_peer(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct peer_list l = PEER_LIST_INIT;
	struct peer *p;
	int fd = -1, ret = 1;

	if (peer_list_lock(&ctx->repo, 5000, &fd) < 0 ||
	    peer_list_load(&ctx->repo, &l) < 0)
		goto out;
	if (!(p = peer_find(&l, argv[0]))) {
		error("no peer named '%s' ('git thrum peer list' shows them)",
		      argv[0]);
		goto out;
	}
	free(p->name);
	free(p->address);
	*p = l.v[--l.nr];
	if (peer_list_save(&ctx->repo, &l) < 0)
		goto out;
	lock_release(fd);
	fd = -1;
	printf("removed peer '%s'\n", argv[0]);
	tell_daemon(ctx);
	ret = 0;
out:
	if (fd >= 0)
		lock_release(fd);
	peer_list_release(&l);
	return ret;
}

static const struct cmd_spec peer_sub[] = {
	{ "add", add, 0, "a new pair: print its pairing string", &add_args },
	{ "join", join, 0, "complete a pair from its string", &join_args },
	{ "list", list, 0, "the pairs and their addresses", &list_args },
	{ "status", status, 0, "nudges sent, received and dropped",
	  &status_args },
	{ "remove", remove_peer, 0, "forget a pair", &remove_args },
	{ NULL }
};

const struct cmd_args peer_args = { .sub = peer_sub };

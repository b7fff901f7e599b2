/*
 * mcp.c: the Model Context Protocol server (see mcp.h and
 * Documentation/git-thrum-mcp.adoc).
 *
 * One process, one poll() loop over the input and an inotify watch of the
 * log.  Requests are answered in the order they complete: most at once,
 * wait_for_message when a message arrives or its time runs out.  Nothing
 * from the client is trusted: lines are capped (an over-long one is
 * skipped and answered with an error), parsed strictly, and every
 * argument is type-checked against the tool's schema before anything is
 * written.  A tool that fails says why in one line (isError), taken from
 * the error() the failing code reported, and writes nothing.
 */
#include "thrum.h"
#include <poll.h>
#include "mcp.h"
#include "mcp-internal.h"
#include "cmd.h"
#include "config.h"
#include "format.h"
#include "messaging.h"
#include "projection.h"
#include "rpc.h"
#include "strbuf.h"
#include "sync.h"
#include "usage.h"
#include "watch.h"
#include "wrapper.h"

extern const char thrum_version[];

static const char *const protocol_versions[] = {
	"2025-06-18", "2025-03-26", "2024-11-05",
};

int64_t mcp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- errors of the code a tool calls become the tool's error text --- */

static struct strbuf *capture;

PRINTF_LIKE(2, 0) static void capture_report(const char *prefix,
					     const char *fmt, va_list ap)
{
	va_list copy;

	va_copy(copy, ap);
	if (capture) {
		strbuf_reset(capture);
		strbuf_vaddf(capture, fmt, copy);
	}
	va_end(copy);
	/* the client's log (stderr) still sees it */
	fprintf(stderr, "%s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* --- the protocol --- */

static json_object *initialize(json_object *params)
{
	json_object *o = json_object_new_object(), *caps, *tcaps, *info, *v;
	const char *want = NULL, *version = protocol_versions[0];
	size_t i;

	if (json_object_object_get_ex(params, "protocolVersion", &v) &&
	    json_object_is_type(v, json_type_string))
		want = json_object_get_string(v);
	/* the client's version when we speak it, else our latest */
	for (i = 0; want && i < ARRAY_SIZE(protocol_versions); i++)
		if (!strcmp(want, protocol_versions[i]))
			version = protocol_versions[i];
	json_object_object_add(o, "protocolVersion",
			       json_object_new_string(version));
	caps = json_object_new_object();
	tcaps = json_object_new_object();
	json_object_object_add(tcaps, "listChanged",
			       json_object_new_boolean(0));
	json_object_object_add(caps, "tools", tcaps);
	json_object_object_add(o, "capabilities", caps);
	info = json_object_new_object();
	json_object_object_add(info, "name",
			       json_object_new_string("git-thrum"));
	json_object_object_add(info, "version",
			       json_object_new_string(thrum_version));
	json_object_object_add(o, "serverInfo", info);
	json_object_object_add(o, "instructions", json_object_new_string(
		"Thrum: messages between the agents of this Git repository. "
		"check_messages reads your inbox, send_message writes (to "
		"@agent, @role, @group or @everyone), reply_message answers, "
		"wait_for_message blocks until something arrives, list_agents "
		"shows the team."));
	return o;
}

static void cancelled(struct mcp_server *s, json_object *params)
{
	json_object *rid;
	int i;

	if (!json_object_object_get_ex(params, "requestId", &rid) || !rid)
		return;
	for (i = 0; i < s->nr_waiters; i++) {
		json_object *id = s->waiters[i].id;

		if (json_object_get_type(id) == json_object_get_type(rid) &&
		    !strcmp(json_object_to_json_string(id),
			    json_object_to_json_string(rid))) {
			/* no answer: it was cancelled */
			mcp_drop_waiter(s, i);
			return;
		}
	}
}

static void handle_line(struct mcp_server *s, const char *line, size_t len)
{
	struct rpc_request req;
	const char *msg = NULL;
	int code;

	/* a blank line is nothing */
	while (len && isspace((unsigned char)line[len - 1]))
		len--;
	if (!len)
		return;
	code = rpc_parse_message(line, len, MCP_MAX_LINE, &req, &msg);
	if (code) {
		mcp_send_error(s, req.id, code, msg);
		rpc_request_release(&req);
		return;
	}
	if (!req.id) {
		/* a notification: never answered */
		if (!strcmp(req.method, "notifications/cancelled"))
			cancelled(s, req.params);
		rpc_request_release(&req);
		return;
	}
	if (!json_object_is_type(req.id, json_type_string) &&
	    !json_object_is_type(req.id, json_type_int)) {
		mcp_send_error(s, NULL, RPC_INVALID_REQUEST,
			   "the id must be a string or an integer");
	} else if (!strcmp(req.method, "initialize")) {
		mcp_send_result(s, req.id, initialize(req.params));
	} else if (!strcmp(req.method, "ping")) {
		mcp_send_result(s, req.id, json_object_new_object());
	} else if (!strcmp(req.method, "tools/list")) {
		mcp_send_result(s, req.id, mcp_tools_list());
	} else if (!strcmp(req.method, "tools/call")) {
		mcp_tools_call(s, req.id, req.params);
	} else {
		mcp_send_error(s, req.id, RPC_METHOD_NOT_FOUND,
			       "no such method");
	}
	rpc_request_release(&req);
}

/*
 * Split what arrived into lines.  A line longer than MCP_MAX_LINE is
 * dropped as it comes (never held whole) and answered with one error.
 */
static void take_input(struct mcp_server *s, struct strbuf *in,
		       int *discarding, const char *buf, size_t n)
{
	while (n) {
		const char *nl = memchr(buf, '\n', n);
		size_t part = nl ? (size_t)(nl - buf) : n;

		if (!*discarding && in->len + part > MCP_MAX_LINE) {
			*discarding = 1;
			strbuf_reset(in);
		}
		if (!*discarding)
			strbuf_add(in, buf, part);
		if (!nl)
			return;
		if (*discarding)
			mcp_send_error(s, NULL, RPC_INVALID_REQUEST,
				   "request too long");
		else
			handle_line(s, in->buf, in->len);
		*discarding = 0;
		strbuf_reset(in);
		buf = nl + 1;
		n -= part + 1;
	}
}

int mcp_serve(struct thrum_ctx *ctx, int in_fd, int out_fd)
{
	struct mcp_server s;
	struct strbuf in = STRBUF_INIT;
	int discarding = 0, i;

	memset(&s, 0, sizeof(s));
	s.ctx = ctx;
	s.in_fd = in_fd;
	s.out_fd = out_fd;
	strbuf_init(&s.last_error, 0);
	s.watch.fd = -1;
	capture = &s.last_error;
	set_error_routine(capture_report);
	signal(SIGPIPE, SIG_IGN);
	ctx_need_projection(ctx);
	if (projection_seq(ctx->proj, &s.watermark) < 0)
		return 1;

	for (;;) {
		struct pollfd pfd[2];
		int64_t now = mcp_now_ms(), wake = -1;
		int nfds = 1, timeout;
		char buf[65536];
		ssize_t n;

		for (i = 0; i < s.nr_waiters; i++)
			if (wake < 0 || s.waiters[i].deadline < wake)
				wake = s.waiters[i].deadline;
		timeout = wake < 0 ? -1 : wake <= now ? 0 : (int)(wake - now);
		pfd[0].fd = in_fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		if (s.watching && s.nr_waiters) {
			pfd[1].fd = s.watch.fd;
			pfd[1].events = POLLIN;
			pfd[1].revents = 0;
			nfds = 2;
		}
		if (poll(pfd, nfds, timeout) < 0) {
			if (errno == EINTR)
				continue;
			error_errno("poll");
			break;
		}
		if (nfds == 2 && pfd[1].revents) {
			if (watch_drain(&s.watch) & WATCH_GONE) {
				error("the log went away");
				break;
			}
		}
		if (pfd[0].revents) {
			n = read(in_fd, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				/* the end: a last line without its newline */
				if (in.len && !discarding)
					handle_line(&s, in.buf, in.len);
				break;
			}
			take_input(&s, &in, &discarding, buf, (size_t)n);
		}
		/* a message may have come with any wake-up, or time ran out */
		mcp_check_waiters(&s);
	}
	while (s.nr_waiters)
		mcp_drop_waiter(&s, 0);
	if (s.watching)
		watch_close(&s.watch);
	capture = NULL;
	strbuf_release(&in);
	strbuf_release(&s.last_error);
	return 0;
}

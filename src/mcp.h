#ifndef THRUM_MCP_H
#define THRUM_MCP_H

/*
 * A Model Context Protocol server on a pair of file descriptors (stdio for
 * `git thrum mcp`): JSON-RPC 2.0, one message per line, protocol versions
 * 2025-06-18 and 2024-11-05.  It answers initialize, ping, tools/list and
 * tools/call, takes the initialized and cancelled notifications, and
 * offers the original Thrum's tools (send_message, check_messages,
 * wait_for_message, list_agents) plus reply_message, get_message and
 * sync_status.  See Documentation/git-thrum-mcp.adoc.
 *
 * It needs no daemon: it reads the projection and appends to the log as
 * the CLI does, and a wait_for_message watches the log with inotify (what
 * a daemon's sync merges lands there too), so it returns as soon as the
 * message is in the log.  Many calls may be pending at once; the server
 * reads the next request while waits are pending, and a cancelled wait is
 * dropped without an answer.
 */
struct thrum_ctx;

/*
 * Serve requests read from in_fd, answers written to out_fd, until in_fd
 * ends.  Returns the exit status (0 on a clean end of input).
 */
int mcp_serve(struct thrum_ctx *ctx, int in_fd, int out_fd);

/* the longest request line read; longer ones are answered with an error */
#define MCP_MAX_LINE (4 * 1024 * 1024)

#endif

#ifndef THRUM_RPC_H
#define THRUM_RPC_H

/*
 * JSON-RPC 2.0 over the daemon's unix socket (technical/architecture.adoc,
 * "The daemon"): one request and one response per line, lines bounded in
 * length. json_object arguments marked "taken" belong to the callee
 * afterwards; results returned through out-parameters belong to the caller
 * (json_object_put).
 */
#include <json-c/json.h>

struct strbuf;

#define RPC_MAX_REQUEST (64 * 1024)
#define RPC_MAX_RESPONSE (16 * 1024 * 1024)

/* JSON-RPC error codes */
#define RPC_PARSE_ERROR -32700
#define RPC_INVALID_REQUEST -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS -32602
#define RPC_INTERNAL_ERROR -32603

/* the socket path must fit a sockaddr_un; 0 or -1 after error() */
int rpc_check_path(const char *path);

/*
 * Call method on the daemon at path with params (taken; may be NULL) and
 * wait at most timeout_ms (-1: forever) for the answer.  Returns 0 with
 * *result set, THRUM_ENOTFOUND when no daemon listens there, or -1 with a
 * message in err (a JSON-RPC error, a timeout, a broken answer).
 */
int rpc_call(const char *path, const char *method, json_object *params,
	     int timeout_ms, json_object **result, struct strbuf *err);

struct rpc_request {
	json_object *id;	/* owned */
	char *method;
	json_object *params;	/* owned; an empty object when absent */
};

/*
 * Parse one request line.  0, or a JSON-RPC error code with *msg set
 * (req->id is kept when it could be read, for the error response).
 */
int rpc_parse_request(const char *line, size_t len, struct rpc_request *req,
		      const char **msg);
/* the same with another cap on the line (the MCP server's is larger) */
int rpc_parse_message(const char *line, size_t len, size_t max,
		      struct rpc_request *req, const char **msg);
void rpc_request_release(struct rpc_request *req);

/*
 * params[key] when it is a string (borrowed from params), else NULL;
 * when it is an integer, else def.
 */
const char *rpc_param_string(json_object *params, const char *key);
int64_t rpc_param_int(json_object *params, const char *key, int64_t def);

/* write a response line to fd (blocking); result is taken; 0 or -1 */
int rpc_send_result(int fd, json_object *id, json_object *result);
int rpc_send_error(int fd, json_object *id, int code, const char *msg);

#endif

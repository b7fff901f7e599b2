/*
 * rpc.c: the wire of the daemon.  Both sides treat the other as
 * untrusted: lines are capped (RPC_MAX_REQUEST, RPC_MAX_RESPONSE), parsed
 * strictly with json-c (one object, valid UTF-8, nothing after it), and
 * every field is type-checked before use.
 */
#include "thrum.h"
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "clock.h"
#include "rpc.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

int rpc_check_path(const char *path)
{
	struct sockaddr_un sa;

	if (strlen(path) >= sizeof(sa.sun_path))
		return error("socket path '%s' is too long (%zu bytes at "
			     "most)", path, sizeof(sa.sun_path) - 1);
	return 0;
}

static json_object *parse_object(const char *buf, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *obj;

	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
			       JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

static int send_line(int fd, json_object *obj)
{
	const char *text = json_object_to_json_string_ext(obj,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct strbuf sb = STRBUF_INIT;
	int ret;

	strbuf_addstr(&sb, text);
	strbuf_addch(&sb, '\n');
	ret = write_in_full(fd, sb.buf, sb.len) < 0 ? -1 : 0;
	strbuf_release(&sb);
	return ret;
}

/* {"jsonrpc":"2.0","id":id,key:value}, value taken */
static int send_response(int fd, json_object *id, const char *key,
			 json_object *value)
{
	json_object *o = json_object_new_object();
	int ret;

	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(o, "id", json_object_get(id));
	json_object_object_add(o, key, value);
	ret = send_line(fd, o);
	json_object_put(o);
	return ret;
}

int rpc_send_result(int fd, json_object *id, json_object *result)
{
	return send_response(fd, id, "result", result);
}

int rpc_send_error(int fd, json_object *id, int code, const char *msg)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	return send_response(fd, id, "error", e);
}

int rpc_parse_request(const char *line, size_t len, struct rpc_request *req,
		      const char **msg)
{
	return rpc_parse_message(line, len, RPC_MAX_REQUEST, req, msg);
}

int rpc_parse_message(const char *line, size_t len, size_t max,
		      struct rpc_request *req, const char **msg)
{
	json_object *obj, *v;

	memset(req, 0, sizeof(*req));
	if (len > max) {
		*msg = "request too long";
		return RPC_INVALID_REQUEST;
	}
	obj = parse_object(line, len);
	if (!obj) {
		*msg = "not a JSON object";
		return RPC_PARSE_ERROR;
	}
	if (json_object_object_get_ex(obj, "id", &v))
		req->id = json_object_get(v);
	if (!json_object_object_get_ex(obj, "jsonrpc", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "2.0")) {
		*msg = "not JSON-RPC 2.0";
		json_object_put(obj);
		return RPC_INVALID_REQUEST;
	}
	if (!json_object_object_get_ex(obj, "method", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		*msg = "no method";
		json_object_put(obj);
		return RPC_INVALID_REQUEST;
	}
	req->method = xstrdup(json_object_get_string(v));
	if (json_object_object_get_ex(obj, "params", &v) && v) {
		if (!json_object_is_type(v, json_type_object)) {
			*msg = "params must be an object";
			json_object_put(obj);
			return RPC_INVALID_PARAMS;
		}
		req->params = json_object_get(v);
	} else {
		req->params = json_object_new_object();
	}
	json_object_put(obj);
	return 0;
}

const char *rpc_param_string(json_object *params, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(params, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int64_t rpc_param_int(json_object *params, const char *key, int64_t def)
{
	json_object *v;

	if (!json_object_object_get_ex(params, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

void rpc_request_release(struct rpc_request *req)
{
	json_object_put(req->id);
	json_object_put(req->params);
	free(req->method);
	memset(req, 0, sizeof(*req));
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* read up to the first newline, waiting at most until deadline */
static int read_response(int fd, struct strbuf *sb, int64_t deadline,
			 struct strbuf *err)
{
	sb->max = RPC_MAX_RESPONSE;
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int wait = deadline < 0 ? -1 : (int)(deadline - now_ms());
		char buf[65536];
		ssize_t n;

		if (deadline >= 0 && wait <= 0) {
			strbuf_addstr(err, "no answer from the daemon in time");
			return -1;
		}
		if (poll(&pfd, 1, wait) < 0) {
			if (errno == EINTR)
				continue;
			strbuf_addf(err, "poll: %s", strerror(errno));
			return -1;
		}
		if (!pfd.revents)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			strbuf_addstr(err, "the daemon closed the connection");
			return -1;
		}
		if (strbuf_add(sb, buf, n) < 0) {
			strbuf_addstr(err, "the daemon's answer is too long");
			return -1;
		}
		if (memchr(buf, '\n', n)) {
			strbuf_setlen(sb, (char *)memchr(sb->buf, '\n', sb->len) -
				      sb->buf);
			return 0;
		}
	}
}

int rpc_call(const char *path, const char *method, json_object *params,
	     int timeout_ms, json_object **result, struct strbuf *err)
{
	json_object *req = json_object_new_object(), *resp = NULL, *v;
	struct strbuf line = STRBUF_INIT;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int fd, ret = -1;

	*result = NULL;
	json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(req, "id", json_object_new_int(1));
	json_object_object_add(req, "method", json_object_new_string(method));
	json_object_object_add(req, "params",
			       params ? params : json_object_new_object());
	fd = connect_to(path);
	if (fd < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			ret = THRUM_ENOTFOUND;
		else
			strbuf_addf(err, "cannot connect to '%s': %s", path,
				    strerror(errno));
		goto out;
	}
	if (send_line(fd, req) < 0) {
		strbuf_addf(err, "cannot write to the daemon: %s",
			    strerror(errno));
		goto out;
	}
	if (read_response(fd, &line, deadline, err) < 0)
		goto out;
	resp = parse_object(line.buf, line.len);
	if (!resp) {
		strbuf_addstr(err, "the daemon's answer is not JSON");
		goto out;
	}
	if (json_object_object_get_ex(resp, "error", &v) && v) {
		json_object *m;

		if (json_object_object_get_ex(v, "message", &m) &&
		    json_object_is_type(m, json_type_string))
			strbuf_addstr(err, json_object_get_string(m));
		else
			strbuf_addstr(err, "the daemon answered with an error");
		goto out;
	}
	if (!json_object_object_get_ex(resp, "result", &v)) {
		strbuf_addstr(err, "the daemon's answer has no result");
		goto out;
	}
	*result = json_object_get(v);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	json_object_put(req);
	json_object_put(resp);
	strbuf_release(&line);
	return ret;
}

/*
 * libFuzzer target: the daemon's request parser, which reads whatever a
 * local process writes to the socket.  No crash, no leak; an accepted
 * request has a method and an object of params.
 */
#include "thrum.h"
#include "rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_request req;
	const char *msg = NULL;

	if (!rpc_parse_request((const char *)data, size, &req, &msg)) {
		if (!req.method ||
		    !json_object_is_type(req.params, json_type_object))
			abort();
	} else if (!msg) {
		abort();	/* every rejection says why */
	}
	rpc_request_release(&req);
	return 0;
}

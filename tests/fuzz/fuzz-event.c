/*
 * libFuzzer target: the event parser.  Whatever the bytes, parsing must
 * not crash, leak or read out of bounds; and an accepted line must
 * serialise to canonical JSON that parses again to the same canonical
 * JSON (the codec is a fixed point after one pass).
 */
#include "thrum.h"
#include "event.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const uint8_t *data, size_t size, unsigned flags)
{
	struct event ev = EVENT_INIT, again = EVENT_INIT;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	if (event_parse(&ev, (const char *)data, size, flags, NULL) < 0)
		return;
	if (event_serialize(&ev, &a, flags) < 0)
		goto out;
	if (event_parse(&again, a.buf, a.len, flags, NULL) < 0)
		abort();	/* we wrote something we cannot read */
	if (event_serialize(&again, &b, flags) < 0 || a.len != b.len ||
	    memcmp(a.buf, b.buf, a.len))
		abort();	/* not canonical */
out:
	event_release(&ev);
	event_release(&again);
	strbuf_release(&a);
	strbuf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	round_trip(data, size, 0);
	round_trip(data, size, EVENT_PARSE_BARE);
	return 0;
}

/*
 * What an event is known by, and how events are ordered (event.h): names
 * agents and groups may take, the opaque ids the original writes, thrum's
 * own ULID ids, the order of the log and the hash of a line.
 */
#include "thrum.h"
#include "event.h"
#include "ulid.h"

int event_order_cmp(int64_t ts_a, const char *id_a, int64_t ts_b,
		    const char *id_b)
{
	if (ts_a != ts_b)
		return ts_a < ts_b ? -1 : 1;
	return strcmp(id_a ? id_a : "", id_b ? id_b : "");
}

int event_cmp(const struct event *a, const struct event *b)
{
	return event_order_cmp(a->ts_ns, a->event_id, b->ts_ns, b->event_id);
}

static const char *const reserved_names[] = {
	"daemon", "system", "thrum", "all", "broadcast", "everyone",
};

int event_valid_name(const char *name, const char **why)
{
	const char *p;
	size_t i;

	if (!name || !*name) {
		if (why)
			*why = "the name is empty";
		return 0;
	}
	if (strlen(name) > 64) {
		if (why)
			*why = "the name is longer than 64 characters";
		return 0;
	}
	if (!(*name >= 'a' && *name <= 'z') && !isdigit((unsigned char)*name)) {
		if (why)
			*why = "the name must start with a-z or 0-9";
		return 0;
	}
	for (p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !isdigit((unsigned char)*p) &&
		    *p != '_' && *p != '-') {
			if (why)
				*why = "the name may only hold a-z, 0-9, '_' and '-'";
			return 0;
		}
	for (i = 0; i < ARRAY_SIZE(reserved_names); i++)
		if (!strcmp(name, reserved_names[i])) {
			if (why)
				*why = "the name is reserved";
			return 0;
		}
	return 1;
}

int event_opaque_id(const char *id)
{
	const unsigned char *p = (const unsigned char *)id;
	size_t len;

	if (!id || !*id || (len = strlen(id)) > EVENT_MAX_ID)
		return 0;
	for (; *p; p++) {
		/* C0 controls and DEL */
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		/* C1 controls, U+0080..U+009F, are C2 80..C2 9F in UTF-8 */
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return 0;
	}
	return 1;
}

int event_valid_id(const char *id, const char *prefix)
{
	size_t plen = strlen(prefix);
	struct ulid u;

	return id && !strncmp(id, prefix, plen) &&
	       !ulid_parse(id + plen, strlen(id + plen), &u);
}

uint64_t event_line_hash(const char *line, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)line[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

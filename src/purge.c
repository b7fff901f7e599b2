/*
 * Purge (purge.h): the cutoff --before names, and the one event that
 * says it.  What it removes is the projection's business
 * (projection-clean.c), on every clone alike.
 */
#include "thrum.h"
#include "purge.h"
#include "core.h"
#include "date.h"
#include "event.h"
#include "identity.h"
#include "strbuf.h"
#include "wrapper.h"

#define NS_PER_SEC 1000000000LL

/* "<N><unit>"... with units from units (d, or h m s); the total in ns */
static int parse_span(const char *s, const char *units, int64_t *out)
{
	int64_t total = 0;

	if (!*s)
		return THRUM_EINVALID;
	while (*s) {
		int64_t n = 0, mult;
		const char *start = s;

		while (*s >= '0' && *s <= '9') {
			if (n > 1000000000)
				return THRUM_EINVALID;
			n = n * 10 + (*s++ - '0');
		}
		if (s == start || !*s || !strchr(units, *s))
			return THRUM_EINVALID;
		mult = *s == 'd' ? 86400 : *s == 'h' ? 3600 : *s == 'm' ? 60 : 1;
		s++;
		/* years 1678..2262 fit: about 106 000 days back */
		if (n * mult > 106000LL * 86400 - total / NS_PER_SEC)
			return THRUM_EINVALID;
		total += n * mult * NS_PER_SEC;
	}
	if (!total)
		return THRUM_EINVALID;
	*out = total;
	return 0;
}

static int is_date(const char *s)
{
	static const char shape[] = "dddd-dd-dd";
	size_t i;

	for (i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9')
				    : s[i] != shape[i])
			return 0;
	return !s[i];
}

int purge_parse_before(const char *s, int64_t now_ns, int64_t *out_ns)
{
	struct strbuf sb = STRBUF_INIT;
	int64_t span;
	int ret;

	if (!parse_span(s, "d", &span) || !parse_span(s, "hms", &span)) {
		*out_ns = now_ns - span;
		return 0;
	}
	if (is_date(s)) {
		strbuf_addf(&sb, "%sT00:00:00Z", s);
		s = sb.buf;
	}
	ret = date_parse_rfc3339(s, out_ns) < 0 ? THRUM_EINVALID : 0;
	strbuf_release(&sb);
	return ret;
}

int purge_execute(struct core *c, int64_t cutoff_ns, char **cutoff)
{
	char text[DATE_RFC3339_LEN + 1];
	struct event ev = EVENT_INIT;
	struct event *list[1] = { &ev };
	int ret = -1;

	if (core_new_event(c, &ev, EV_PURGE_EXECUTED) < 0)
		goto out;
	date_format_rfc3339_sec(cutoff_ns, text);
	ev.cutoff = xstrdup(text);
	/* it counts only as someone's, signed by their key when they have one */
	if (c->me)
		ev.agent_id = xstrdup(c->me->agent_id);
	if (core_append(c, NULL, list, 1) < 0)
		goto out;
	*cutoff = xstrdup(text);
	ret = 0;
out:
	event_release(&ev);
	return ret;
}

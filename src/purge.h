#ifndef THRUM_PURGE_H
#define THRUM_PURGE_H

/*
 * Purge, in the core (core.h): purge.executed in events.jsonl, as the
 * original writes it, so that every clone's projection drops the
 * messages created and the sessions started before the cutoff (the log
 * keeps every line).
 */
struct core;

/*
 * When --before means, from now_ns: "<N>d" (days), a duration such as
 * "24h", "90m" or "2h30m" (h, m, s), a date "2026-03-15" (midnight UTC)
 * or an RFC 3339 date-time.  0, or THRUM_EINVALID (nothing reported).
 */
int purge_parse_before(const char *s, int64_t now_ns, int64_t *out_ns);

/*
 * Write purge.executed for cutoff_ns, its cutoff in whole seconds as the
 * original writes it; *cutoff (caller frees) is that text.  0, or -1
 * after error().
 */
int purge_execute(struct core *c, int64_t cutoff_ns, char **cutoff);

#endif

#ifndef THRUM_DATE_H
#define THRUM_DATE_H

/*
 * Instants as signed nanoseconds since the Unix epoch (UTC), good for
 * years 1678..2262.  Written as RFC 3339 UTC with exactly nine fractional
 * digits; any RFC 3339 date-time is accepted on input, which is what the
 * original writes (fractions trimmed of trailing zeros, possibly absent).
 */
#define DATE_RFC3339_LEN 30	/* 2026-11-23T10:00:00.123456789Z */

int64_t date_now_ns(void);

/* parse s (NUL-terminated); 0, or THRUM_EINVALID */
int date_parse_rfc3339(const char *s, int64_t *out_ns);

/* write ns into out (at least DATE_RFC3339_LEN + 1 bytes) */
void date_format_rfc3339(int64_t ns, char *out);

/* the same, whole seconds only ("2026-11-23T10:00:00Z") */
void date_format_rfc3339_sec(int64_t ns, char *out);

/*
 * How long before now `then` was, as git says it: "5 seconds ago",
 * "3 hours ago", "2 weeks ago", "1 year, 2 months ago", "in the future".
 * Pure (now is given); out holds DATE_RELATIVE_LEN bytes.
 */
#define DATE_RELATIVE_LEN 64
void date_format_relative(int64_t then_ns, int64_t now_ns, char *out);

#endif

#ifndef THRUM_CONFIG_CACHE_H
#define THRUM_CONFIG_CACHE_H

/*
 * The thrum.* entries of git's configuration, as `git config -z
 * --show-scope --get-regexp ^thrum\.` prints them (scope NUL key LF value
 * NUL, or scope NUL key NUL for a key without a value), from
 * var/config-cache when nothing git would read has changed since a `git
 * config` child wrote it, else from a child.  The caller owns out.
 */
struct repo;
struct strbuf;

/*
 * Fill out (reset first).  0 with the entries (none when git has none or
 * cannot read its configuration, as the child's exit status says).
 */
int config_cache_entries(const struct repo *r, struct strbuf *out);

/* milliseconds a file must have been left alone before it is cached on */
#define CONFIG_CACHE_SETTLE_MS 2000

#endif

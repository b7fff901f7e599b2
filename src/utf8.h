#ifndef THRUM_UTF8_H
#define THRUM_UTF8_H

/*
 * The project's one UTF-8 validator, for what we are about to write:
 * json-c checks what it parses, not what it is given to serialise, and a
 * line that is not UTF-8 would be skipped by every reader.  Nothing is
 * allocated.
 */

/*
 * Is s[0..len) well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF)?  1, or 0 with the offset of the
 * first bad byte in *bad (bad may be NULL).
 */
int utf8_valid(const char *s, size_t len, size_t *bad);

/*
 * The same for a NUL-terminated string (NULL is valid): 0 when valid,
 * else the position of the first bad byte, counted from 1, for messages
 * such as "--reason is not valid UTF-8 (byte 3)".
 */
size_t utf8_invalid_at(const char *s);

#endif

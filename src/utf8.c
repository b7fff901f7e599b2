/*
 * utf8.c: validation of UTF-8 before it reaches the log (see utf8.h).
 * The rules are those of RFC 3629, which json-c's tokener also applies
 * on the reading side: what passes here parses there.
 */
#include "thrum.h"
#include "utf8.h"

int utf8_valid(const char *s, size_t len, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i], cp, min, n, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			goto fail;	/* continuation, 0xc0, 0xc1, 0xf5.. */
		}
		if (len - i <= n)
			goto fail;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				goto fail;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto fail;
		i += n + 1;
	}
	return 1;
fail:
	if (bad)
		*bad = i;
	return 0;
}

size_t utf8_invalid_at(const char *s)
{
	size_t bad;

	if (!s || utf8_valid(s, strlen(s), &bad))
		return 0;
	return bad + 1;
}

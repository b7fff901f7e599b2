/*
 * format-escape.c: how text from the log and from remotes reaches a
 * terminal (format.h): control characters, bidirectional overrides and
 * invalid UTF-8 shown escaped, never interpreted.
 */
#include "thrum.h"
#include "format.h"
#include "strbuf.h"
#include "utf8.h"

static int is_bidi(unsigned cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* the length of the UTF-8 sequence at p (of at most len bytes), or 0 */
static size_t sequence(const unsigned char *p, size_t len, unsigned *cp)
{
	size_t n = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4, i;

	if (n > len || !utf8_valid((const char *)p, n, NULL))
		return 0;
	*cp = n == 1 ? *p : n == 2 ? *p & 0x1f : n == 3 ? *p & 0x0f : *p & 0x07;
	for (i = 1; i < n; i++)
		*cp = (*cp << 6) | (p[i] & 0x3f);
	return n;
}

/* the letter of a C escape for c, or 0 */
static char named_escape(unsigned c)
{
	switch (c) {
	case '\a': return 'a';
	case '\b': return 'b';
	case '\033': return 'e';
	case '\n': return 'n';
	case '\r': return 'r';
	case '\t': return 't';
	default: return 0;
	}
}

void format_escape(struct strbuf *out, const char *s, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);

	while (len) {
		unsigned cp = 0;
		size_t n = sequence(p, len, &cp);

		if (!n) {
			strbuf_addf(out, "\\x%02x", *p);	/* not UTF-8 */
			p++;
			len--;
			continue;
		}
		if ((flags & FORMAT_KEEP_LINES) && (cp == '\n' || cp == '\t'))
			strbuf_addch(out, cp);
		else if (named_escape(cp))
			strbuf_addf(out, "\\%c", named_escape(cp));
		else if (cp < 0x20 || cp == 0x7f)
			strbuf_addf(out, "\\x%02x", cp);
		else if ((cp >= 0x80 && cp <= 0x9f) || is_bidi(cp))
			strbuf_addf(out, "\\u%04x", cp);
		else
			strbuf_add(out, p, n);
		p += n;
		len -= n;
	}
}

const char *format_safe(struct strbuf *buf, const char *s)
{
	strbuf_reset(buf);
	if (s)
		format_escape(buf, s, 0);
	return buf->buf;
}

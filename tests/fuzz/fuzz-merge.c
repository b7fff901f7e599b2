/*
 * libFuzzer target: the merge of two versions of a log file.  The input
 * is split at its first 0xff byte into a local and a remote version.
 * Checked on every input: no crash; symmetry, merge(a, b) == merge(b, a);
 * idempotence, merge(m, a) == m and merge(m, b) == m; and no loss, every
 * non-blank line of a and of b is a line of m.
 */
#include "thrum.h"
#include "merge.h"
#include "strbuf.h"

#define MAX_LINE 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void merge(const char *a, size_t al, const char *b, size_t bl,
		  struct strbuf *out)
{
	strbuf_reset(out);
	merge_file(a, al, b, bl, MAX_LINE, out, NULL, NULL);
}

static int same(const struct strbuf *x, const struct strbuf *y)
{
	return x->len == y->len && !memcmp(x->buf, y->buf, x->len);
}

/* each non-blank line of x (up to MAX_LINE long) is a whole line of y */
static void contained(const char *x, size_t xl, const struct strbuf *y)
{
	const char *p = x, *end = x + xl;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *q = y->buf, *yend = y->buf + y->len;
		int found = !n || n > MAX_LINE;

		while (!found && q < yend) {
			const char *ynl = memchr(q, '\n', yend - q);
			size_t m = ynl ? (size_t)(ynl - q) : (size_t)(yend - q);

			found = m == n && !memcmp(p, q, n);
			q += m + 1;
		}
		if (!found)
			abort();
		p += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *cut = memchr(in, 0xff, size);
	size_t al = cut ? (size_t)(cut - in) : size;
	const char *b = cut ? cut + 1 : in + size;
	size_t bl = cut ? size - al - 1 : 0;
	struct strbuf ab = STRBUF_INIT, ba = STRBUF_INIT, again = STRBUF_INIT;

	merge(in, al, b, bl, &ab);
	merge(b, bl, in, al, &ba);
	if (!same(&ab, &ba))
		abort();
	merge(ab.buf, ab.len, in, al, &again);
	if (!same(&again, &ab))
		abort();
	merge(ab.buf, ab.len, b, bl, &again);
	if (!same(&again, &ab))
		abort();
	contained(in, al, &ab);
	contained(b, bl, &ab);
	strbuf_release(&ab);
	strbuf_release(&ba);
	strbuf_release(&again);
	return 0;
}

/*
 * strbuf.c: the project's one string buffer.  Invariant: buf[len] == '\0'
 * and buf is never NULL (an empty buffer points at strbuf_slopbuf, which is
 * never written to except for its NUL).
 */
#include "thrum.h"
#include "strbuf.h"
#include "wrapper.h"

char strbuf_slopbuf[1];

void strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->alloc = sb->len = sb->max = 0;
	sb->buf = strbuf_slopbuf;
	if (hint)
		strbuf_grow(sb, hint);
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	sb->alloc = sb->len = 0;
	sb->buf = strbuf_slopbuf;
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *res;

	strbuf_grow(sb, 0);
	res = sb->buf;
	if (len)
		*len = sb->len;
	sb->alloc = sb->len = 0;
	sb->buf = strbuf_slopbuf;
	return res;
}

int strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t want;
	int fresh = !sb->alloc;

	if (sb->len + extra < sb->len)
		return -1;
	if (sb->max && sb->len + extra > sb->max)
		return -1;
	want = sb->len + extra + 1;
	if (want <= sb->alloc)
		return 0;
	if (want < sb->alloc * 3 / 2)
		want = sb->alloc * 3 / 2;
	if (want < 64)
		want = 64;
	if (fresh)
		sb->buf = NULL;
	sb->buf = xrealloc(sb->buf, want);
	sb->alloc = want;
	if (fresh)
		sb->buf[0] = '\0';
	return 0;
}

void strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (!sb->alloc) {
		if (len)
			abort();
		return;
	}
	if (len >= sb->alloc)
		abort();
	sb->len = len;
	sb->buf[len] = '\0';
}

int strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (strbuf_grow(sb, len) < 0)
		return -1;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	if (sb->alloc)
		sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_addstr(struct strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

int strbuf_addch(struct strbuf *sb, int c)
{
	char ch = (char)c;

	return strbuf_add(sb, &ch, 1);
}

int strbuf_addbuf(struct strbuf *sb, const struct strbuf *other)
{
	return strbuf_add(sb, other->buf, other->len);
}

int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0 || strbuf_grow(sb, n) < 0)
		return -1;
	vsnprintf(sb->buf + sb->len, n + 1, fmt, ap);
	sb->len += n;
	return 0;
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return ret;
}

void strbuf_rtrim(struct strbuf *sb)
{
	while (sb->len && isspace((unsigned char)sb->buf[sb->len - 1]))
		sb->len--;
	if (sb->alloc)
		sb->buf[sb->len] = '\0';
}

void strbuf_trim(struct strbuf *sb)
{
	size_t skip = 0;

	strbuf_rtrim(sb);
	while (skip < sb->len && isspace((unsigned char)sb->buf[skip]))
		skip++;
	if (skip) {
		memmove(sb->buf, sb->buf + skip, sb->len - skip);
		strbuf_setlen(sb, sb->len - skip);
	}
}

int strbuf_getline(struct strbuf *sb, FILE *fp)
{
	int c;

	strbuf_reset(sb);
	while ((c = getc(fp)) != EOF) {
		if (c == '\n')
			return 0;
		if (strbuf_addch(sb, c) < 0)
			return EOF;
	}
	return sb->len ? 0 : EOF;
}

/* what can be written at buf + len without growing, within max */
static size_t room_left(const struct strbuf *sb)
{
	size_t room = sb->alloc ? sb->alloc - sb->len - 1 : 0;

	if (sb->max && room > sb->max - sb->len)
		room = sb->max - sb->len;
	return room;
}

/* room for up to want more bytes, never past max; 0 when at max */
static size_t grow_within(struct strbuf *sb, size_t want)
{
	if (sb->max && sb->len + want > sb->max)
		want = sb->max - sb->len;
	if (want && strbuf_grow(sb, want) < 0)
		return 0;
	return room_left(sb);
}

ssize_t strbuf_read_fd(struct strbuf *sb, int fd, size_t hint)
{
	strbuf_reset(sb);
	grow_within(sb, hint ? hint : 8192);
	for (;;) {
		size_t room = room_left(sb);
		ssize_t n;

		if (!room)
			room = grow_within(sb, 8192);
		if (!room) {
			char c;

			/* at the cap: fine only if nothing is left */
			n = read(fd, &c, 1);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n == 0)
				break;
			errno = n < 0 ? errno : EFBIG;
			return -1;
		}
		n = read(fd, sb->buf + sb->len, room);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			strbuf_setlen(sb, 0);
			return -1;
		}
		if (!n)
			break;
		sb->len += n;
	}
	if (sb->alloc)
		sb->buf[sb->len] = '\0';
	return sb->len;
}

ssize_t strbuf_read_file(struct strbuf *sb, const char *path, size_t hint)
{
	int fd = xopen(path, O_RDONLY, 0);
	ssize_t n;
	int err;

	if (fd < 0)
		return -1;
	n = strbuf_read_fd(sb, fd, hint);
	err = errno;
	close(fd);
	errno = err;
	return n;
}

char *xstrvfmt(const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || strbuf_grow(&sb, n) < 0)
		return xstrdup("");
	vsnprintf(sb.buf, n + 1, fmt, ap);
	sb.len = n;
	return strbuf_detach(&sb, NULL);
}

char *xstrfmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xstrvfmt(fmt, ap);
	va_end(ap);
	return s;
}

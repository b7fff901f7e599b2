#ifndef THRUM_STRBUF_H
#define THRUM_STRBUF_H

/*
 * A growable byte buffer.  `buf` is never NULL and always NUL-terminated;
 * `len` excludes the NUL.  The buffer owns its memory until
 * strbuf_release() or strbuf_detach().  A non-zero `max` caps `len`: an
 * append that would exceed it fails with -1 and leaves the buffer as it was
 * (use it for anything read from a socket or a remote).
 */
struct strbuf {
	size_t alloc;
	size_t len;
	size_t max;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
/* return the buffer (caller frees) and reinitialise sb */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* make room for extra more bytes; -1 when that would pass max */
int strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, int c);
PRINTF_LIKE(2, 3) int strbuf_addf(struct strbuf *sb, const char *fmt, ...);
PRINTF_LIKE(2, 0) int strbuf_vaddf(struct strbuf *sb, const char *fmt,
				   va_list ap);
int strbuf_addbuf(struct strbuf *sb, const struct strbuf *other);

/* a new formatted string (caller frees) */
PRINTF_LIKE(1, 2) char *xstrfmt(const char *fmt, ...);
PRINTF_LIKE(1, 0) char *xstrvfmt(const char *fmt, va_list ap);

void strbuf_trim(struct strbuf *sb);
void strbuf_rtrim(struct strbuf *sb);

/*
 * Read one line from fp without its "\n" into sb (replacing its content).
 * Returns 0, or EOF at end of file with nothing read.
 */
int strbuf_getline(struct strbuf *sb, FILE *fp);

/* replace sb with the whole content of fd / path; bytes read or -1 */
ssize_t strbuf_read_fd(struct strbuf *sb, int fd, size_t hint);
ssize_t strbuf_read_file(struct strbuf *sb, const char *path, size_t hint);

#endif

#ifndef THRUM_STRVEC_H
#define THRUM_STRVEC_H

/*
 * A NULL-terminated array of owned strings, usable as an argv.  `v` is
 * never NULL.  strvec_clear() frees every string and the array.
 */
struct strvec {
	const char **v;
	size_t nr;
	size_t alloc;
};

extern const char *empty_strvec[];
#define STRVEC_INIT { empty_strvec, 0, 0 }

void strvec_init(struct strvec *sv);
const char *strvec_push(struct strvec *sv, const char *s);
PRINTF_LIKE(2, 3) const char *strvec_pushf(struct strvec *sv,
					   const char *fmt, ...);
/* push each argument up to a NULL */
void strvec_pushl(struct strvec *sv, ...);
void strvec_pushv(struct strvec *sv, const char **items);
void strvec_clear(struct strvec *sv);
/* 1 when one of sv's strings is s */
int strvec_has(const struct strvec *sv, const char *s);

#endif

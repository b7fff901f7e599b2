#ifndef THRUM_ULID_H
#define THRUM_ULID_H

/*
 * ULIDs: 48-bit millisecond time + 80 random bits, written as 26 Crockford
 * base32 characters.  A generator is monotonic: within one millisecond each
 * id is the previous one plus one, so ids from one process sort in the
 * order they were made.  Clock and random source are injectable for tests.
 * Pure: the default sources are clock_gettime() and getrandom(), nothing
 * else touches the system.
 */
#define ULID_LEN 26

struct ulid {
	uint8_t b[16];		/* big-endian: 6 bytes time, 10 random */
};

typedef uint64_t (*ulid_clock_fn)(void *payload);
typedef int (*ulid_random_fn)(uint8_t *buf, size_t len, void *payload);

struct ulid_gen {
	struct ulid last;
	int have_last;
	ulid_clock_fn clock;	/* milliseconds since the epoch */
	ulid_random_fn random;
	void *payload;
};

#define ULID_GEN_INIT { { { 0 } }, 0, NULL, NULL, NULL }

/* next id from gen; 0, or -1 if no randomness could be had */
int ulid_next(struct ulid_gen *gen, struct ulid *out);

/*
 * Write the 26 characters plus NUL into out (at least ULID_LEN + 1 bytes).
 */
void ulid_format(const struct ulid *id, char *out);

/*
 * Parse exactly 26 Crockford characters (case-insensitive; I, L -> 1,
 * O -> 0).  Returns 0, or THRUM_EINVALID.
 */
int ulid_parse(const char *s, size_t len, struct ulid *out);

int ulid_cmp(const struct ulid *a, const struct ulid *b);

/*
 * Crockford base32 of len bytes in RFC 4648 bit order (five bits at a
 * time, most significant first, the last group zero-padded, no '='), the
 * encoding the original Thrum uses for its hashed ids; out holds at least
 * (len * 8 + 4) / 5 + 1 bytes.  Returns the number of characters.
 */
size_t crockford_encode(const uint8_t *in, size_t len, char *out);
uint64_t ulid_time_ms(const struct ulid *id);

/*
 * A fresh "<prefix><ULID>" string from the process-wide generator (caller
 * frees), e.g. ulid_new_id("msg_").
 */
char *ulid_new_id(const char *prefix);

/* the process-wide generator, so tests can inject clock and randomness */
struct ulid_gen *ulid_default_gen(void);

#endif

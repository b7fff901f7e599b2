/*
 * ulid.c: ULID generation and parsing (https://github.com/ulid/spec).
 * Invariant: ids from one generator strictly increase, even when the
 * clock stands still or steps back (the previous time is kept and the
 * random part incremented).  Pure apart from the default time and random
 * sources.
 */
#include "thrum.h"
#include "ulid.h"
#include "wrapper.h"

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static uint64_t default_clock(void *payload)
{
	struct timespec ts;

	(void)payload;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int default_random(uint8_t *buf, size_t len, void *payload)
{
	size_t got = 0;

	(void)payload;
	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += n;
	}
	return 0;
}

uint64_t ulid_time_ms(const struct ulid *id)
{
	uint64_t t = 0;
	int i;

	for (i = 0; i < 6; i++)
		t = (t << 8) | id->b[i];
	return t;
}

static void set_time(struct ulid *id, uint64_t ms)
{
	int i;

	for (i = 5; i >= 0; i--) {
		id->b[i] = ms & 0xff;
		ms >>= 8;
	}
}

/* add one to the 80-bit random part; returns 1 on overflow */
static int increment_random(struct ulid *id)
{
	int i;

	for (i = 15; i >= 6; i--)
		if (++id->b[i])
			return 0;
	return 1;
}

int ulid_next(struct ulid_gen *gen, struct ulid *out)
{
	ulid_clock_fn clock = gen->clock ? gen->clock : default_clock;
	ulid_random_fn rnd = gen->random ? gen->random : default_random;
	uint64_t now = clock(gen->payload) & 0xffffffffffffULL;
	struct ulid id;

	if (gen->have_last && now <= ulid_time_ms(&gen->last)) {
		id = gen->last;
		if (increment_random(&id)) {
			/* 2^80 ids in one millisecond: borrow the next one */
			set_time(&id, ulid_time_ms(&gen->last) + 1);
			memset(id.b + 6, 0, 10);
		}
	} else {
		set_time(&id, now);
		if (rnd(id.b + 6, 10, gen->payload) < 0)
			return -1;
		/*
		 * Keep the top bit clear so that a burst in one millisecond
		 * has 2^79 increments before it must borrow.
		 */
		id.b[6] &= 0x7f;
	}
	gen->last = id;
	gen->have_last = 1;
	*out = id;
	return 0;
}

void ulid_format(const struct ulid *id, char *out)
{
	/* 128 bits as 26 groups of 5, the first group holding 3 bits */
	int bit = 128 - 130;	/* two leading zero bits */
	int i;

	for (i = 0; i < ULID_LEN; i++, bit += 5) {
		unsigned v = 0;
		int k;

		for (k = 0; k < 5; k++) {
			int pos = bit + k;

			v <<= 1;
			if (pos >= 0)
				v |= (id->b[pos / 8] >> (7 - pos % 8)) & 1;
		}
		out[i] = crockford[v];
	}
	out[ULID_LEN] = '\0';
}

static int decode_char(int c)
{
	const char *p;

	c = toupper(c);
	if (c == 'I' || c == 'L')
		c = '1';
	else if (c == 'O')
		c = '0';
	p = c ? strchr(crockford, c) : NULL;
	return p ? (int)(p - crockford) : -1;
}

int ulid_parse(const char *s, size_t len, struct ulid *out)
{
	struct ulid id;
	int bit = -2, i;

	if (len != ULID_LEN)
		return THRUM_EINVALID;
	memset(&id, 0, sizeof(id));
	for (i = 0; i < ULID_LEN; i++, bit += 5) {
		int v = decode_char((unsigned char)s[i]), k;

		if (v < 0)
			return THRUM_EINVALID;
		if (!i && v > 7)
			return THRUM_EINVALID;	/* would overflow 128 bits */
		for (k = 0; k < 5; k++) {
			int pos = bit + k;

			if (pos >= 0 && (v >> (4 - k)) & 1)
				id.b[pos / 8] |= 1 << (7 - pos % 8);
		}
	}
	*out = id;
	return 0;
}

int ulid_cmp(const struct ulid *a, const struct ulid *b)
{
	return memcmp(a->b, b->b, sizeof(a->b));
}

static struct ulid_gen default_gen = ULID_GEN_INIT;

struct ulid_gen *ulid_default_gen(void)
{
	return &default_gen;
}

char *ulid_new_id(const char *prefix)
{
	size_t plen = strlen(prefix);
	char *s = xmalloc(plen + ULID_LEN + 1);
	struct ulid id;

	if (ulid_next(&default_gen, &id) < 0) {
		free(s);
		return NULL;
	}
	memcpy(s, prefix, plen);
	ulid_format(&id, s + plen);
	return s;
}

size_t crockford_encode(const uint8_t *in, size_t len, char *out)
{
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[n++] = crockford[(acc >> bits) & 31];
		}
	}
	if (bits)
		out[n++] = crockford[(acc << (5 - bits)) & 31];
	out[n] = '\0';
	return n;
}

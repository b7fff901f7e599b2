/* peer: pairing strings, and nudges that forgers cannot get through */
#include "unit.h"
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include "peer.h"
#include "wrapper.h"

#define NOW 1800000000000ULL

static void make_pair(struct peer_list *l, const char *name)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	assert_int_equal(peer_new(&l->v[l->nr], name), 0);
	l->nr++;
}

static enum peer_verdict check(struct peer_list *l, struct peer_guards *g,
			       const unsigned char *buf, size_t len,
			       uint64_t now)
{
	const unsigned char *payload;
	enum peer_msg type;
	size_t which, plen;

	return peer_verify(l, g, buf, len, now, &which, &type, &payload,
			   &plen);
}

static void test_round_trip(void **state)
{
	struct peer_list l = PEER_LIST_INIT;
	struct peer_guards g;
	unsigned char buf[PEER_MAX_DATAGRAM];
	const char oid[] = "0123456789abcdef0123456789abcdef01234567";
	const unsigned char *payload;
	enum peer_msg type;
	size_t len, which, plen;

	(void)state;
	make_pair(&l, "alpha");
	make_pair(&l, "beta");
	peer_guards_init(&g, &l);
	len = peer_encode(&l.v[1], PEER_NUDGE, NOW, oid, 40, buf);
	assert_true(len > 0 && len <= PEER_MAX_DATAGRAM);
	assert_int_equal(peer_verify(&l, &g, buf, len, NOW + 5, &which, &type,
				     &payload, &plen), PEER_OK);
	assert_int_equal(which, 1);
	assert_int_equal(type, PEER_NUDGE);
	assert_int_equal(plen, 40);
	assert_memory_equal(payload, oid, 40);
	/* the same datagram again is a replay */
	assert_int_equal(check(&l, &g, buf, len, NOW + 6), PEER_REPLAY);
	assert_int_equal(g.v[1].counts[PEER_OK], 1);
	assert_int_equal(g.v[1].counts[PEER_REPLAY], 1);
	peer_guards_release(&g);
	peer_list_release(&l);
}

static void test_forgeries(void **state)
{
	struct peer_list l = PEER_LIST_INIT, other = PEER_LIST_INIT;
	struct peer_guards g;
	unsigned char buf[PEER_MAX_DATAGRAM + 8], bad[PEER_MAX_DATAGRAM + 8];
	size_t len, i;

	(void)state;
	make_pair(&l, "alpha");
	make_pair(&other, "mallory");
	peer_guards_init(&g, &l);
	len = peer_encode(&l.v[0], PEER_NUDGE, NOW, "x", 1, buf);
	/* any byte changed, anywhere: never accepted */
	for (i = 0; i < len; i++) {
		memcpy(bad, buf, len);
		bad[i] ^= 0x40;
		assert_int_not_equal(check(&l, &g, bad, len, NOW), PEER_OK);
	}
	assert_true(g.v[0].counts[PEER_BAD_MAC] > 0);
	/* the same id with another secret */
	memcpy(other.v[0].id, l.v[0].id, PEER_ID_BYTES);
	len = peer_encode(&other.v[0], PEER_NUDGE, NOW, "x", 1, bad);
	assert_int_equal(check(&l, &g, bad, len, NOW), PEER_BAD_MAC);
	/* a pair we do not know */
	randombytes_buf(other.v[0].id, PEER_ID_BYTES);
	len = peer_encode(&other.v[0], PEER_NUDGE, NOW, "x", 1, bad);
	assert_int_equal(check(&l, &g, bad, len, NOW), PEER_UNKNOWN);
	/* stale and from the future */
	len = peer_encode(&l.v[0], PEER_NUDGE, NOW - PEER_MAX_SKEW_MS - 1,
			  "x", 1, buf);
	assert_int_equal(check(&l, &g, buf, len, NOW), PEER_STALE);
	len = peer_encode(&l.v[0], PEER_NUDGE, NOW + PEER_MAX_SKEW_MS + 1,
			  "x", 1, buf);
	assert_int_equal(check(&l, &g, buf, len, NOW), PEER_STALE);
	/* oversize, truncated, a lying length */
	memset(bad, 0, sizeof(bad));
	assert_int_equal(check(&l, &g, bad, PEER_MAX_DATAGRAM + 1, NOW),
			 PEER_OVERSIZE);
	len = peer_encode(&l.v[0], PEER_NUDGE, NOW, "xyz", 3, buf);
	assert_int_equal(check(&l, &g, buf, len - 1, NOW), PEER_MALFORMED);
	assert_int_equal(check(&l, &g, buf, 10, NOW), PEER_MALFORMED);
	memcpy(bad, buf, len);
	bad[PEER_HEADER_BYTES - 1] = 2;
	assert_int_equal(check(&l, &g, bad, len, NOW), PEER_MALFORMED);
	assert_int_equal(peer_encode(&l.v[0], PEER_NUDGE, NOW, bad,
				     PEER_MAX_PAYLOAD + 1, buf), 0);
	peer_guards_release(&g);
	peer_list_release(&l);
	peer_list_release(&other);
}

static void test_rate(void **state)
{
	struct peer_list l = PEER_LIST_INIT;
	struct peer_guards g;
	unsigned char buf[PEER_MAX_DATAGRAM];
	size_t len;
	int i;

	(void)state;
	make_pair(&l, "alpha");
	peer_guards_init(&g, &l);
	for (i = 0; i < PEER_RATE; i++) {
		len = peer_encode(&l.v[0], PEER_NUDGE, NOW, "x", 1, buf);
		assert_int_equal(check(&l, &g, buf, len, NOW), PEER_OK);
	}
	len = peer_encode(&l.v[0], PEER_NUDGE, NOW, "x", 1, buf);
	assert_int_equal(check(&l, &g, buf, len, NOW), PEER_RATE_LIMITED);
	/* the next second counts anew */
	len = peer_encode(&l.v[0], PEER_NUDGE, NOW + 1000, "x", 1, buf);
	assert_int_equal(check(&l, &g, buf, len, NOW + 1000), PEER_OK);
	peer_guards_release(&g);
	peer_list_release(&l);
}

static void test_pairing(void **state)
{
	struct peer_list l = PEER_LIST_INIT;
	struct peer back;
	const char *why = NULL;
	char *s;
	static const char *const bad[] = {
		"", "thrum-pair", "thrum-pair:2:a:00:00:1.2.3.4:5",
		"thrum-pair:1:a:zz:AAAA:127.0.0.1:7400",
		"thrum-pair:1:Bad:00112233445566778899aabbccddeeff:"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:127.0.0.1:7400",
		"thrum-pair:1:a:00112233445566778899aabbccddeeff:short:"
		"127.0.0.1:7400",
		"thrum-pair:1:a:00112233445566778899aabbccddeeff:"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:127.0.0.1",
	};
	size_t i;

	(void)state;
	make_pair(&l, "alpha");
	s = peer_pairing_string(&l.v[0], "laptop", "100.64.0.7:7400");
	assert_int_equal(strncmp(s, "thrum-pair:1:laptop:", 20), 0);
	assert_int_equal(peer_parse_pairing(s, &back, &why), 0);
	assert_string_equal(back.name, "laptop");
	assert_string_equal(back.address, "100.64.0.7:7400");
	assert_memory_equal(back.id, l.v[0].id, PEER_ID_BYTES);
	assert_memory_equal(back.secret, l.v[0].secret, PEER_SECRET_BYTES);
	free(back.name);
	free(back.address);
	free(s);
	s = peer_pairing_string(&l.v[0], "v6", "[::1]:7400");
	assert_int_equal(peer_parse_pairing(s, &back, &why), 0);
	assert_string_equal(back.address, "[::1]:7400");
	free(back.name);
	free(back.address);
	free(s);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		if (!peer_parse_pairing(bad[i], &back, &why))
			fail_msg("accepted '%s'", bad[i]);
		assert_non_null(why);
	}
	assert_int_equal(peer_valid_address("127.0.0.1:7400"), 1);
	assert_int_equal(peer_valid_address("127.0.0.1:0"), 0);
	assert_int_equal(peer_valid_address("127.0.0.1:65536"), 0);
	assert_int_equal(peer_valid_address(":7400"), 0);
	assert_int_equal(peer_valid_address("host name:7400"), 0);
	peer_list_release(&l);
}

/* numeric addresses only, IPv4 and bracketed IPv6; never a name server */
static void test_resolve(void **state)
{
	static const char *const bad[] = {
		"localhost:7400", "example.com:7400", "1.2.3:7400x",
		"[::1:7400", "127.0.0.1", "127.0.0.1:0",
	};
	struct sockaddr_storage ss;
	unsigned len = 0;
	size_t i;

	(void)state;
	assert_int_equal(peer_resolve("127.0.0.1:7400", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 7400);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(peer_resolve("[::1]:9", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 9);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (!peer_resolve(bad[i], &ss, &len))
			fail_msg("resolved '%s'", bad[i]);
}

/* the JSON keys of the verdicts: distinct, one word each */
static void test_verdict_keys(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i < PEER_VERDICT_MAX; i++) {
		const char *k = peer_verdict_key(i);

		assert_null(strchr(k, ' '));
		assert_string_not_equal(k, "?");
		for (j = 0; j < i; j++)
			assert_string_not_equal(k, peer_verdict_key(j));
	}
	assert_string_equal(peer_verdict_key(PEER_BAD_MAC), "bad_mac");
	assert_string_equal(peer_verdict_key(PEER_VERDICT_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_forgeries),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_pairing),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_verdict_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * peer.c: pairs of daemons and the nudges they send each other (see
 * peer.h).  All cryptography is libsodium's: randombytes for ids, secrets
 * and nonces, crypto_auth_hmacsha256 for the MAC and its constant-time
 * check, sodium_bin2base64 for the pairing string.  A datagram is checked
 * in order of cost: size and shape, the pair, the MAC, then time, replay
 * and rate, so that a flood of forgeries costs one HMAC each at most.
 */
#include "thrum.h"
#include <ini.h>
#include <netdb.h>
#include <sodium.h>
#include <sys/socket.h>
#include "peer.h"
#include "lockfile.h"
#include "repo.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

static const char magic[4] = { 'T', 'H', 'N', '1' };

static void crypto_ready(void)
{
	if (sodium_init() < 0)
		BUG("libsodium does not initialise");
}

static char *peers_path(const struct repo *r)
{
	return path_join(r->common_dir, "thrum-peers");
}

void peer_list_release(struct peer_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		free(l->v[i].name);
		free(l->v[i].address);
		sodium_memzero(l->v[i].secret, sizeof(l->v[i].secret));
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct peer *peer_find(struct peer_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

static int valid_label(const char *s)
{
	const char *p;

	if (!*s || strlen(s) > 64 || !(isalnum((unsigned char)*s)))
		return 0;
	for (p = s; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
		      *p == '_' || *p == '-'))
			return 0;
	return 1;
}

int peer_valid_address(const char *address)
{
	const char *colon = address ? strrchr(address, ':') : NULL;
	long port;

	if (!colon || colon == address || strlen(address) > 255)
		return 0;
	if (strpbrk(address, " \t\r\n/"))
		return 0;
	return !thrum_parse_long(colon + 1, 1, 65535, &port);
}

/* --- the file --- */

struct load_state {
	struct peer_list *l;
	int bad;
};

static struct peer *section_peer(struct load_state *st, const char *section)
{
	size_t n = strlen(section);
	char *name;
	struct peer *p;

	/* [peer "<name>"] */
	if (n < 8 || strncmp(section, "peer \"", 6) || section[n - 1] != '"')
		return NULL;
	name = xstrndup(section + 6, n - 7);
	p = peer_find(st->l, name);
	if (!p) {
		ALLOC_GROW(st->l->v, st->l->nr + 1, st->l->alloc);
		p = &st->l->v[st->l->nr++];
		memset(p, 0, sizeof(*p));
		p->name = name;
	} else {
		free(name);
	}
	return p;
}

static int load_handler(void *payload, const char *section, const char *key,
			const char *value)
{
	struct load_state *st = payload;
	struct peer *p = section_peer(st, section);
	size_t len;

	if (!p)
		return 1;
	if (!strcmp(key, "id")) {
		if (sodium_hex2bin(p->id, sizeof(p->id), value, strlen(value),
				   NULL, &len, NULL) || len != sizeof(p->id))
			st->bad = 1;
	} else if (!strcmp(key, "secret")) {
		if (sodium_base642bin(p->secret, sizeof(p->secret), value,
				      strlen(value), NULL, &len, NULL,
				      sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
		    len != sizeof(p->secret))
			st->bad = 1;
	} else if (!strcmp(key, "address")) {
		free(p->address);
		p->address = *value ? xstrdup(value) : NULL;
	}
	return 1;
}

int peer_list_load(const struct repo *r, struct peer_list *out)
{
	char *path = peers_path(r);
	struct load_state st = { out, 0 };
	int ret = 0, line;

	crypto_ready();
	memset(out, 0, sizeof(*out));
	if (!access(path, F_OK)) {
		line = ini_parse(path, load_handler, &st);
		if (line || st.bad)
			ret = error("cannot read the pairs in '%s'%s", path,
				    st.bad ? ": a bad id or secret" : "");
	}
	free(path);
	if (ret)
		peer_list_release(out);
	return ret;
}

int peer_list_save(const struct repo *r, const struct peer_list *l)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = peers_path(r);
	size_t i;
	int ret;

	strbuf_addstr(&sb, "# git thrum peer: the pairs of this repository "
		      "(secrets: keep this file private)\n");
	for (i = 0; i < l->nr; i++) {
		const struct peer *p = &l->v[i];
		char hex[PEER_ID_BYTES * 2 + 1];
		char b64[sodium_base64_ENCODED_LEN(PEER_SECRET_BYTES,
			 sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

		sodium_bin2hex(hex, sizeof(hex), p->id, sizeof(p->id));
		sodium_bin2base64(b64, sizeof(b64), p->secret,
				  sizeof(p->secret),
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		strbuf_addf(&sb, "[peer \"%s\"]\nid = %s\nsecret = %s\n"
			    "address = %s\n", p->name, hex, b64,
			    p->address ? p->address : "");
		sodium_memzero(b64, sizeof(b64));
	}
	ret = write_file_atomic(path, sb.buf, sb.len, 0600);
	sodium_memzero(sb.buf, sb.len);
	strbuf_release(&sb);
	free(path);
	return ret;
}

int peer_new(struct peer *p, const char *name)
{
	crypto_ready();
	if (!valid_label(name))
		return error("invalid peer name '%s': want a-z, 0-9, '_' and "
			     "'-'", name);
	memset(p, 0, sizeof(*p));
	p->name = xstrdup(name);
	randombytes_buf(p->id, sizeof(p->id));
	randombytes_buf(p->secret, sizeof(p->secret));
	return 0;
}

/* --- the pairing string --- */

char *peer_pairing_string(const struct peer *p, const char *self_name,
			  const char *listen)
{
	char hex[PEER_ID_BYTES * 2 + 1];
	char b64[sodium_base64_ENCODED_LEN(PEER_SECRET_BYTES,
		 sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	char *s;

	crypto_ready();
	sodium_bin2hex(hex, sizeof(hex), p->id, sizeof(p->id));
	sodium_bin2base64(b64, sizeof(b64), p->secret, sizeof(p->secret),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	s = xstrfmt("thrum-pair:1:%s:%s:%s:%s", self_name, hex, b64, listen);
	sodium_memzero(b64, sizeof(b64));
	return s;
}

int peer_parse_pairing(const char *s, struct peer *out, const char **why)
{
	const char *f[6], *p = s;
	size_t n[6], i, len;
	char buf[128];

	crypto_ready();
	memset(out, 0, sizeof(*out));
	/* six fields; the address (the last) may hold ':' itself */
	for (i = 0; i < 6; i++) {
		const char *colon = i < 5 ? strchr(p, ':') : NULL;

		f[i] = p;
		n[i] = colon ? (size_t)(colon - p) : strlen(p);
		if (i < 5 && !colon) {
			*why = "not a pairing string (want thrum-pair:1:...)";
			return -1;
		}
		p += n[i] + 1;
	}
	if (n[0] != 10 || strncmp(f[0], "thrum-pair", 10) || n[1] != 1 ||
	    f[1][0] != '1') {
		*why = "not a pairing string of version 1 (thrum-pair:1:...)";
		return -1;
	}
	if (n[2] >= sizeof(buf) || !n[2]) {
		*why = "a bad name in the pairing string";
		return -1;
	}
	memcpy(buf, f[2], n[2]);
	buf[n[2]] = '\0';
	if (!valid_label(buf)) {
		*why = "a bad name in the pairing string";
		return -1;
	}
	if (sodium_hex2bin(out->id, sizeof(out->id), f[3], n[3], NULL, &len,
			   NULL) || len != sizeof(out->id)) {
		*why = "a bad pair id in the pairing string";
		return -1;
	}
	if (sodium_base642bin(out->secret, sizeof(out->secret), f[4], n[4],
			      NULL, &len, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
	    len != sizeof(out->secret)) {
		*why = "a bad secret in the pairing string";
		sodium_memzero(out->secret, sizeof(out->secret));
		return -1;
	}
	if (!peer_valid_address(f[5])) {
		*why = "a bad address in the pairing string (want host:port)";
		sodium_memzero(out->secret, sizeof(out->secret));
		return -1;
	}
	out->name = xstrdup(buf);
	out->address = xstrdup(f[5]);
	return 0;
}

/* --- datagrams --- */

static void put_u64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

size_t peer_encode(const struct peer *p, enum peer_msg type, uint64_t now_ms,
		   const void *payload, size_t len, unsigned char *out)
{
	unsigned char *q = out;

	crypto_ready();
	if (len > PEER_MAX_PAYLOAD)
		return 0;
	memcpy(q, magic, 4);
	q += 4;
	*q++ = (unsigned char)type;
	memcpy(q, p->id, PEER_ID_BYTES);
	q += PEER_ID_BYTES;
	put_u64(q, now_ms);
	q += 8;
	randombytes_buf(q, PEER_NONCE_BYTES);
	q += PEER_NONCE_BYTES;
	*q++ = (unsigned char)(len >> 8);
	*q++ = (unsigned char)(len & 0xff);
	memcpy(q, payload, len);
	q += len;
	crypto_auth_hmacsha256(q, out, (unsigned long long)(q - out),
			       p->secret);
	return (size_t)(q - out) + PEER_MAC_BYTES;
}

/* each verdict as a key (for JSON and counters) and as words for people */
static const struct {
	const char *key, *name;
} verdicts[PEER_VERDICT_MAX] = {
	[PEER_OK] = { "ok", "ok" },
	[PEER_OVERSIZE] = { "oversize", "oversize" },
	[PEER_MALFORMED] = { "malformed", "malformed" },
	[PEER_UNKNOWN] = { "unknown", "unknown peer" },
	[PEER_BAD_MAC] = { "bad_mac", "bad MAC" },
	[PEER_STALE] = { "stale", "stale" },
	[PEER_REPLAY] = { "replayed", "replayed" },
	[PEER_RATE_LIMITED] = { "rate_limited", "rate-limited" },
};

const char *peer_verdict_key(enum peer_verdict v)
{
	return v < PEER_VERDICT_MAX ? verdicts[v].key : "?";
}

const char *peer_verdict_name(enum peer_verdict v)
{
	return v < PEER_VERDICT_MAX ? verdicts[v].name : "?";
}

void peer_guards_init(struct peer_guards *g, const struct peer_list *l)
{
	memset(g, 0, sizeof(*g));
	g->nr = l->nr;
	g->v = xcalloc(l->nr ? l->nr : 1, sizeof(*g->v));
}

void peer_guards_release(struct peer_guards *g)
{
	free(g->v);
	memset(g, 0, sizeof(*g));
}

static int seen_nonce(const struct peer_guard *g, const unsigned char *nonce,
		      uint64_t now_ms)
{
	size_t i;

	for (i = 0; i < PEER_NONCES; i++)
		if (g->nonce_ms[i] && now_ms - g->nonce_ms[i] <=
		    2 * PEER_MAX_SKEW_MS &&
		    !memcmp(g->nonce[i], nonce, PEER_NONCE_BYTES))
			return 1;
	return 0;
}

enum peer_verdict peer_verify(const struct peer_list *l, struct peer_guards *g,
			      const unsigned char *buf, size_t len,
			      uint64_t now_ms, size_t *which,
			      enum peer_msg *type,
			      const unsigned char **payload, size_t *plen)
{
	const unsigned char *mac, *nonce;
	struct peer_guard *pg;
	uint64_t ts, skew;
	size_t i, n;

	crypto_ready();
	if (len > PEER_MAX_DATAGRAM) {
		g->oversize++;
		return PEER_OVERSIZE;
	}
	if (len < PEER_HEADER_BYTES + PEER_MAC_BYTES ||
	    memcmp(buf, magic, 4) || (buf[4] != PEER_NUDGE &&
				      buf[4] != PEER_HELLO)) {
		g->malformed++;
		return PEER_MALFORMED;
	}
	n = ((size_t)buf[PEER_HEADER_BYTES - 2] << 8) |
	    buf[PEER_HEADER_BYTES - 1];
	if (n > PEER_MAX_PAYLOAD ||
	    len != PEER_HEADER_BYTES + n + PEER_MAC_BYTES) {
		g->malformed++;
		return PEER_MALFORMED;
	}
	for (i = 0; i < l->nr; i++)
		if (!sodium_memcmp(l->v[i].id, buf + 5, PEER_ID_BYTES))
			break;
	if (i == l->nr || i >= g->nr) {
		g->unknown++;
		return PEER_UNKNOWN;
	}
	pg = &g->v[i];
	mac = buf + PEER_HEADER_BYTES + n;
	if (crypto_auth_hmacsha256_verify(mac, buf,
					  (unsigned long long)(mac - buf),
					  l->v[i].secret)) {
		pg->counts[PEER_BAD_MAC]++;
		return PEER_BAD_MAC;
	}
	ts = get_u64(buf + 5 + PEER_ID_BYTES);
	skew = ts > now_ms ? ts - now_ms : now_ms - ts;
	if (skew > PEER_MAX_SKEW_MS) {
		pg->counts[PEER_STALE]++;
		return PEER_STALE;
	}
	nonce = buf + 5 + PEER_ID_BYTES + 8;
	if (seen_nonce(pg, nonce, now_ms)) {
		pg->counts[PEER_REPLAY]++;
		return PEER_REPLAY;
	}
	if (now_ms / 1000 != pg->window_ms / 1000) {
		pg->window_ms = now_ms;
		pg->in_window = 0;
	}
	if (pg->in_window >= PEER_RATE) {
		pg->counts[PEER_RATE_LIMITED]++;
		return PEER_RATE_LIMITED;
	}
	pg->in_window++;
	memcpy(pg->nonce[pg->next], nonce, PEER_NONCE_BYTES);
	pg->nonce_ms[pg->next] = now_ms;
	pg->next = (pg->next + 1) % PEER_NONCES;
	pg->counts[PEER_OK]++;
	pg->last_ok_ms = now_ms;
	*which = i;
	*type = (enum peer_msg)buf[4];
	*payload = buf + PEER_HEADER_BYTES;
	*plen = n;
	return PEER_OK;
}

/* --- sending --- */

int peer_resolve(const char *address, struct sockaddr_storage *out,
		 unsigned *len)
{
	struct addrinfo hints, *res = NULL;
	char host[256];
	const char *colon;
	size_t hlen;

	if (!peer_valid_address(address))
		return error("bad peer address '%s'", address);
	colon = strrchr(address, ':');
	hlen = (size_t)(colon - address);
	if (hlen >= sizeof(host))
		return error("bad peer address '%s'", address);
	memcpy(host, address, hlen);
	host[hlen] = '\0';
	/* "[::1]:7400" */
	if (host[0] == '[' && hlen > 1 && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	/* numeric only: a nudge never waits for a name server */
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, colon + 1, &hints, &res) ||
	    res->ai_addrlen > sizeof(*out)) {
		if (res)
			freeaddrinfo(res);
		return error("peer address '%s' is not numeric", address);
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*len = (unsigned)res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int peer_send(const char *address, const unsigned char *buf, size_t len)
{
	struct sockaddr_storage ss;
	unsigned sslen;
	int fd, ret = -1;

	if (peer_resolve(address, &ss, &sslen) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd >= 0 && sendto(fd, buf, len, MSG_DONTWAIT,
			      (struct sockaddr *)&ss, sslen) == (ssize_t)len)
		ret = 0;
	if (fd >= 0)
		close(fd);
	return ret;
}

/* --- the lock, names, reports --- */

int peer_list_lock(const struct repo *r, long wait_ms, int *fd)
{
	char *path = path_join(r->common_dir, "thrum-peers.lock");
	int ret = lock_take(path, LOCK_EX, wait_ms, 0600, fd);

	free(path);
	return ret;
}

void peer_self_name(char *out, size_t size)
{
	char host[256];
	size_t i, n = 0;

	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] && host[i] != '.' && n + 1 < size && n < 64; i++) {
		int c = tolower((unsigned char)host[i]);

		out[n++] = isalnum(c) || c == '_' ? (char)c : '-';
	}
	out[n] = '\0';
	if (!n || !isalnum((unsigned char)out[0]))
		snprintf(out, size, "peer");
}

void peer_report_release(struct peer_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nr; i++) {
		free(rep->v[i].name);
		free(rep->v[i].address);
	}
	free(rep->v);
	free(rep->listen);
	memset(rep, 0, sizeof(*rep));
}

int peer_report_from_file(const struct repo *r, struct peer_report *out)
{
	struct peer_list l = PEER_LIST_INIT;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (peer_list_load(r, &l) < 0)
		return -1;
	out->nr = l.nr;
	out->v = xcalloc(l.nr ? l.nr : 1, sizeof(*out->v));
	for (i = 0; i < l.nr; i++) {
		out->v[i].name = xstrdup(l.v[i].name);
		out->v[i].address = xstrdup_or_null(l.v[i].address);
	}
	peer_list_release(&l);
	return 0;
}

int peer_list_present(const struct repo *r)
{
	char *path = peers_path(r);
	int present = !access(path, F_OK);

	free(path);
	return present;
}

#ifndef THRUM_PEER_H
#define THRUM_PEER_H

/*
 * Peers: paired daemons that tell each other "a-sync moved" so that the
 * other fetches now instead of at its next tick.  A nudge carries no
 * events (Git stays the single source of truth); its one effect is an
 * earlier fetch.
 *
 * A pair shares a 32-byte secret made by libsodium's randombytes; it is
 * kept in $GIT_COMMON_DIR/thrum-peers (0600, an INI file read with inih),
 * never in a tracked file, never in the log.  A nudge is one UDP datagram,
 * authenticated with HMAC-SHA256 over the pair secret (libsodium's
 * crypto_auth_hmacsha256), with a timestamp and a random nonce:
 *
 *   "THN1" | type (1) | pair id (16) | unix ms (8, big-endian) |
 *   nonce (16) | payload length (2, big-endian) | payload | MAC (32)
 *
 * The receiver drops, and counts, anything oversize or malformed, from an
 * unknown pair, with a wrong MAC, older or newer than PEER_MAX_SKEW_MS, a
 * nonce it has seen, or beyond PEER_RATE per second.  Strings in these
 * structs are owned by them.
 */
struct repo;
struct strbuf;

#define PEER_ID_BYTES 16
#define PEER_SECRET_BYTES 32
#define PEER_NONCE_BYTES 16
#define PEER_MAC_BYTES 32
#define PEER_MAX_PAYLOAD 256
#define PEER_HEADER_BYTES (4 + 1 + PEER_ID_BYTES + 8 + PEER_NONCE_BYTES + 2)
#define PEER_MAX_DATAGRAM (PEER_HEADER_BYTES + PEER_MAX_PAYLOAD + \
			   PEER_MAC_BYTES)
#define PEER_MAX_SKEW_MS (60 * 1000)
#define PEER_RATE 20		/* nudges accepted per second and peer */
#define PEER_NONCES 2048	/* remembered per peer against replays */

struct peer {
	char *name;		/* a label: [a-z0-9][a-z0-9_-]* */
	unsigned char id[PEER_ID_BYTES];
	unsigned char secret[PEER_SECRET_BYTES];
	char *address;		/* "host:port" to nudge; NULL until known */
};

struct peer_list {
	struct peer *v;
	size_t nr, alloc;
};

#define PEER_LIST_INIT { NULL, 0, 0 }

/* the pairs of this repository; a missing file is none.  0 or -1 */
int peer_list_load(const struct repo *r, struct peer_list *out);
/* write them back, atomically, mode 0600.  0 or -1 */
int peer_list_save(const struct repo *r, const struct peer_list *l);
void peer_list_release(struct peer_list *l);
/* the pair of that name, or NULL */
struct peer *peer_find(struct peer_list *l, const char *name);

/* a new pair: a fresh id and secret.  0 or -1 */
int peer_new(struct peer *p, const char *name);

/*
 * The one-line pairing string `peer add` prints and `peer join` takes:
 * "thrum-pair:1:<name>:<id hex>:<secret base64url>:<address>", where name
 * and address are the adder's.  Caller frees.
 */
char *peer_pairing_string(const struct peer *p, const char *self_name,
			  const char *listen);
/*
 * Parse one: out gets the id, the secret, the adder's name and address.
 * 0, or -1 with the reason in why.
 */
int peer_parse_pairing(const char *s, struct peer *out, const char **why);

/* "host:port" with a port of 1..65535; 1 or 0 */
int peer_valid_address(const char *address);

struct sockaddr_storage;
/*
 * A numeric "host:port" ("[::1]:7400" for IPv6) as a socket address,
 * never through a name server.  0, or -1 after error().
 */
int peer_resolve(const char *address, struct sockaddr_storage *out,
		 unsigned *len);

/*
 * Hold $GIT_COMMON_DIR/thrum-peers.lock while changing the pairs (load,
 * change, save), waiting up to wait_ms.  0 with *fd set (lock_release()
 * it), THRUM_EBUSY, or -1 after error().
 */
int peer_list_lock(const struct repo *r, long wait_ms, int *fd);

/* this machine's name as a peer label (the host name, tamed), into out */
void peer_self_name(char *out, size_t size);

enum peer_msg {
	PEER_NUDGE = 1,		/* payload: the 40 hex digits of a-sync */
	PEER_HELLO = 2,		/* payload: "<name> <address>" of the sender */
};

/*
 * Encode a message to p into out (PEER_MAX_DATAGRAM bytes); returns its
 * length, or 0 when the payload is too long.
 */
size_t peer_encode(const struct peer *p, enum peer_msg type, uint64_t now_ms,
		   const void *payload, size_t len, unsigned char *out);

enum peer_verdict {
	PEER_OK = 0,
	PEER_OVERSIZE,
	PEER_MALFORMED,
	PEER_UNKNOWN,
	PEER_BAD_MAC,
	PEER_STALE,
	PEER_REPLAY,
	PEER_RATE_LIMITED,
	PEER_VERDICT_MAX
};

const char *peer_verdict_name(enum peer_verdict v);
/* the same as a JSON key: "bad_mac", "rate_limited", ... */
const char *peer_verdict_key(enum peer_verdict v);

/* what a receiver remembers of one pair */
struct peer_guard {
	unsigned char nonce[PEER_NONCES][PEER_NONCE_BYTES];
	uint64_t nonce_ms[PEER_NONCES];
	size_t next;
	uint64_t window_ms;	/* the second the rate is counted in */
	unsigned in_window;
	unsigned long counts[PEER_VERDICT_MAX];
	uint64_t last_ok_ms;
};

/* counts of datagrams that named no pair we know */
struct peer_guards {
	struct peer_guard *v;	/* one per entry of the peer_list */
	size_t nr;
	unsigned long unknown, oversize, malformed;
};

/* as many guards as l has pairs, zeroed; 0 */
void peer_guards_init(struct peer_guards *g, const struct peer_list *l);
void peer_guards_release(struct peer_guards *g);

/*
 * Check a datagram.  On PEER_OK, *which is the index of the pair in l,
 * *type the message type and payload/plen its payload (pointing into
 * buf).  Every verdict is counted in g.
 */
enum peer_verdict peer_verify(const struct peer_list *l, struct peer_guards *g,
			      const unsigned char *buf, size_t len,
			      uint64_t now_ms, size_t *which,
			      enum peer_msg *type,
			      const unsigned char **payload, size_t *plen);

/*
 * Send a datagram to a "host:port" without waiting: a non-blocking socket,
 * one sendto(); an unreachable peer never slows the caller.  0 or -1.
 */
int peer_send(const char *address, const unsigned char *buf, size_t len);

/*
 * What a daemon says of its pairs (peer status, sync status): per pair
 * the last nudge sent and received (unix ms, 0: never) and what it
 * dropped, by verdict; datagrams that named no pair are counted once
 * for all.
 */
struct peer_stat {
	char *name;
	char *address;			/* NULL: not known yet */
	int64_t last_sent_ms;
	int64_t last_received_ms;
	unsigned long sent;		/* nudges sent */
	unsigned long send_failed;	/* of those, sendto() said no */
	unsigned long received;		/* datagrams accepted */
	unsigned long dropped[PEER_VERDICT_MAX];	/* [PEER_OK] unused */
};

struct peer_report {
	char *listen;			/* the bound address; NULL: none */
	struct peer_stat *v;
	size_t nr;
	unsigned long unknown, oversize, malformed;
	long last_nudge_us;		/* nudging after the last push */
};

#define PEER_REPORT_INIT { NULL, NULL, 0, 0, 0, 0, 0 }

void peer_report_release(struct peer_report *rep);

/*
 * The pairs of r as a report with nothing counted (when no daemon runs):
 * 0, or -1 after error().  *nr is how many pairs there are.
 */
int peer_report_from_file(const struct repo *r, struct peer_report *out);

/* 1 when r has a pairs file, else 0: cheap, no parsing */
int peer_list_present(const struct repo *r);

#endif

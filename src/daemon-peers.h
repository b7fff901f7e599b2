#ifndef THRUM_DAEMON_PEERS_H
#define THRUM_DAEMON_PEERS_H

/*
 * The daemon's side of peers (peer.h; Documentation/near-real-time.adoc):
 * one UDP socket on thrum.peerListen, open only while a pair exists, the
 * clone syncs over the network, and the key says where.  A nudge that
 * passes peer_verify() asks the daemon for a cycle now; after a cycle
 * that pushed a-sync, every pair with a known address gets one, sent
 * without waiting.  The struct is the daemon's (daemon.c) and owns its
 * pairs, counters and socket until daemon_peers_release().
 *
 * peer_report_fetch() is the other end, for commands: what a running
 * daemon says of its pairs, over its RPC socket ("peers.status").
 */
#include "peer.h"

struct repo;
struct thrum_config;
struct sync_status;

/* what the daemon keeps of one pair besides its guard */
struct daemon_peer_life {
	int64_t last_sent_ms;
	unsigned long sent, send_failed;
};

struct daemon_peers {
	const struct repo *r;
	struct peer_list list;
	struct peer_guards guards;	/* one per pair of list */
	struct daemon_peer_life *life;	/* one per pair of list */
	int fd;				/* the UDP socket; -1: none */
	char *listen;			/* what fd is bound to */
	int local_only;
	long last_nudge_us;
	int64_t last_hello_ms;		/* wall clock */
	char *bind_failed;		/* the address that would not bind */
	int64_t bind_failed_ms;		/* when, wall clock */
	/* the pairs file as last read: reread when it changes */
	dev_t dev;
	ino_t ino;
	int64_t mtime_ns;
	off_t size;
	int loaded;
};

/*
 * Read the pairs and open the socket as cfg says (a failure is logged,
 * never fatal: the daemon syncs on its ticks as ever)
 */
void daemon_peers_open(struct daemon_peers *dp, const struct repo *r,
		       const struct thrum_config *cfg);

/*
 * The pairs file or cfg may have changed: reread it, and open, move or
 * close the socket.  A (re)opened socket says hello to every pair with
 * an address, so that the other side learns ours, and so does an open
 * one once a minute (a hello lost, or sent while the other daemon was
 * down, is made good).
 */
void daemon_peers_refresh(struct daemon_peers *dp,
			  const struct thrum_config *cfg);

/* the socket to poll for input, or -1 */
int daemon_peers_fd(const struct daemon_peers *dp);

/*
 * Read what arrived (a bounded number of datagrams, so that a flood
 * never starves the other clients), check each and count it.  1 when a
 * nudge said a-sync moved to a commit this clone does not have yet: the
 * caller runs a cycle now.  0 otherwise.
 */
int daemon_peers_input(struct daemon_peers *dp,
		       const struct thrum_config *cfg);

/*
 * A cycle ended with st: refresh as above, then when it pushed a-sync,
 * nudge each pair with an address (non-blocking: never slows the cycle)
 */
void daemon_peers_cycle_ended(struct daemon_peers *dp,
			      const struct thrum_config *cfg,
			      const struct sync_status *st);

/* print the report as format_peers_json() does */
void daemon_peers_print(const struct daemon_peers *dp, FILE *out);

void daemon_peers_release(struct daemon_peers *dp);

/*
 * What the daemon of r says of its pairs.  0; THRUM_ENOTFOUND when no
 * daemon runs; -1 when it does not answer (the reason in err when not
 * NULL).  Release with peer_report_release().
 */
struct strbuf;
int peer_report_fetch(const struct repo *r, struct peer_report *out,
		      struct strbuf *err);

#endif

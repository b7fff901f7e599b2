/*
 * test-peer: craft peer datagrams for the shell tests (t73xx), good ones
 * and the attacks the daemon must drop.
 *
 *   test-peer <git-common-dir> <pair> <host:port> <kind> <oid> [<count>]
 *
 * The pair's id and secret come from <git-common-dir>/thrum-peers, as
 * the daemon there would use them.  <kind>:
 *   nudge     <count> good nudges saying a-sync is at <oid>
 *   forged    the same shape, the MAC made with another secret
 *   stale     a good MAC, stamped ten minutes ago
 *   replay    one good nudge, sent <count> times
 *   unknown   a pair id nobody has
 *   oversize  a datagram longer than any the format allows
 *   hello     a good hello whose payload is <oid> ("<name> <host:port>")
 * Sends go out in bursts of 100 with a millisecond between them, as a
 * fast sender would; exit 0 when every sendto() took its datagram.
 */
#include "thrum.h"
#include <sodium.h>
#include <sys/socket.h>
#include "peer.h"
#include "date.h"
#include "repo.h"
#include "usage.h"
#include "wrapper.h"

static int send_all(int fd, const struct sockaddr_storage *ss, unsigned len,
		    const unsigned char *buf, size_t n)
{
	ssize_t w;

	do
		w = sendto(fd, buf, n, 0, (const struct sockaddr *)ss, len);
	while (w < 0 && (errno == EINTR || errno == ENOBUFS ||
			 errno == EAGAIN));
	return w == (ssize_t)n ? 0 : -1;
}

int main(int argc, const char **argv)
{
	struct repo r = REPO_INIT;
	struct peer_list l = PEER_LIST_INIT;
	struct sockaddr_storage ss;
	struct peer *p, other;
	unsigned char buf[PEER_MAX_DATAGRAM + 1024];
	const char *kind, *oid;
	unsigned sslen;
	long count = 1, i;
	size_t n = 0;
	int fd, bad = 0;

	if (argc < 6 || argc > 7)
		die("usage: test-peer <git-common-dir> <pair> <host:port> "
		    "<kind> <oid> [<count>]");
	kind = argv[4];
	oid = argv[5];
	if (argc == 7 && thrum_parse_long(argv[6], 1, 10000000, &count) < 0)
		die("bad count '%s'", argv[6]);
	r.common_dir = (char *)argv[1];
	if (peer_list_load(&r, &l) < 0)
		return 1;
	if (!(p = peer_find(&l, argv[2])))
		die("no pair '%s' in %s", argv[2], argv[1]);
	if (peer_resolve(argv[3], &ss, &sslen) < 0)
		return 1;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die_errno("socket");
	other = *p;
	if (!strcmp(kind, "forged"))
		randombytes_buf(other.secret, sizeof(other.secret));
	else if (!strcmp(kind, "unknown"))
		randombytes_buf(other.id, sizeof(other.id));
	else if (strcmp(kind, "nudge") && strcmp(kind, "stale") &&
		 strcmp(kind, "replay") && strcmp(kind, "oversize") &&
		 strcmp(kind, "hello"))
		die("unknown kind '%s'", kind);
	for (i = 0; i < count; i++) {
		uint64_t now = (uint64_t)(date_now_ns() / 1000000);

		if (!strcmp(kind, "stale"))
			now -= 10 * 60 * 1000;
		if (!strcmp(kind, "oversize")) {
			memset(buf, 'x', sizeof(buf));
			n = sizeof(buf);
		} else if (i == 0 || strcmp(kind, "replay")) {
			n = peer_encode(&other, strcmp(kind, "hello") ?
					PEER_NUDGE : PEER_HELLO, now, oid,
					strlen(oid), buf);
		}
		if (!n || send_all(fd, &ss, sslen, buf, n) < 0)
			bad++;
		if (i % 100 == 99) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	close(fd);
	peer_list_release(&l);
	return bad ? 1 : 0;
}

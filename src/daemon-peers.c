/*
 * daemon-peers.c: the daemon's UDP socket for peer nudges (see
 * daemon-peers.h and peer.h), and peer_report_fetch() for the commands
 * that show what it counted.
 *
 * Invariants: the socket is open only while the clone syncs over the
 * network, thrum.peerListen names an address and a pair exists; nothing
 * a datagram says is trusted before peer_verify() passed it, and even
 * then a nudge can do one thing only, ask for a cycle (which fetches
 * from the user's remote, as every cycle does), and a hello one thing
 * only, tell the address of its own pair.  Sending never waits: one
 * non-blocking sendto() per pair.
 */
#include "thrum.h"
#include <json-c/json.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "daemon-peers.h"
#include "config.h"
#include "daemon.h"
#include "date.h"
#include "format.h"
#include "lockfile.h"
#include "repo.h"
#include "rpc.h"
#include "strbuf.h"
#include "sync.h"
#include "usage.h"
#include "wrapper.h"

/* datagrams read at most per pass of the loop: a flood never starves it */
#define PEERS_READ_BATCH 256
/* an open socket says hello again this often */
#define PEERS_HELLO_EVERY_MS (60 * 1000)
/* an address that did not bind is tried (and logged) again this often */
#define PEERS_BIND_RETRY_MS (60 * 1000)

static int64_t wall_ms(void)
{
	return date_now_ns() / 1000000;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void close_socket(struct daemon_peers *dp)
{
	if (dp->fd >= 0)
		close(dp->fd);
	dp->fd = -1;
	free(dp->listen);
	dp->listen = NULL;
}

/*
 * Reread the pairs when the file changed (or went): the guards and
 * counters of the pairs that stay are kept, found by their id.  1 when
 * the pairs changed, 0 when not, -1 when the file does not read (the old
 * pairs stay).
 */
static int reload(struct daemon_peers *dp)
{
	char *path = path_join(dp->r->common_dir, "thrum-peers");
	struct peer_list fresh = PEER_LIST_INIT;
	struct peer_guards guards;
	struct daemon_peer_life *life;
	struct stat st;
	int64_t mtime_ns = 0;
	size_t i, j;
	int ret = 0;

	if (stat(path, &st) < 0)
		memset(&st, 0, sizeof(st));
	else
		mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
			   st.st_mtim.tv_nsec;
	if (dp->loaded && st.st_dev == dp->dev && st.st_ino == dp->ino &&
	    mtime_ns == dp->mtime_ns && st.st_size == dp->size)
		goto out;
	if (peer_list_load(dp->r, &fresh) < 0) {
		ret = -1;
		goto out;
	}
	peer_guards_init(&guards, &fresh);
	life = xcalloc(fresh.nr ? fresh.nr : 1, sizeof(*life));
	for (i = 0; i < fresh.nr; i++)
		for (j = 0; j < dp->list.nr && j < dp->guards.nr; j++)
			if (!memcmp(fresh.v[i].id, dp->list.v[j].id,
				    PEER_ID_BYTES)) {
				guards.v[i] = dp->guards.v[j];
				life[i] = dp->life[j];
				break;
			}
	guards.unknown = dp->guards.unknown;
	guards.oversize = dp->guards.oversize;
	guards.malformed = dp->guards.malformed;
	peer_guards_release(&dp->guards);
	peer_list_release(&dp->list);
	free(dp->life);
	dp->list = fresh;
	dp->guards = guards;
	dp->life = life;
	dp->dev = st.st_dev;
	dp->ino = st.st_ino;
	dp->mtime_ns = mtime_ns;
	dp->size = st.st_size;
	dp->loaded = 1;
	ret = 1;
out:
	free(path);
	return ret;
}

static int bind_socket(const char *address)
{
	struct sockaddr_storage ss;
	unsigned len;
	int fd;

	if (peer_resolve(address, &ss, &len) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return error_errno("cannot create a UDP socket");
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		error_errno("cannot listen for peers on '%s'", address);
		close(fd);
		return -1;
	}
	return fd;
}

/* PEERS_HELLO_EVERY_MS, or what THRUM_TEST_PEER_HELLO_MS says (tests) */
static int64_t hello_every_ms(void)
{
	const char *e = getenv("THRUM_TEST_PEER_HELLO_MS");
	long ms;

	if (e && !thrum_parse_long(e, 0, PEERS_HELLO_EVERY_MS, &ms))
		return ms;
	return PEERS_HELLO_EVERY_MS;
}

/* tell every pair with an address where we listen */
static void say_hello(struct daemon_peers *dp)
{
	unsigned char buf[PEER_MAX_DATAGRAM];
	struct strbuf payload = STRBUF_INIT;
	char self[65];
	size_t i, len;

	dp->last_hello_ms = wall_ms();
	peer_self_name(self, sizeof(self));
	strbuf_addf(&payload, "%s %s", self, dp->listen);
	for (i = 0; i < dp->list.nr; i++) {
		if (!dp->list.v[i].address)
			continue;
		len = peer_encode(&dp->list.v[i], PEER_HELLO, wall_ms(),
				  payload.buf, payload.len, buf);
		if (len)
			peer_send(dp->list.v[i].address, buf, len);
	}
	strbuf_release(&payload);
}

void daemon_peers_refresh(struct daemon_peers *dp,
			  const struct thrum_config *cfg)
{
	int changed = reload(dp) > 0;

	dp->local_only = cfg->local_only;
	if (cfg->local_only || !cfg->peer_listen || !dp->list.nr) {
		close_socket(dp);
		return;
	}
	if (dp->fd < 0 || strcmp(dp->listen, cfg->peer_listen)) {
		close_socket(dp);
		/* not up yet (a tailnet), or not ours: once a minute */
		if (dp->bind_failed && !strcmp(dp->bind_failed,
					       cfg->peer_listen) &&
		    wall_ms() - dp->bind_failed_ms < PEERS_BIND_RETRY_MS)
			return;
		free(dp->bind_failed);
		dp->bind_failed = NULL;
		dp->fd = bind_socket(cfg->peer_listen);
		if (dp->fd < 0) {
			dp->bind_failed = xstrdup(cfg->peer_listen);
			dp->bind_failed_ms = wall_ms();
			return;
		}
		dp->listen = xstrdup(cfg->peer_listen);
		changed = 1;
	}
	if (changed || wall_ms() - dp->last_hello_ms >= hello_every_ms())
		say_hello(dp);
}

void daemon_peers_open(struct daemon_peers *dp, const struct repo *r,
		       const struct thrum_config *cfg)
{
	memset(dp, 0, sizeof(*dp));
	dp->r = r;
	dp->fd = -1;
	peer_guards_init(&dp->guards, &dp->list);
	dp->life = xcalloc(1, sizeof(*dp->life));
	daemon_peers_refresh(dp, cfg);
}

int daemon_peers_fd(const struct daemon_peers *dp)
{
	return dp->fd;
}

/* 1 when hex is the tip of a-sync here or the remote's as last fetched */
static int have_commit(struct daemon_peers *dp, const struct thrum_config *cfg,
		       const char *hex)
{
	struct strbuf ref = STRBUF_INIT;
	char tip[41];
	int have = 0;

	if (!repo_read_ref(dp->r, "refs/heads/a-sync", tip) &&
	    !strcmp(tip, hex))
		have = 1;
	strbuf_addf(&ref, "refs/remotes/%s/a-sync", cfg->remote);
	if (!have && !repo_read_ref(dp->r, ref.buf, tip) && !strcmp(tip, hex))
		have = 1;
	strbuf_release(&ref);
	return have;
}

static int is_oid(const unsigned char *p, size_t len)
{
	size_t i;

	if (len != 40)
		return 0;
	for (i = 0; i < len; i++)
		if (!isdigit(p[i]) && !(p[i] >= 'a' && p[i] <= 'f'))
			return 0;
	return 1;
}

/*
 * A hello from pair i: "<name> <host:port>", where it listens.  A
 * wildcard host (it listens on every interface) means the address the
 * datagram came from.  Kept in the pairs file, under its lock.
 */
static void learn_address(struct daemon_peers *dp, size_t i,
			  const unsigned char *payload, size_t plen,
			  const struct sockaddr_storage *from, unsigned flen)
{
	struct peer_list l = PEER_LIST_INIT;
	struct strbuf addr = STRBUF_INIT;
	const char *sp, *port;
	char host[NI_MAXHOST];
	struct peer *p;
	size_t k;
	int fd = -1;

	/* the address: what follows the last space, without NULs */
	if (memchr(payload, '\0', plen))
		goto out;
	sp = memrchr(payload, ' ', plen);
	if (!sp)
		goto out;
	strbuf_add(&addr, sp + 1, plen - (size_t)((const unsigned char *)sp +
						 1 - payload));
	if (!peer_valid_address(addr.buf))
		goto out;
	port = strrchr(addr.buf, ':') + 1;
	if ((!strncmp(addr.buf, "0.0.0.0:", 8) ||
	     !strncmp(addr.buf, "[::]:", 5)) &&
	    !getnameinfo((const struct sockaddr *)from, flen, host,
			 sizeof(host), NULL, 0, NI_NUMERICHOST)) {
		struct strbuf sb = STRBUF_INIT;

		if (strchr(host, ':'))
			strbuf_addf(&sb, "[%s]:%s", host, port);
		else
			strbuf_addf(&sb, "%s:%s", host, port);
		strbuf_release(&addr);
		addr = sb;
	}
	if (dp->list.v[i].address && !strcmp(dp->list.v[i].address, addr.buf))
		goto out;
	if (peer_list_lock(dp->r, 200, &fd) < 0)
		goto out;
	if (peer_list_load(dp->r, &l) < 0)
		goto out;
	for (k = 0, p = NULL; k < l.nr; k++)
		if (!memcmp(l.v[k].id, dp->list.v[i].id, PEER_ID_BYTES))
			p = &l.v[k];
	if (!p)
		goto out;
	free(p->address);
	p->address = xstrdup(addr.buf);
	if (peer_list_save(dp->r, &l) < 0)
		goto out;
	reload(dp);
out:
	if (fd >= 0)
		lock_release(fd);
	peer_list_release(&l);
	strbuf_release(&addr);
}

int daemon_peers_input(struct daemon_peers *dp,
		       const struct thrum_config *cfg)
{
	unsigned char buf[PEER_MAX_DATAGRAM + 1];
	int k, want = 0;

	for (k = 0; dp->fd >= 0 && k < PEERS_READ_BATCH; k++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		const unsigned char *payload;
		enum peer_msg type;
		size_t which, plen;
		ssize_t n;

		/* MSG_TRUNC: the real length, so that oversize shows */
		n = recvfrom(dp->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &flen);
		if (n < 0)
			break;
		if (dp->local_only)
			continue;
		if (peer_verify(&dp->list, &dp->guards, buf, (size_t)n,
				wall_ms(), &which, &type, &payload,
				&plen) != PEER_OK)
			continue;
		if (type == PEER_HELLO)
			learn_address(dp, which, payload, plen, &from, flen);
		else if (type == PEER_NUDGE && is_oid(payload, plen)) {
			char hex[41];

			memcpy(hex, payload, 40);
			hex[40] = '\0';
			if (!have_commit(dp, cfg, hex))
				want = 1;
		}
	}
	return want;
}

void daemon_peers_cycle_ended(struct daemon_peers *dp,
			      const struct thrum_config *cfg,
			      const struct sync_status *st)
{
	unsigned char buf[PEER_MAX_DATAGRAM];
	int64_t start;
	size_t i, len;

	daemon_peers_refresh(dp, cfg);
	if (cfg->local_only || !st->pushed || !st->remote_tip ||
	    strlen(st->remote_tip) != 40)
		return;
	start = mono_us();
	for (i = 0; i < dp->list.nr; i++) {
		const struct peer *p = &dp->list.v[i];

		if (!p->address)
			continue;
		len = peer_encode(p, PEER_NUDGE, wall_ms(), st->remote_tip, 40,
				  buf);
		dp->life[i].sent++;
		dp->life[i].last_sent_ms = wall_ms();
		if (!len || peer_send(p->address, buf, len) < 0)
			dp->life[i].send_failed++;
	}
	dp->last_nudge_us = (long)(mono_us() - start);
}

void daemon_peers_print(const struct daemon_peers *dp, FILE *out)
{
	struct peer_report rep = PEER_REPORT_INIT;
	size_t i;
	int v;

	rep.listen = dp->listen;
	rep.nr = dp->list.nr;
	rep.v = xcalloc(rep.nr ? rep.nr : 1, sizeof(*rep.v));
	for (i = 0; i < rep.nr; i++) {
		struct peer_stat *ps = &rep.v[i];
		const struct peer_guard *g = &dp->guards.v[i];

		ps->name = dp->list.v[i].name;
		ps->address = dp->list.v[i].address;
		ps->last_sent_ms = dp->life[i].last_sent_ms;
		ps->sent = dp->life[i].sent;
		ps->send_failed = dp->life[i].send_failed;
		ps->last_received_ms = (int64_t)g->last_ok_ms;
		ps->received = g->counts[PEER_OK];
		for (v = PEER_OK + 1; v < PEER_VERDICT_MAX; v++)
			ps->dropped[v] = g->counts[v];
	}
	rep.unknown = dp->guards.unknown;
	rep.oversize = dp->guards.oversize;
	rep.malformed = dp->guards.malformed;
	rep.last_nudge_us = dp->last_nudge_us;
	format_peers_json(&rep, out);
	/* the strings are borrowed */
	free(rep.v);
}

void daemon_peers_release(struct daemon_peers *dp)
{
	if (!dp->r)
		return;		/* never opened */
	close_socket(dp);
	free(dp->bind_failed);
	peer_guards_release(&dp->guards);
	peer_list_release(&dp->list);
	free(dp->life);
	dp->life = NULL;
}

/* --- the commands' side --- */

static const char *get_string(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static unsigned long get_count(json_object *o, const char *key)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	n = json_object_get_int64(v);
	return n < 0 ? 0 : (unsigned long)n;
}

static int64_t get_ms(json_object *o, const char *key)
{
	const char *s = get_string(o, key);
	int64_t ns;

	if (!s || date_parse_rfc3339(s, &ns))
		return 0;
	return ns / 1000000;
}

int peer_report_fetch(const struct repo *r, struct peer_report *out,
		      struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	json_object *res = NULL, *arr, *drops;
	char *sock = NULL;
	const char *s;
	long pid = 0;
	size_t i;
	int v, ret = THRUM_ENOTFOUND;

	memset(out, 0, sizeof(*out));
	if (!daemon_running(r, &pid))
		goto out;
	sock = daemon_socket_path(r);
	ret = -1;
	if (rpc_call(sock, "peers.status", NULL, 5000, &res, &why) < 0) {
		if (err)
			strbuf_addbuf(err, &why);
		goto out;
	}
	ret = 0;
	if ((s = get_string(res, "listen")))
		out->listen = xstrdup(s);
	if (json_object_object_get_ex(res, "peers", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		out->nr = json_object_array_length(arr);
		out->v = xcalloc(out->nr ? out->nr : 1, sizeof(*out->v));
	}
	for (i = 0; i < out->nr; i++) {
		json_object *p = json_object_array_get_idx(arr, i);
		struct peer_stat *ps = &out->v[i];

		ps->name = xstrdup((s = get_string(p, "name")) ? s : "?");
		ps->address = xstrdup_or_null(get_string(p, "address"));
		ps->last_sent_ms = get_ms(p, "last_sent_at");
		ps->last_received_ms = get_ms(p, "last_received_at");
		ps->sent = get_count(p, "sent");
		ps->send_failed = get_count(p, "send_failed");
		ps->received = get_count(p, "received");
		if (json_object_object_get_ex(p, "dropped", &drops))
			for (v = PEER_OK + 1; v < PEER_VERDICT_MAX; v++)
				ps->dropped[v] = get_count(drops,
							   peer_verdict_key(v));
	}
	if (json_object_object_get_ex(res, "dropped", &drops)) {
		out->unknown = get_count(drops, peer_verdict_key(PEER_UNKNOWN));
		out->oversize = get_count(drops,
					  peer_verdict_key(PEER_OVERSIZE));
		out->malformed = get_count(drops,
					   peer_verdict_key(PEER_MALFORMED));
	}
	out->last_nudge_us = (long)get_count(res, "last_nudge_us");
out:
	json_object_put(res);
	strbuf_release(&why);
	free(sock);
	return ret;
}

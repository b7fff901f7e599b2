#!/bin/sh
test_description='peers: paired daemons nudge each other over UDP after a push; forged, replayed, stale and flooded nudges are dropped and counted'
. ./lib-thrum.sh

helper="$SHARNESS_BUILD_DIRECTORY/tests/helper/test-peer"

# valgrind runs the native build only (see t8300)
test "$(cat "$SHARNESS_BUILD_DIRECTORY/build/.current" 2>/dev/null)" = \
	build/default && command -v valgrind >/dev/null &&
	test_set_prereq VALGRIND

# free_port: a UDP port of 127.0.0.1 nobody holds now
free_port() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(Proto => "udp",
			LocalAddr => "127.0.0.1:0") or die "bind: $!";
		print $s->sockport, "\n";
	'
}

# health <repo> <field>: a field of the daemon's health answer
health() {
	rpc "$1" '{"jsonrpc":"2.0","id":1,"method":"health"}' >health.json &&
	json_get health.json "\$.result.$2"
}

# peers <repo> <jsonpath>: a field of `peer status --json`
peers() {
	thrum_in "$1" peer status --json >peers.json &&
	json_get peers.json "$2"
}

# peers_is <repo> <jsonpath> <value>, peers_ge <repo> <jsonpath> <n>
peers_is() {
	test "$(peers "$1" "$2")" = "$3"
}
peers_ge() {
	v=$(peers "$1" "$2") && test -n "$v" && test "$v" -ge "$3"
}

# read_all <repo> <n>: accepted and rate-limited datagrams of the first
# pair add up to n at least
read_all() {
	thrum_in "$1" peer status --json >peers.json &&
	test $(( $(json_get peers.json "\$.peers[0].received") +
		$(json_get peers.json "\$.peers[0].dropped.rate_limited") )) -ge "$2"
}

# cycles_above <repo> <n>: the daemon ran more than n cycles
cycles_above() {
	test "$(health "$1" cycles)" -gt "$2"
}

# in_inbox <repo> <text>
in_inbox() {
	thrum_in "$1" inbox --no-mark-read --json >inbox.json &&
	grep -q "$2" inbox.json
}

listening() {
	thrum_in "$1" peer status >status.out &&
	grep -q "^listening: $2 (UDP)" status.out
}

test_expect_success 'setup: two clones, ticks of an hour, no daemons yet' '
	setup_pair &&
	git -C alice config thrum.syncInterval 3600 &&
	git -C bob config thrum.syncInterval 3600 &&
	pa=$(free_port) && pb=$(free_port) &&
	test "$pa" != "$pb" &&
	echo "$pa" >port-a && echo "$pb" >port-b
'

test_expect_success 'bad input: one line naming the problem, nothing written' '
	test_expect_code 129 thrum_in alice peer add --listen nowhere 2>err &&
	grep "bad address .nowhere. for --listen" err &&
	test_path_is_missing alice/.git/thrum-peers &&
	test_must_fail thrum_in alice peer add 2>err &&
	test_line_count = 1 err &&
	grep "no address to listen on" err &&
	test_must_fail thrum_in alice peer join "thrum-pair:1:x:00:zz:1.2.3.4:5" 2>err &&
	test_line_count = 1 err &&
	grep "bad pair id" err &&
	test_must_fail thrum_in alice peer join "hello" 2>err &&
	grep "not a pairing string" err &&
	test_must_fail thrum_in alice peer add --listen 127.0.0.1:1 --name "Bad Name" 2>err &&
	test_line_count = 1 err &&
	grep "invalid peer name .Bad Name." err &&
	test_path_is_missing alice/.git/thrum-peers.lock &&
	test_must_fail thrum_in alice peer remove nobody 2>err &&
	grep "no peer named .nobody." err &&
	(cd alice && test_must_fail git -c thrum.peerListen=here:x thrum sync status 2>../err) &&
	grep "bad address .here:x. for .thrum.peerListen." err &&
	test_path_is_missing alice/.git/thrum-peers &&
	test_must_fail git -C alice config thrum.peerListen
'

test_expect_success 'peer add prints a pairing string once; peer join completes the pair' '
	pa=$(cat port-a) && pb=$(cat port-b) &&
	thrum_in alice peer add --listen 127.0.0.1:$pa --name bob >pairing 2>err &&
	test_line_count = 1 pairing &&
	grep "^thrum-pair:1:[a-z0-9][a-z0-9_-]*:[0-9a-f]\{32\}:[A-Za-z0-9_-]\{43\}:127.0.0.1:$pa\$" pairing &&
	test "$(git -C alice config thrum.peerListen)" = "127.0.0.1:$pa" &&
	thrum_in bob peer join --listen 127.0.0.1:$pb --name alice "$(cat pairing)" >out &&
	grep "paired with .alice. at 127.0.0.1:$pa" out &&
	test "$(stat -c %a alice/.git/thrum-peers)" = 600 &&
	test "$(stat -c %a bob/.git/thrum-peers)" = 600
'

test_expect_success 'the secret is in no listing, no status and not in the log' '
	secret=$(cut -d: -f5 pairing) &&
	thrum_in alice peer list >list.a &&
	thrum_in alice peer list --json >list.a.json &&
	thrum_in alice peer status >st.a &&
	thrum_in alice peer status --json >st.a.json &&
	thrum_in bob peer list >list.b &&
	thrum_in alice sync status >sync.a &&
	thrum_in alice sync status --json >sync.a.json &&
	! grep -F "$secret" list.a list.a.json st.a st.a.json list.b sync.a sync.a.json &&
	grep "^bob	(address not known yet)" list.a &&
	grep "^alice	127.0.0.1:$(cat port-a)" list.b &&
	test_must_fail git -C alice grep -q -F "$secret" a-sync -- &&
	test_must_fail git -C remote.git grep -q -F "$secret" a-sync --
'

test_expect_success 'daemons: each listens, and alice learns where bob listens' '
	pa=$(cat port-a) && pb=$(cat port-b) &&
	thrum_in alice daemon start >/dev/null &&
	wait_for 10 listening alice 127.0.0.1:$pa &&
	thrum_in bob daemon start >/dev/null &&
	wait_for 10 listening bob 127.0.0.1:$pb &&
	wait_for 10 eval "thrum_in alice peer list | grep -q \"^bob	127.0.0.1:$pb\$\""
'

test_expect_success 'a message sent on alice is in bob'"'"'s inbox, no command run' '
	start=$(date +%s%N) &&
	THRUM_NAME=alice thrum_in alice send "nudged across" --to @bob >/dev/null &&
	wait_for 20 in_inbox bob "nudged across" &&
	end=$(date +%s%N) &&
	say "peers over loopback: in bob'"'"'s inbox $(( (end - start) / 1000000 )) ms after send started" &&
	test "$(peers alice "\$.peers[0].sent")" -ge 1 &&
	test "$(peers bob "\$.peers[0].received")" -ge 1 &&
	test -n "$(peers bob "\$.peers[0].last_received_at")"
'

test_expect_success 'sync status shows the last nudge sent and received, and drops' '
	thrum_in alice sync status >sync.a &&
	grep "^peers:      127.0.0.1:$(cat port-a)" sync.a &&
	grep "^  bob (127.0.0.1:$(cat port-b)): last nudge sent .* ago, received" sync.a &&
	grep "^    [1-9][0-9]* sent (0 failed), [0-9]* accepted, 0 dropped" sync.a &&
	thrum_in bob sync status --json >sync.b.json &&
	test "$(json_get sync.b.json "\$.peers.peers[0].name")" = alice &&
	test -n "$(json_get sync.b.json "\$.peers.peers[0].last_received_at")"
'

test_expect_success 'a good nudge for a commit bob lacks runs a cycle (the control)' '
	name=$(thrum_in bob peer list | cut -f1) &&
	before=$(health bob cycles) &&
	sent=$(peers bob "\$.peers[0].sent") &&
	"$helper" bob/.git "$name" 127.0.0.1:$(cat port-b) nudge \
		aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa &&
	wait_for 10 cycles_above bob $before &&
	# that cycle pushed nothing: it nudges nobody
	test "$(peers bob "\$.peers[0].sent")" = "$sent"
'

test_expect_success 'forged, stale, unknown and oversize: dropped, counted, no cycle' '
	name=$(thrum_in bob peer list | cut -f1) && pb=$(cat port-b) &&
	before=$(health bob cycles) &&
	oid=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa &&
	"$helper" bob/.git "$name" 127.0.0.1:$pb forged $oid 7 &&
	"$helper" bob/.git "$name" 127.0.0.1:$pb stale $oid 5 &&
	"$helper" bob/.git "$name" 127.0.0.1:$pb unknown $oid 3 &&
	"$helper" bob/.git "$name" 127.0.0.1:$pb oversize $oid 2 &&
	wait_for 10 peers_is bob "\$.dropped.oversize" 2 &&
	test "$(peers bob "\$.peers[0].dropped.bad_mac")" = 7 &&
	test "$(peers bob "\$.peers[0].dropped.stale")" = 5 &&
	test "$(peers bob "\$.dropped.unknown")" = 3 &&
	test "$(health bob cycles)" = "$before" &&
	thrum_in bob peer status >st.b &&
	grep "7 bad MAC" st.b && grep "5 stale" st.b &&
	grep "dropped from nobody paired: 3 unknown peer, 2 oversize" st.b
'

test_expect_success 'a replayed nudge is dropped after its first time' '
	name=$(thrum_in bob peer list | cut -f1) &&
	tip=$(git -C bob rev-parse a-sync) &&
	ok=$(peers bob "\$.peers[0].received") &&
	before=$(health bob cycles) &&
	"$helper" bob/.git "$name" 127.0.0.1:$(cat port-b) replay $tip 5 &&
	wait_for 10 peers_is bob "\$.peers[0].dropped.replayed" 4 &&
	test "$(peers bob "\$.peers[0].received")" = $((ok + 1)) &&
	# the one accepted named the commit bob has: no fetch for it
	test "$(health bob cycles)" = "$before"
'

test_expect_success 'a hello tells where its pair listens; a wildcard host is the sender'"'"'s' '
	name=$(thrum_in alice peer list | sed -n "s/^\(bob\)	.*/\1/p") &&
	pa=$(cat port-a) && pb=$(cat port-b) &&
	"$helper" bob/.git alice 127.0.0.1:$pa hello "x 0.0.0.0:$pb" &&
	"$helper" bob/.git alice 127.0.0.1:$pa hello "x 127.0.0.2:1" &&
	wait_for 10 eval "thrum_in alice peer list | grep -q \"^bob	127.0.0.2:1\$\"" &&
	"$helper" bob/.git alice 127.0.0.1:$pa hello "x nowhere" &&
	"$helper" bob/.git alice 127.0.0.1:$pa hello "x 0.0.0.0:$pb" &&
	wait_for 10 eval "thrum_in alice peer list | grep -q \"^bob	127.0.0.1:$pb\$\"" &&
	test "$name" = bob
'

test_expect_success 'a flood of 10000 forged nudges: no cycle, the daemon answers' '
	name=$(thrum_in bob peer list | cut -f1) &&
	before=$(health bob cycles) &&
	macs=$(peers bob "\$.peers[0].dropped.bad_mac") &&
	{ "$helper" bob/.git "$name" 127.0.0.1:$(cat port-b) forged \
		aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 10000 & } &&
	flood=$! &&
	t0=$(date +%s%N) &&
	thrum_in bob daemon status >/dev/null &&
	t1=$(date +%s%N) &&
	wait $flood &&
	say "daemon status during the flood: $(( (t1 - t0) / 1000000 )) ms" &&
	wait_for 20 peers_ge bob "\$.peers[0].dropped.bad_mac" $((macs + 1000)) &&
	# what the socket took in before it filled, counted
	after=$(peers bob "\$.peers[0].dropped.bad_mac") &&
	say "flood: $((after - macs)) of 10000 forged nudges read and dropped" &&
	test "$(health bob cycles)" = "$before" &&
	THRUM_NAME=alice thrum_in alice send "after the flood" --to @bob >/dev/null &&
	wait_for 20 in_inbox bob "after the flood"
'

test_expect_success 'peers down or black-holed do not slow the sender' '
	thrum_repo carol &&
	for i in 1 2 3 4 5 6 7 8 9 10
	do
		if test $i -le 5
		then
			addr=192.0.2.$i:9
		else
			addr=127.0.0.1:$(free_port)
		fi &&
		thrum_in carol peer add --listen $addr --name a$i >s.$i 2>/dev/null &&
		thrum_in alice peer join --name dead$i "$(cat s.$i)" >/dev/null 2>&1 ||
		return 1
	done &&
	test "$(thrum_in alice peer list | wc -l)" = 11 &&
	sent=$(peers alice "\$.peers[0].sent") &&
	THRUM_NAME=alice thrum_in alice send "eleven peers" --to @bob >/dev/null &&
	wait_for 20 in_inbox bob "eleven peers" &&
	wait_for 10 peers_ge alice "\$.peers[10].sent" 1 &&
	us=$(peers alice "\$.last_nudge_us") &&
	say "nudging 11 peers (10 down or black-holed) took $us us" &&
	test "$us" -lt 100000
'

test_expect_success 'good nudges beyond 20 a second are dropped; they make few cycles' '
	name=$(thrum_in bob peer list | cut -f1) &&
	before=$(health bob cycles) &&
	limited=$(peers bob "\$.peers[0].dropped.rate_limited") &&
	ok=$(peers bob "\$.peers[0].received") &&
	"$helper" bob/.git "$name" 127.0.0.1:$(cat port-b) nudge \
		bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb 100 &&
	# all read (the cycles they ask for run in the same turn of the loop)
	wait_for 10 read_all bob $((ok + limited + 100)) &&
	test "$(peers bob "\$.peers[0].dropped.rate_limited")" -ge $((limited + 60)) &&
	cycles=$(( $(health bob cycles) - before )) &&
	say "100 good nudges in a burst: $cycles cycles" &&
	test $cycles -le 5
'

test_expect_success 'peer remove forgets a pair; the daemon stops nudging it' '
	for i in 1 2 3 4 5 6 7 8 9 10
	do
		thrum_in alice peer remove dead$i >/dev/null || return 1
	done &&
	thrum_in alice peer list >list &&
	test_line_count = 1 list &&
	test "$(peers alice "\$.peers[0].name")" = bob &&
	test "$(json_get peers.json "\$.peers[1]")" = ""
'

test_expect_success 'local-only: the daemon neither listens nor nudges' '
	pa=$(cat port-a) &&
	thrum_in alice daemon restart --local >/dev/null &&
	thrum_in alice peer status >st &&
	grep "^listening: no (the daemon runs with --local)" st &&
	test "$(peers alice "\$.peers[0].sent")" = 0 &&
	THRUM_NAME=alice thrum_in alice send "stays here" --to @bob >/dev/null &&
	thrum_in alice sync force >/dev/null &&
	test "$(peers alice "\$.peers[0].sent")" = 0 &&
	thrum_in alice daemon restart >/dev/null &&
	wait_for 10 listening alice 127.0.0.1:$pa
'

test_expect_success 'an address that does not bind is logged once, tried again a minute later' '
	pa=$(cat port-a) &&
	git -C alice config thrum.peerListen 192.0.2.7:7400 &&
	for i in 1 2 3
	do
		thrum_in alice peer status >st || return 1
	done &&
	grep "^listening: no (see .thrum/var/daemon.log)" st &&
	grep "cannot listen for peers on .192.0.2.7:7400." \
		alice/.thrum/var/daemon.log >bind.log &&
	test_line_count = 1 bind.log &&
	git -C alice config thrum.peerListen 127.0.0.1:$pa &&
	thrum_in alice peer status >st &&
	grep "^listening: 127.0.0.1:$pa (UDP)" st
'

test_expect_success 'a hello lost while the other daemon was down is said again' '
	pa=$(cat port-a) && pb=$(cat port-b) &&
	thrum_in bob daemon stop >/dev/null &&
	(export THRUM_TEST_PEER_HELLO_MS=200 && thrum_in bob daemon start >/dev/null) &&
	wait_for 10 listening bob 127.0.0.1:$pb &&
	thrum_in alice daemon stop >/dev/null &&
	# alice forgets where bob listens; bob said so while she was down
	sed -i "s/^address = 127.0.0.1:$pb\$/address = /" alice/.git/thrum-peers &&
	thrum_in alice peer list >list &&
	grep "^bob	(address not known yet)" list &&
	thrum_in alice daemon start >/dev/null &&
	wait_for 10 listening alice 127.0.0.1:$pa &&
	# each peer status makes bob look again; a hello is due every 200 ms
	wait_for 10 eval "thrum_in bob peer status >/dev/null &&
		thrum_in alice peer list | grep -q \"^bob	127.0.0.1:$pb\$\""
'

test_expect_success VALGRIND 'valgrind: the peers of a daemon leak nothing, touch nothing wrong' '
	thrum_in alice daemon stop >/dev/null &&
	pa=$(cat port-a) && pb=$(cat port-b) &&
	(cd alice && exec valgrind --quiet --leak-check=full \
		--errors-for-leak-kinds=definite --error-exitcode=99 \
		--log-file=../vg.log git-thrum daemon run) &
	vg=$! &&
	test_when_finished "kill $vg 2>/dev/null || :" &&
	wait_for 60 listening alice 127.0.0.1:$pa &&
	oid=cccccccccccccccccccccccccccccccccccccccc &&
	"$helper" bob/.git alice 127.0.0.1:$pa forged $oid 50 &&
	"$helper" bob/.git alice 127.0.0.1:$pa unknown $oid 5 &&
	"$helper" bob/.git alice 127.0.0.1:$pa oversize $oid 5 &&
	"$helper" bob/.git alice 127.0.0.1:$pa hello "x 0.0.0.0:$pb" &&
	"$helper" bob/.git alice 127.0.0.1:$pa nudge $oid 3 &&
	wait_for 60 peers_ge alice "\$.peers[0].received" 2 &&
	THRUM_NAME=alice thrum_in alice send "under valgrind" --to @bob >/dev/null &&
	wait_for 60 in_inbox bob "under valgrind" &&
	thrum_in carol peer add --listen 127.0.0.1:9 --name v >s.v 2>/dev/null &&
	thrum_in alice peer join --name v "$(cat s.v)" >/dev/null 2>&1 &&
	thrum_in alice peer remove v >/dev/null &&
	thrum_in alice sync status >/dev/null &&
	kill -TERM $vg &&
	wait $vg &&
	! grep -e "definitely lost" -e "Invalid" -e "uninitialised" vg.log
'

test_expect_success 'stop the daemons' '
	thrum_in alice daemon stop >/dev/null &&
	thrum_in bob daemon stop >/dev/null
'

test_done

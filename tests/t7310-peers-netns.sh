#!/bin/sh
test_description='peers between two network namespaces joined by a veth pair, the remote over smart HTTP from the host'
. ./lib-thrum.sh
. "$SHARNESS_TEST_SRCDIR"/lib-httpd.sh

require_httpd

# private names: other runs of the suite may do the same at once
n=$(( $$ % 100000 ))
ns_a=thrum-a-$n ns_b=thrum-b-$n
x=$(( 200 + $$ % 50 )) y=$(( ($$ / 50) % 250 ))
net=10.$x.$y
h_a=$net.1 a_h=$net.2 h_b=$net.5 b_h=$net.6 a_b=$net.9 b_a=$net.10

netns_down() {
	for r in alice bob
	do
		test -d $r && thrum_in $r daemon stop >/dev/null 2>&1
	done
	ip netns del $ns_a 2>/dev/null
	ip netns del $ns_b 2>/dev/null
	ip link del tha$n 2>/dev/null
	ip link del thb$n 2>/dev/null
	stop_httpd
	return 0
}

if ! test "$(id -u)" = 0 || ! ip netns add $ns_a 2>/dev/null
then
	skip_all='network namespaces are not allowed here (needs root and ip netns)'
	test_done
fi
ip netns del $ns_a

# in_ns <ns> <repo> <git thrum args...>
in_ns() {
	ns=$1 repo=$2
	shift 2
	ip netns exec "$ns" sh -c 'cd "$1" && shift && git thrum "$@"' - "$repo" "$@"
}

in_inbox() {
	thrum_in "$1" inbox --no-mark-read --json >inbox.json &&
	grep -q "$2" inbox.json
}

test_expect_success 'setup: two namespaces, a veth to the host each and one between them' '
	ip netns add $ns_a &&
	ip netns add $ns_b &&
	ip link add tha$n type veth peer name eth0 netns $ns_a &&
	ip link add thb$n type veth peer name eth0 netns $ns_b &&
	ip -n $ns_a link add peer0 type veth peer name peer0 netns $ns_b &&
	ip addr add $h_a/30 dev tha$n && ip link set tha$n up &&
	ip addr add $h_b/30 dev thb$n && ip link set thb$n up &&
	ip -n $ns_a addr add $a_h/30 dev eth0 &&
	ip -n $ns_b addr add $b_h/30 dev eth0 &&
	ip -n $ns_a addr add $a_b/30 dev peer0 &&
	ip -n $ns_b addr add $b_a/30 dev peer0 &&
	for ns in $ns_a $ns_b
	do
		ip -n $ns link set lo up &&
		ip -n $ns link set eth0 up &&
		ip -n $ns link set peer0 up || return 1
	done &&
	# both reach the server at the host end of the first veth
	ip -n $ns_b route add $h_a/32 dev eth0
'

test_expect_success 'setup: the remote over smart HTTP on the host, two clones' '
	HTTPD_BIND=$h_a HTTPD_HOST=$h_a start_httpd &&
	echo "$HTTPD_URL" >url &&
	git init -q --bare remote.git &&
	git -C remote.git config http.receivepack true &&
	setup_pair "$(cat url)/remote.git" &&
	git -C alice config thrum.syncInterval 3600 &&
	git -C bob config thrum.syncInterval 3600
'

test_expect_success 'pair them on the veth between the namespaces' '
	thrum_in alice peer add --listen $a_b:7400 --name bob >pairing 2>/dev/null &&
	thrum_in bob peer join --listen $b_a:7400 --name alice "$(cat pairing)" >/dev/null &&
	in_ns $ns_a alice daemon start >/dev/null &&
	wait_for 10 eval "thrum_in alice peer status | grep -q \"^listening: $a_b:7400\"" &&
	in_ns $ns_b bob daemon start >/dev/null &&
	wait_for 10 eval "thrum_in alice peer list | grep -q \"^bob	$b_a:7400\$\""
'

test_expect_success 'a message sent in one namespace is in the other inbox, no command run' '
	start=$(date +%s%N) &&
	THRUM_NAME=alice thrum_in alice send "across namespaces" --to @bob >/dev/null &&
	wait_for 20 in_inbox bob "across namespaces" &&
	end=$(date +%s%N) &&
	say "peers between namespaces: in bob'"'"'s inbox $(( (end - start) / 1000000 )) ms after send started" &&
	thrum_in bob peer status --json >st.json &&
	test "$(json_get st.json "\$.peers[0].received")" -ge 1
'

test_expect_success 'tear down' '
	netns_down
'

test_done

#!/bin/sh
test_description='the per-repository daemon: one per repository, a sync loop, JSON-RPC'
. ./lib-thrum.sh

daemon_pid() {
	cat "$1/.thrum/var/thrum.pid" 2>/dev/null
}

test_expect_success 'setup: two clones syncing every second' '
	setup_pair &&
	git -C alice config thrum.syncInterval 1 &&
	git -C bob config thrum.syncInterval 1
'

# is_cycle_child <pid>: a daemon's cycle, forked from its loop (the same
# command line), not a daemon of its own
is_cycle_child() {
	pp=$(ps -o ppid= -p "$1" | tr -d " ") &&
	tr "\0" " " <"/proc/$pp/cmdline" 2>/dev/null |
		grep -q "git-thrum daemon run"
}

test_expect_success 'daemon start, and a second start finds it' '
	thrum_in alice daemon start >out &&
	grep "^daemon started (pid [0-9]*)" out &&
	thrum_in alice daemon start >out &&
	grep "^daemon is running already" out &&
	thrum_in alice daemon status >out &&
	grep "^daemon is running (pid $(daemon_pid alice)" out &&
	test "$(pgrep -f "git-thrum daemon run" | while read p; do
		is_cycle_child $p || readlink /proc/$p/cwd; done |
		grep -c -x -F "$SHARNESS_TRASH_DIRECTORY/alice")" = 1
'

test_expect_success 'sync status tells whether the daemon runs' '
	pid=$(daemon_pid alice) &&
	thrum_in alice sync status >st &&
	grep "^daemon:     running (pid $pid), a cycle every 1 s$" st &&
	thrum_in alice sync status --json >st.json &&
	test "$(json_get st.json "$.daemon")" = running &&
	test "$(json_get st.json "$.daemon_pid")" = "$pid" &&
	rpc alice "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sync.status\"}" >s &&
	grep "\"daemon\":\"running\",\"daemon_pid\":$pid" s &&
	thrum_in bob sync status >st &&
	grep "^daemon:     stopped" st &&
	thrum_in bob sync status --json >st.json &&
	test "$(json_get st.json "$.daemon")" = stopped
'

test_expect_success 'its socket is 0600, its log is written' '
	test "$(stat -c %a alice/.thrum/var/thrum.sock)" = 600 &&
	grep "daemon started for" alice/.thrum/var/daemon.log
'

test_expect_success 'JSON-RPC: health, sync.status, errors' '
	rpc alice "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"health\"}" >h &&
	grep "\"status\":\"ok\"" h &&
	grep "\"id\":7" h &&
	rpc alice "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"sync.status\"}" >s &&
	grep "\"state\":" s &&
	rpc alice "this is not json" >e &&
	grep "\"code\":-32700" e &&
	rpc alice "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"nope\"}" >e &&
	grep "\"code\":-32601" e &&
	rpc alice "{\"jsonrpc\":\"1.0\",\"id\":9,\"method\":\"health\"}" >e &&
	grep "\"code\":-32600" e &&
	long=$(printf "%070000d" 0) &&
	rpc alice "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$long\"}" >e &&
	grep "request too long" e &&
	thrum_in alice daemon status >out &&
	grep "^daemon is running" out
'

test_expect_success 'with both daemons running, a message arrives by itself' '
	thrum_in bob daemon start >/dev/null &&
	thrum_in alice send "no command needed" --to @bob >/dev/null &&
	wait_for 20 eval "thrum_in bob inbox --no-mark-read | grep -q \"no command needed\""
'

test_expect_success 'sync.force over RPC' '
	rpc bob "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sync.force\"}" >f &&
	grep "\"state\":\"synced\"" f
'

test_expect_success 'kill -9, start again: stale files cleaned, nothing lost' '
	pid=$(daemon_pid alice) &&
	kill -9 "$pid" &&
	wait_for 10 eval "! kill -0 $pid 2>/dev/null" &&
	test -S alice/.thrum/var/thrum.sock &&
	thrum_in alice daemon status >out ;
	grep "not running" out &&
	test_path_is_missing alice/.thrum/var/thrum.sock &&
	for i in 1 2 3 4 5
	do
		thrum_in alice send "after kill $i" >/dev/null || return 1
	done &&
	thrum_in alice daemon start >/dev/null &&
	wait_for 20 eval "thrum_in bob inbox --no-mark-read | grep -q \"after kill 5\"" &&
	git -C remote.git show a-sync:messages/alice.jsonl >log &&
	for i in 1 2 3 4 5
	do
		test "$(grep -c "\"content\":\"after kill $i\"" log)" = 1 ||
		return 1
	done
'

test_expect_success 'stop removes socket and pid file' '
	thrum_in alice daemon stop >out &&
	grep "^daemon stopped" out &&
	test_path_is_missing alice/.thrum/var/thrum.sock &&
	test_path_is_missing alice/.thrum/var/thrum.pid &&
	grep "daemon stopped" alice/.thrum/var/daemon.log &&
	thrum_in alice daemon stop >out &&
	grep "not running" out
'

test_expect_success 'restart' '
	thrum_in bob daemon restart >out &&
	grep "^daemon started" out &&
	thrum_in bob daemon status >out &&
	grep "^daemon is running" out
'

test_expect_success 'init starts a daemon unless --no-daemon' '
	new_repo withd &&
	(cd withd && env -u THRUM_TEST_NO_DAEMON git thrum init >../out) &&
	grep "daemon: running" out &&
	thrum_in withd daemon stop >/dev/null &&
	new_repo nod &&
	(cd nod && env -u THRUM_TEST_NO_DAEMON git thrum init --no-daemon \
		>../out) &&
	grep "daemon: off (thrum.daemon is false)" out &&
	test "$(git -C nod config thrum.daemon)" = false &&
	test_path_is_missing nod/.thrum/var/thrum.pid
'

test_expect_success 'a daemon whose repository is deleted exits' '
	new_repo doomed &&
	(cd doomed && git thrum init >/dev/null && git thrum daemon start \
		>/dev/null) &&
	pid=$(daemon_pid doomed) &&
	kill -0 "$pid" &&
	# the daemon may write while rm walks the tree: retry until gone
	wait_for 10 eval "rm -rf doomed 2>/dev/null; ! test -e doomed" &&
	wait_for 10 eval "! kill -0 $pid 2>/dev/null || grep -q \" Z\" /proc/$pid/stat"
'

test_expect_success 'stop the daemons: none of ours is left' '
	thrum_in bob daemon stop >/dev/null &&
	for p in $(pgrep -f "git-thrum daemon run")
	do
		readlink /proc/$p/cwd
	done >cwds &&
	! grep -F "$SHARNESS_TRASH_DIRECTORY/" cwds
'

test_done

#!/bin/sh
test_description='the daemon over many cycles: no leak under valgrind, no RSS growth'
. ./lib-thrum.sh

# valgrind cannot run a binary built with AddressSanitizer, whose
# allocator quarantine also makes RSS grow by design: both checks are for
# the native build (make check runs it; make check SANITIZE=1 the rest)
test "$(cat "$SHARNESS_BUILD_DIRECTORY/build/.current" 2>/dev/null)" = \
	build/default && test_set_prereq NATIVE
command -v valgrind >/dev/null && test_have_prereq NATIVE &&
	test_set_prereq VALGRIND

cycles() {	# cycles <repo> <n>: n sync cycles through the daemon, with traffic
	n=0
	while test $n -lt $2
	do
		n=$((n + 1))
		thrum_in bob send "traffic $n" >/dev/null &&
		thrum_in bob sync force >/dev/null &&
		rpc "$1" "{\"jsonrpc\":\"2.0\",\"id\":$n,\"method\":\"sync.force\"}" |
			grep -q "\"state\":\"synced\"" || return 1
	done
}

rss_kb() {
	sed -n "s/^VmRSS:[^0-9]*\\([0-9]*\\).*/\\1/p" /proc/$1/status
}

test_expect_success 'setup' '
	setup_pair
'

test_expect_success VALGRIND 'valgrind: 15 cycles, no error, nothing definitely lost' '
	(cd alice && exec valgrind --quiet --leak-check=full \
		--errors-for-leak-kinds=definite --error-exitcode=99 \
		--log-file=../vg.log git-thrum daemon run) &
	vg=$! &&
	test_when_finished "kill $vg 2>/dev/null || :" &&
	wait_for 60 test -S alice/.thrum/var/thrum.sock &&
	cycles alice 15 &&
	rpc alice "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"wait\",\"params\":{\"agent\":\"alice\",\"after_seq\":1000000000,\"timeout_ms\":10}}" >w &&
	grep "\"timeout\":true" w &&
	kill -TERM $vg &&
	wait $vg &&
	! grep -e "definitely lost" -e "Invalid" vg.log
'

test_expect_success NATIVE 'RSS does not grow over 200 cycles' '
	thrum_in alice daemon start >/dev/null &&
	test_when_finished "thrum_in alice daemon stop >/dev/null 2>&1 || :" &&
	pid=$(cat alice/.thrum/var/thrum.pid) &&
	cycles alice 20 &&
	before=$(rss_kb $pid) &&
	cycles alice 200 &&
	after=$(rss_kb $pid) &&
	echo "daemon RSS: $before KiB after 20 cycles, $after KiB after 220" &&
	test $((after - before)) -lt 1024 &&
	thrum_in alice daemon stop >/dev/null
'

test_done

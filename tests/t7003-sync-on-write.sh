#!/bin/sh
test_description='sync on write: the daemon pushes a local append thrum.writeDelay after it, a burst in one cycle'
. ./lib-thrum.sh

daemon_pid() {
	cat "$1/.thrum/var/thrum.pid" 2>/dev/null
}

# on_remote <text>: the remote's a-sync holds a line with text
on_remote() {
	git -C remote.git grep -q "$1" a-sync -- messages/ 2>/dev/null
}

test_expect_success 'setup: two clones, a daemon on alice with a tick of an hour' '
	setup_pair &&
	git -C alice config thrum.syncInterval 3600 &&
	thrum_in alice daemon start >/dev/null &&
	wait_for 10 eval "thrum_in alice daemon status | grep -q \", [1-9][0-9]* sync cycles\""
'

test_expect_success 'a send is on the remote within a second or so, no command run' '
	start=$(date +%s%N) &&
	thrum_in alice send "pushed on write" >/dev/null &&
	wait_for 10 on_remote "pushed on write" &&
	end=$(date +%s%N) &&
	say "sync on write: on the remote $(( (end - start) / 1000000 )) ms after send started"
'

test_expect_success 'a burst of sends goes out in few pushes' '
	before=$(git -C remote.git rev-list --count a-sync) &&
	for i in 1 2 3 4 5 6 7 8 9 10
	do
		thrum_in alice send "burst $i" >/dev/null || return 1
	done &&
	wait_for 10 on_remote "burst 10" &&
	after=$(git -C remote.git rev-list --count a-sync) &&
	say "10 sends made $((after - before)) commits on the remote" &&
	test $((after - before)) -le 4
'

test_expect_success 'thrum.writeDelay -1 turns it off' '
	git -C alice config thrum.writeDelay -1 &&
	thrum_in alice daemon restart >/dev/null &&
	# after the cycle it runs at start, which would push anything
	wait_for 10 eval "thrum_in alice daemon status | grep -q \", [1-9][0-9]* sync cycles\"" &&
	thrum_in alice send "waits for the tick" >/dev/null &&
	! wait_for 1 on_remote "waits for the tick"
'

test_expect_success 'a bad thrum.writeDelay is refused, naming it' '
	(cd alice && test_must_fail git -c thrum.writeDelay=soon thrum sync status \
		2>../err) &&
	grep "bad value .soon. for .thrum.writeDelay." err
'

test_expect_success 'stop the daemon' '
	thrum_in alice daemon stop >/dev/null
'

test_done

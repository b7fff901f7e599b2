#!/bin/sh
test_description='the daemon answers while a cycle hangs: status, wait, sync.force and stop'
. ./lib-thrum.sh

# stall_listener <dir>: a TCP listener on 127.0.0.1 that accepts every
# connection and never answers; its port goes to <dir>/port, a line per
# connection to <dir>/accepted, its pid to <dir>/pid; it ends with the
# test script, whatever becomes of the tests
stall_listener() {
	mkdir -p "$1" || return 1
	perl -MIO::Socket::INET -MIO::Select -e '
		my ($dir, $script) = @ARGV;
		my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
			LocalPort => 0, Listen => 16, ReuseAddr => 1)
			or die "listen: $!";
		open my $f, ">", "$dir/port.tmp" or die "port: $!";
		print $f $l->sockport, "\n";
		close $f;
		rename "$dir/port.tmp", "$dir/port" or die "rename: $!";
		my @held;
		my $sel = IO::Select->new($l);
		while (kill 0, $script) {
			next unless $sel->can_read(0.2);
			my $c = $l->accept or next;
			push @held, $c;
			open my $a, ">>", "$dir/accepted" or die "log: $!";
			print $a "accepted\n";
			close $a;
		}
	' "$1" $$ </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- &
	echo $! >"$1/pid" &&
	wait_for 10 test -s "$1/port"
}

ms_since() {	# ms_since <start in ns>
	echo $(( ($(date +%s%N) - $1) / 1000000 ))
}

timed() {	# timed <command>...: run it, how long it took in $took (ms)
	start=$(date +%s%N) &&
	"$@" &&
	took=$(ms_since $start)
}

# descendants <pid>: every process under pid, one pid a line
descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			found[root] = 1
			do {
				more = 0
				for (p in parent)
					if (!(p in found) && (parent[p] in found)) {
						found[p] = 1
						more = 1
					}
			} while (more)
			for (p in found)
				if (p != root)
					print p
		}'
}

# cycle_child <daemon pid>: the daemon's child that runs the cycle
cycle_child() {
	pgrep -P "$1" -x git-thrum
}

# cpu_ticks <pid>: user and system time the process used, in clock ticks
cpu_ticks() {
	sed "s/^.*) //" "/proc/$1/stat" | awk "{ print \$12 + \$13 }"
}

# alive <pid>: the process exists and is no zombie
alive() {
	test -r "/proc/$1/stat" && ! grep -q "^[0-9]* (.*) Z" "/proc/$1/stat"
}

connections() {
	count_lines stall/accepted
}

connected() {	# connected <n>: the listener accepted n connections or more
	test "$(connections)" -ge "$1"
}

# over smart HTTP, so that the fetch is git and its remote helper
test_expect_success 'setup: alice syncs with a remote that accepts and never answers' '
	setup_pair &&
	stall_listener stall &&
	port=$(cat stall/port) &&
	git -C alice remote set-url origin "http://127.0.0.1:$port/remote.git" &&
	git -C alice config thrum.syncInterval 3600 &&
	(cd alice && git thrum quickstart --name carol --role tester \
		--module m >/dev/null) &&
	thrum_in alice daemon start >/dev/null &&
	wait_for 10 connected 1
'

test_expect_success 'during the hung cycle daemon status answers at once' '
	timed thrum_in alice daemon status >out &&
	say "daemon status during a hung fetch: $took ms" &&
	grep "^daemon is running (pid [0-9]*, 0 sync cycles)" out &&
	test $took -lt 1000 &&
	thrum_in alice sync status --json >st.json &&
	test "$(json_get st.json "$.running")" = 1 &&
	test "$(connections)" = 1
'

test_expect_success 'the cycle runs in a child that holds no socket and no pid lock' '
	pid=$(cat alice/.thrum/var/thrum.pid) &&
	child=$(cycle_child $pid) &&
	test -n "$child" &&
	ls -l /proc/$pid/fd >parent.fd &&
	grep socket: parent.fd &&
	grep /thrum.pid parent.fd &&
	ls -l /proc/$child/fd >child.fd &&
	! grep socket: child.fd &&
	! grep /thrum.pid child.fd
'

test_expect_success 'during the hung cycle wait wakes on a local send' '
	(cd alice && THRUM_NAME=alice exec git thrum wait --timeout 20 \
		>../wait.out 2>../wait.err) &
	waiter=$! &&
	# connected to the daemon: its git-thrum holds a socket
	wait_for 10 eval "ls -l /proc/\$(pgrep -P $waiter -x git-thrum)/fd 2>/dev/null |
		grep -q socket:" &&
	start=$(date +%s%N) &&
	(cd alice && THRUM_NAME=carol git thrum send "wake up" --to @alice \
		>/dev/null) &&
	wait $waiter &&
	took=$(ms_since $start) &&
	say "wait during a hung fetch: woken $took ms after send started" &&
	grep "wake up" wait.out &&
	test_must_be_empty wait.err &&
	test $took -lt 5000 &&
	test "$(connections)" = 1
'

test_expect_success 'during the hung cycle wait keeps its deadline' '
	start=$(date +%s%N) &&
	(cd alice && THRUM_NAME=alice test_expect_code 1 git thrum wait \
		--timeout 1 >../wait.out 2>../wait.err) &&
	took=$(ms_since $start) &&
	say "wait --timeout 1 during a hung fetch: returned after $took ms" &&
	test_must_be_empty wait.out &&
	echo "no message within 1 seconds" >expect &&
	test_cmp expect wait.err &&
	test $took -lt 3000
'

test_expect_success 'the send waits for the hung cycle: no second cycle, no busy loop' '
	pid=$(cat alice/.thrum/var/thrum.pid) &&
	before=$(cpu_ticks $pid) &&
	# the send is due (thrum.writeDelay passed) and must wait for the
	# hung cycle: over a second of that, the loop sleeps in poll()
	sleep 1 &&
	after=$(cpu_ticks $pid) &&
	say "the daemon used $((after - before)) clock ticks in that second" &&
	test $((after - before)) -lt 20 &&
	test "$(connections)" = 1 &&
	thrum_in alice daemon status >out &&
	grep "^daemon is running (pid [0-9]*, 0 sync cycles)" out
'

test_expect_success 'daemon stop ends the hung cycle within a second, leaving no process' '
	test "$(connections)" = 1 &&
	pid=$(cat alice/.thrum/var/thrum.pid) &&
	descendants "$pid" >kids &&
	test_line_count -ge 2 kids &&
	timed thrum_in alice daemon stop >out &&
	say "daemon stop during a hung fetch: $took ms" &&
	grep "^daemon stopped" out &&
	test $took -lt 1000 &&
	! alive "$pid" &&
	for k in $(cat kids)
	do
		! alive "$k" || { ps -o pid,args -p "$k"; return 1; }
	done &&
	test_path_is_missing alice/.thrum/var/thrum.sock
'

test_expect_success 'sync.force waits for its cycle, health answers meanwhile' '
	# the cycle at start hangs for 2 s, then the forced one does
	git -C alice config thrum.networkTimeout 2 &&
	thrum_in alice daemon start >/dev/null &&
	wait_for 10 connected 2 &&
	start=$(date +%s%N) || return 1
	# alone in its list: a & after && would put the whole list behind it
	(rpc alice "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"sync.force\"}" \
		>force.out) &
	forcer=$! &&
	rpc alice "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"health\"}" >h &&
	took=$(ms_since $start) &&
	say "health during a hung fetch: $took ms" &&
	grep "\"status\":\"ok\"" h &&
	test $took -lt 1000 &&
	kill -0 $forcer &&
	wait $forcer &&
	say "sync.force answered after $(ms_since $start) ms" &&
	# its own cycle ended (and logged) before it was answered
	grep -c "sync: timeout" alice/.thrum/var/daemon.log >timeouts &&
	echo 2 >expect &&
	test_cmp expect timeouts &&
	grep "\"id\":7" force.out &&
	grep "\"triggered\":true" force.out &&
	grep "\"state\":\"timeout\"" force.out &&
	test "$(connections)" = 3
'

# nothing_left <file of pids>: none of them runs
nothing_left() {
	for k in $(cat "$1")
	do
		! alive "$k" || return 1
	done
}

test_expect_success 'a daemon killed with -9 during the hung cycle takes it along' '
	git -C alice config --unset thrum.networkTimeout &&
	thrum_in alice daemon stop >/dev/null &&
	before=$(connections) &&
	thrum_in alice daemon start >/dev/null &&
	wait_for 10 connected $((before + 1)) &&
	pid=$(cat alice/.thrum/var/thrum.pid) &&
	descendants "$pid" >kids &&
	test_line_count -ge 2 kids &&
	kill -9 "$pid" &&
	wait_for 5 nothing_left kids &&
	thrum_in alice daemon start >out &&
	grep "^daemon started" out &&
	thrum_in alice daemon stop >/dev/null
'

test_expect_success 'stop what the tests started' '
	thrum_in alice daemon stop >/dev/null 2>&1
	kill "$(cat stall/pid)"
'

test_done

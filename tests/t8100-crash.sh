#!/bin/sh
test_description='SIGKILL at random points of send, sync force, the daemon and inbox: no torn line, no lost or doubled event'
. ./lib-thrum.sh

# trials in make check; the full run sets THRUM_CRASH_TRIALS=200 or more
: "${THRUM_CRASH_TRIALS:=24}"

rand() {	# rand <n>: a random number in [0, n)
	echo $(( $(od -An -N2 -tu2 /dev/urandom | tr -d " ") % $1 ))
}

pause_ms() {	# the random moment of the kill, not a wait for anything
	sleep "$(printf "0.%03d" "$1")"
}

test_expect_success 'setup' '
	setup_pair &&
	git -C alice config thrum.syncInterval 1 &&
	mkdir -p results
'

test_expect_success "$THRUM_CRASH_TRIALS trials of kill -9 on send, sync, the daemon and inbox" '
	i=0 &&
	while test $i -lt $THRUM_CRASH_TRIALS
	do
		i=$((i + 1))
		# every third trial the other side moves too, so that the
		# cycle being killed has a merge to make
		if test $((i % 3)) = 0
		then
			thrum_in bob send "bob $i" --to @alice \
				>>results/bob 2>/dev/null &&
			thrum_in bob sync force >/dev/null 2>&1
		fi
		victim=$(rand 4)
		delay=$(rand 60)
		case $victim in
		0)
			(cd alice && exec git-thrum send "crash $i" --to @bob \
				>../results/send.$i 2>/dev/null) &
			pid=$!
			;;
		1)
			(cd alice && exec git-thrum sync force >/dev/null \
				2>&1) &
			pid=$!
			;;
		2)
			(cd alice && git-thrum daemon start >/dev/null 2>&1)
			pid=$(cat alice/.thrum/var/thrum.pid 2>/dev/null)
			;;
		3)
			# a reader: it catches the database up with what the
			# sends appended, and appends read receipts
			(cd alice && exec git-thrum inbox --all >/dev/null \
				2>&1) &
			pid=$!
			;;
		esac
		# work that completes while the victim dies
		(cd alice && git-thrum send "steady $i" --to @bob \
			>../results/steady.$i 2>/dev/null) &
		steady=$!
		pause_ms $delay
		test -z "$pid" || kill -9 $pid 2>/dev/null
		wait $steady
		wait 2>/dev/null
		echo "$victim" >>results/victims
	done &&
	test "$(wc -l <results/victims)" = "$THRUM_CRASH_TRIALS"
'

test_expect_success 'no torn line in any shard' '
	for f in "$(sync_dir alice)"/events.jsonl "$(sync_dir alice)"/messages/*.jsonl
	do
		! grep -v "^{.*}$" "$f" || return 1
	done
'

test_expect_success 'every send that reported success is in the log exactly once' '
	cat results/send.* results/steady.* 2>/dev/null | grep "^msg_" >ids &&
	test -s ids &&
	cat "$(sync_dir alice)"/messages/alice*.jsonl >log &&
	while read id
	do
		test "$(grep -c "\"message_id\":\"$id\"" log)" = 1 || {
			echo "$id: $(grep -c "\"message_id\":\"$id\"" log) times"
			return 1
		}
	done <ids &&
	echo "$(wc -l <ids) accepted sends, each in the log exactly once"
'

test_expect_success 'the database catches up: every message shows' '
	thrum_in alice daemon stop >/dev/null &&
	thrum_in alice inbox --all --no-mark-read --json --limit 100000 \
		>all.json &&
	while read id
	do
		grep -q "\"message_id\":\"$id\"" all.json || return 1
	done <ids &&
	thrum_in alice fsck >fsck.out &&
	grep "^ok: no errors" fsck.out
'

test_expect_success 'the next sync succeeds and the other clone gets everything' '
	thrum_in alice sync force >out &&
	grep "^synced" out &&
	thrum_in bob sync force >/dev/null &&
	thrum_in bob inbox --no-mark-read --json --limit 100000 >b.json &&
	while read id
	do
		grep -q "\"message_id\":\"$id\"" b.json || return 1
	done <ids &&
	for f in $(git -C remote.git ls-tree --name-only a-sync messages/ |
		   grep "^messages/alice\.")
	do
		git -C remote.git show "a-sync:$f" || return 1
	done >remote.log &&
	sed -n "s/.*\"event_id\":\"\\(evt_[0-9A-Z]*\\)\".*/\\1/p" remote.log |
		sort | uniq -d >dups &&
	test_must_be_empty dups
'

test_expect_success 'alice got every message bob sent while she crashed' '
	grep "^msg_" results/bob >bob_ids &&
	test -s bob_ids &&
	thrum_in alice inbox --no-mark-read --json --limit 100000 >a.json &&
	while read id
	do
		grep -q "\"message_id\":\"$id\"" a.json || return 1
	done <bob_ids
'

test_done

#!/bin/sh
test_description='the log lock, the sync lock and the fsync of an append, each held or failed from outside'
. ./lib-thrum.sh

shim=$SHARNESS_BUILD_DIRECTORY/tests/helper/fail-fsync.so
test -f "$shim" || error "tests/helper/fail-fsync.so is not built; run make test-helpers"

# hold <file> <tag>: flock <file> (exclusive) from another process until
# <tag>.release exists (bounded: 60 s); <tag>.held once it is held
hold() {
	(flock -x "$1" sh -c '
		: >"$0.held"
		n=0
		while ! test -f "$0.release" && test $n -lt 600
		do
			sleep 0.1
			n=$((n + 1))
		done' "$2" &)
	wait_for 10 test -f "$2.held"
}

# waiting_on <file>: some process is blocked in flock() on <file>
waiting_on() {
	grep -q "^[0-9]*: -> FLOCK .*:$(stat -c %i "$1") " /proc/locks
}

# blocked_or_done <file> <pid>
blocked_or_done() {
	waiting_on "$1" || ! kill -0 "$2" 2>/dev/null
}

test_expect_success 'setup' '
	thrum_repo repo alice impl &&
	thrum_in repo send "first" >/dev/null &&
	shard="$(sync_dir repo)/messages/alice.jsonl" &&
	test_path_is_file repo/.thrum/var/log.lock
'

test_expect_success 'a send waits while var/log.lock is held by another process' '
	hold repo/.thrum/var/log.lock log &&
	test_when_finished ": >log.release" &&
	(cd repo && exec git thrum send "sent under the lock") >sent 2>err &
	pid=$! &&
	wait_for 20 blocked_or_done repo/.thrum/var/log.lock $pid &&
	waiting_on repo/.thrum/var/log.lock &&
	! grep "sent under the lock" "$shard" &&
	: >log.release &&
	wait $pid &&
	grep "^msg_" sent &&
	test_must_be_empty err &&
	grep "sent under the lock" "$shard"
'

test_expect_success 'a git push while another cycle holds var/sync.lock: the push goes, a-sync waits' '
	git init -q --bare remote.git &&
	git -C repo remote add origin "file://$(pwd)/remote.git" &&
	git -C repo config thrum.localOnly false &&
	git -C repo push -q origin main &&
	thrum_in repo sync force >/dev/null &&
	before=$(git -C remote.git rev-parse a-sync) &&
	thrum_in repo send "waits for the next cycle" >/dev/null &&
	git -C repo commit -q --allow-empty -m "pushed while locked" &&
	hold repo/.thrum/var/sync.lock sync &&
	test_when_finished ": >sync.release" &&
	git -C repo push -q origin main 2>err &&
	test "$(git -C remote.git rev-parse main)" = \
		"$(git -C repo rev-parse main)" &&
	test "$(git -C remote.git rev-parse a-sync)" = "$before" &&
	: >sync.release &&
	wait_for 10 eval "flock -n repo/.thrum/var/sync.lock true" &&
	git -C repo commit -q --allow-empty -m "pushed unlocked" &&
	git -C repo push -q origin main &&
	git -C remote.git show a-sync:messages/alice.jsonl >log &&
	grep "waits for the next cycle" log
'

test_expect_success 'an append whose fsync fails is an error, not a message id' '
	asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 &&
	test_must_fail env LD_PRELOAD="$shim" ASAN_OPTIONS="$asan" \
		THRUM_TEST_FAIL_FSYNC=/messages/alice \
		sh -c "cd repo && exec git thrum send \"not durable\"" \
		>sent 2>err &&
	test_must_be_empty sent &&
	grep "cannot fsync .*messages/alice.*Input/output error" err &&
	test_line_count = 1 err &&
	! grep -r "not durable" "$(sync_dir repo)" &&
	thrum_in repo inbox --all --no-mark-read >inbox &&
	! grep "not durable" inbox &&
	thrum_in repo send "durable again" >sent &&
	grep "^msg_" sent
'

test_done

#!/bin/sh
test_description='many clones with daemons on one remote: every event everywhere through the clone refs, a-sync catches up, a rejected push is retried and never called offline'
. ./lib-thrum.sh

N=4
CLONES="c1 c2 c3 c4"

# ids_in <clone>: the message ids its projection holds, sorted
ids_in() {
	sqlite3 -readonly "$1/.thrum/var/messages.db" \
		"SELECT message_id FROM messages ORDER BY message_id"
}

# all_have <file>: every clone's projection holds exactly the ids of <file>
all_have() {
	for c in $CLONES
	do
		ids_in $c >have.$c 2>/dev/null &&
		cmp -s "$1" have.$c || return 1
	done
}

# counter <clone> <key>: a counter of the daemon's (daemon status --json)
counter() {
	thrum_in "$1" daemon status --json >status.$1 &&
	jq -r ".$2" status.$1
}

# sum <key>: that counter added over the clones
sum() {
	total=0
	for c in $CLONES
	do
		v=$(counter $c "$1") || return 1
		total=$((total + v))
	done
	echo $total
}

test_expect_success "setup: $N clones of one remote, a daemon each, ticks of 1 s" '
	git init -q --bare remote.git &&
	new_repo seed &&
	git -C seed push -q "file://$(pwd)/remote.git" main &&
	for c in $CLONES
	do
		git clone -q "file://$(pwd)/remote.git" $c &&
		git -C $c config thrum.localOnly false &&
		git -C $c config thrum.syncInterval 1 &&
		(cd $c && git thrum init >/dev/null &&
		 git thrum quickstart --name $c --role sender \
			--module m >/dev/null) || return 1
	done &&
	for c in $CLONES
	do
		thrum_in $c daemon start >/dev/null || return 1
	done
'

test_expect_success 'every clone sends at once, three times: every message in every clone' '
	: >sent &&
	for round in 1 2 3
	do
		for c in $CLONES
		do
			thrum_in $c send "round $round from $c" >>sent || return 1
		done
	done &&
	test_line_count = 12 sent &&
	sort sent >expect &&
	wait_for 60 all_have expect
'

# (no count of give-ups here: on a loaded machine a cycle may still run
# out of its budget; bench/scale measures them)
test_expect_success 'the remote was reachable: no cycle said offline' '
	for c in $CLONES
	do
		! grep "sync: offline" $c/.thrum/var/daemon.log &&
		thrum_in $c sync status --json >st.$c &&
		test "$(jq -r .state st.$c)" != offline || return 1
	done &&
	test "$(sum push_attempts)" -ge 4
'

# remote_ref <clone>: the commit of its clone ref on the remote ("" if none)
remote_ref() {
	git -C remote.git rev-parse -q --verify \
		"refs/thrum/clones/$(cat $1/.thrum/var/clone-id)" || :
}

# async_has <id>: the remote's a-sync holds that message
async_has() {
	git -C remote.git grep -q "$1" a-sync -- messages
}

test_expect_success 'every clone has a ref of its own on the remote' '
	for c in $CLONES
	do
		test -n "$(remote_ref $c)" || return 1
	done &&
	test "$(git -C remote.git for-each-ref refs/thrum/clones | wc -l)" = $N
'

test_expect_success 'a clone with nothing of its own to push never pushes its ref' '
	before=$(remote_ref c4) &&
	for c in c1 c2 c3
	do
		thrum_in $c send "only others, from $c" >>sent || return 1
	done &&
	sort sent >expect &&
	wait_for 60 all_have expect &&
	test "$(remote_ref c4)" = "$before"
'

test_expect_success 'the shared branch held by another push: delivered through the clone ref, no give-up, not offline' '
	# another push holding the remote ref: "(failed to update ref)"
	touch remote.git/refs/heads/a-sync.lock &&
	test_when_finished "rm -f remote.git/refs/heads/a-sync.lock" &&
	give_ups=$(counter c1 push_give_ups) &&
	beside=$(counter c1 async_rejections) &&
	thrum_in c1 send "a-sync held" >id &&
	cat sent id | sort >expect &&
	wait_for 30 all_have expect &&
	test "$(counter c1 push_give_ups)" = "$give_ups" &&
	test "$(counter c1 async_rejections)" -gt "$beside" &&
	! async_has "$(cat id)" &&
	! grep "sync: offline" c1/.thrum/var/daemon.log &&
	thrum_in c1 sync status --json >st &&
	test "$(jq -r .state st)" = synced
'

test_expect_success 'once a-sync takes pushes again, it catches up with no new message' '
	rm -f remote.git/refs/heads/a-sync.lock &&
	cat id >>sent &&
	wait_for 30 async_has "$(cat id)"
'

test_expect_success 'without clone refs: a push that keeps losing the race is retried within its budget, then rejected, not offline' '
	thrum_in c1 daemon stop >/dev/null &&
	git -C c1 config thrum.cloneRefs false &&
	test_when_finished "git -C c1 config --unset thrum.cloneRefs" &&
	thrum_in c1 daemon start >/dev/null &&
	touch remote.git/refs/heads/a-sync.lock &&
	test_when_finished "rm -f remote.git/refs/heads/a-sync.lock" &&
	before=$(remote_ref c1) &&
	thrum_in c1 send "refused for a while" >id &&
	wait_for 30 eval "test \$(counter c1 push_give_ups) -gt 0" &&
	grep "sync: rejected, .*failed to update ref" \
		c1/.thrum/var/daemon.log &&
	! grep "sync: offline" c1/.thrum/var/daemon.log &&
	thrum_in c1 sync status --json >st &&
	test "$(jq -r .state st)" = rejected &&
	# more than the three fixed attempts of old: a budget of 4 s
	test "$(counter c1 push_attempts)" -gt 3 &&
	test "$(remote_ref c1)" = "$before"
'

test_expect_success 'once the remote takes pushes again, the message gets everywhere' '
	rm -f remote.git/refs/heads/a-sync.lock &&
	cat sent id | sort >expect &&
	wait_for 30 all_have expect
'

test_expect_success 'stop the daemons' '
	for c in $CLONES
	do
		thrum_in $c daemon stop >/dev/null || return 1
	done
'

test_expect_success 'a push a hook declines is not tried again: rejected at once' '
	cat >remote.git/hooks/pre-receive <<-\EOF &&
	#!/bin/sh
	echo run >>"$GIT_DIR/declined"
	exit 1
	EOF
	chmod +x remote.git/hooks/pre-receive &&
	test_when_finished "rm -f remote.git/hooks/pre-receive" &&
	thrum_in c2 send "declined" >/dev/null &&
	{ thrum_in c2 sync force >out 2>&1 || :; } &&
	grep "pre-receive hook declined" out &&
	test_line_count = 1 remote.git/declined &&
	thrum_in c2 sync status --json >st &&
	test "$(jq -r .state st)" = rejected
'

test_done

#!/bin/sh
test_description='clone refs: each clone pushes refs/thrum/clones/<id> beside a-sync, fetches everyone'"'"'s, and a-sync still gets every event'
. ./lib-thrum.sh

E=01JKM4T2YQ8M3E5X6Z7A9B0C

# own_ref <clone>: its ref on the remote
own_ref() {
	echo "refs/thrum/clones/$(cat $1/.thrum/var/clone-id)"
}

# remote_has <ref> <text>: that ref's tree on the remote holds the text
remote_has() {
	git -C remote.git grep -q "$2" "$1" --
}

# hold_a_sync: a-sync on the remote is held by another push (its lock)
# until release_a_sync, or the end of the test
hold_a_sync() {
	touch remote.git/refs/heads/a-sync.lock &&
	test_when_finished "rm -f remote.git/refs/heads/a-sync.lock"
}

release_a_sync() {
	rm -f remote.git/refs/heads/a-sync.lock
}

# sync_short <clone>: its sync force at thrum.syncInterval 2, whose
# rejected push is tried again for a budget of two intervals, 4 s
sync_short() {
	git -C "$1" -c thrum.syncInterval=2 thrum sync force
}

test_expect_success 'setup: alice, bob and carol on one remote' '
	setup_pair &&
	git clone -q remote.git carol &&
	git -C carol config thrum.localOnly false &&
	(cd carol && git thrum init >/dev/null &&
	 git thrum quickstart --name carol --role carol-role \
		--module m >/dev/null) &&
	sync_round alice bob carol
'

test_expect_success 'every clone has an id, and its ref on the remote' '
	for c in alice bob carol
	do
		id=$(cat $c/.thrum/var/clone-id) &&
		test ${#id} = 16 &&
		git -C remote.git rev-parse -q --verify "$(own_ref $c)" ||
			return 1
	done &&
	test "$(git -C remote.git for-each-ref refs/thrum/clones | wc -l)" = 3 &&
	# fetched into refs/thrum/remotes/, not among the user'"'"'s branches
	test "$(git -C alice for-each-ref refs/thrum/remotes/origin | wc -l)" = 3 &&
	! git -C alice branch -r | grep thrum
'

test_expect_success 'a-sync held by another push: the message still goes out in the clone ref' '
	hold_a_sync &&
	thrum_in alice send "while a-sync is held" >id &&
	# sync force tries a-sync again for its budget: two intervals, 4 s
	test_might_fail sync_short alice >out 2>&1 &&
	grep "^rejected" out &&
	remote_has "$(own_ref alice)" "while a-sync is held" &&
	! remote_has a-sync "while a-sync is held" &&
	thrum_in bob sync force >/dev/null &&
	thrum_in bob inbox --no-mark-read --all >inbox &&
	grep "^    while a-sync is held$" inbox
'

test_expect_success 'clone refs packed by git gc are read too' '
	hold_a_sync &&
	thrum_in alice send "read from packed-refs" >/dev/null &&
	test_might_fail sync_short alice >/dev/null 2>&1 &&
	git -C bob fetch -q origin "+refs/thrum/clones/*:refs/thrum/remotes/origin/*" &&
	git -C bob pack-refs --all &&
	test_path_is_missing "bob/.git/refs/thrum/remotes/origin/$(cat alice/.thrum/var/clone-id)" &&
	test_might_fail sync_short bob >/dev/null 2>&1 &&
	thrum_in bob inbox --no-mark-read --all >inbox &&
	grep "^    read from packed-refs$" inbox
'

test_expect_success 'a-sync free again: the next push of a-sync carries it' '
	release_a_sync &&
	thrum_in bob send "bob, later" >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	remote_has a-sync "while a-sync is held" &&
	remote_has a-sync "bob, later"
'

# a_cycle <clone>: one cycle of its daemon (sync.force over its socket),
# and wait for it to end
a_cycle() {
	rpc $1 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sync.force\"}" \
		>/dev/null
}

# carol_daemon <interval>: carol's daemon at that tick, one cycle run,
# stopped (and the interval dropped) when the test ends
carol_daemon() {
	git -C carol config thrum.syncInterval $1 &&
	test_when_finished "thrum_in carol daemon stop >/dev/null; git -C carol config --unset thrum.syncInterval" &&
	THRUM_TEST_NO_DAEMON= thrum_in carol daemon start >/dev/null &&
	a_cycle carol
}

test_expect_success 'a daemon with nothing of its own pushes nothing, a-sync behind or not' '
	sync_round alice bob carol &&
	carol_daemon 600 &&
	thrum_in carol daemon status --json >st &&
	attempts=$(jq -r .push_attempts st) &&
	before=$(git -C remote.git rev-parse "$(own_ref carol)") &&
	async=$(git -C remote.git rev-parse a-sync) &&
	# alice'"'"'s message reaches the remote in her ref only
	hold_a_sync &&
	thrum_in alice send "for the others" >/dev/null &&
	test_might_fail sync_short alice >/dev/null 2>&1 &&
	release_a_sync &&
	a_cycle carol &&
	thrum_in carol inbox --no-mark-read --all >inbox &&
	grep "^    for the others$" inbox &&
	test "$(git -C remote.git rev-parse "$(own_ref carol)")" = "$before" &&
	test "$(git -C remote.git rev-parse a-sync)" = "$async" &&
	thrum_in carol daemon status --json >st &&
	test "$(jq -r .push_attempts st)" = "$attempts"
'

test_expect_success 'sync force pushes a-sync for the others, not its own ref' '
	before=$(git -C remote.git rev-parse "$(own_ref carol)") &&
	thrum_in carol sync force >out &&
	grep "^synced: .*pushed" out &&
	remote_has a-sync "for the others" &&
	test "$(git -C remote.git rev-parse "$(own_ref carol)")" = "$before"
'

test_expect_success 'appends committed while clone refs were off are pushed when they are on again' '
	sync_round alice bob carol &&
	git -C carol config thrum.cloneRefs false &&
	hold_a_sync &&
	thrum_in carol send "while clone refs were off" >/dev/null &&
	test_must_fail sync_short carol >/dev/null 2>&1 &&
	release_a_sync &&
	git -C carol config --unset thrum.cloneRefs &&
	thrum_in carol sync force >out &&
	grep "^synced: .*pushed" out &&
	remote_has "$(own_ref carol)" "while clone refs were off"
'

test_expect_success 'a copy of a clone (the same id) cannot overwrite its ref unseen' '
	sync_round alice bob carol &&
	cp alice/.thrum/var/clone-id carol/.thrum/var/clone-id &&
	test_when_finished "rm -f carol/.thrum/var/clone-id carol/.thrum/var/sync-clones" &&
	# carol fetches from a copy of the remote that misses what alice
	# pushes next: as if alice pushed between carol'"'"'s fetch and push
	git clone -q --mirror remote.git stale.git &&
	git -C carol config remote.origin.pushurl "$(pwd)/remote.git" &&
	git -C carol config remote.origin.url "$(pwd)/stale.git" &&
	test_when_finished "git -C carol config remote.origin.url \"\$(pwd)/remote.git\"" &&
	thrum_in alice send "alice under the shared id" >/dev/null &&
	thrum_in alice sync force >/dev/null &&
	thrum_in carol send "carol under the shared id" >/dev/null &&
	test_might_fail sync_short carol >out 2>&1 &&
	grep "stale info" out &&
	remote_has "$(own_ref alice)" "alice under the shared id" &&
	# with the remote itself: carol merges alice'"'"'s, then pushes both
	git -C carol config remote.origin.url "$(pwd)/remote.git" &&
	thrum_in carol sync force >/dev/null &&
	remote_has "$(own_ref alice)" "alice under the shared id" &&
	remote_has "$(own_ref alice)" "carol under the shared id" &&
	thrum_in bob sync force >/dev/null &&
	thrum_in bob inbox --no-mark-read --all >inbox &&
	grep "^    alice under the shared id$" inbox &&
	grep "^    carol under the shared id$" inbox
'

test_expect_success 'hostile clone refs: odd names are not read, a ref to a blob is skipped and counted' '
	sync_round alice bob carol &&
	git clone -q remote.git mallory &&
	(
		cd mallory &&
		git fetch -q origin a-sync:a-sync &&
		blob=$(echo junk | git hash-object -w --stdin) &&
		git push -q origin "$blob:refs/thrum/clones/BLOB0000" &&
		git push -q origin "a-sync:refs/thrum/clones/nested/deeper" &&
		git push -q origin "a-sync:refs/thrum/clones/dash-name" &&
		echo "{\"agent_id\":\"mallory\",\"body\":{\"content\":\"through a clone ref\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}C1\",\"message_id\":\"msg_${E}C1\",\"scopes\":[{\"type\":\"broadcast\",\"value\":\"everyone\"}],\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":\"message.create\",\"v\":1}" >m.jsonl &&
		b=$(git hash-object -w m.jsonl) &&
		git ls-tree a-sync:messages >msgs &&
		{ cat msgs && printf "100644 blob %s\tmallory.jsonl\n" $b; } |
			git mktree >msgtree &&
		tree=$(with_messages a-sync $(cat msgtree)) &&
		commit=$(git commit-tree -p a-sync -m hostile "$tree") &&
		git push -q origin "$commit:refs/thrum/clones/MALLORY0"
	) &&
	thrum_in bob sync force >out 2>&1 &&
	grep "^synced: 1 new event" out &&
	grep "cannot merge the clone ref .refs/thrum/clones/BLOB0000." out &&
	thrum_in bob sync status --json >s.json &&
	test "$(json_get s.json "$.skipped_entries")" -ge 3 &&
	thrum_in bob inbox --no-mark-read --all >inbox &&
	grep "^    through a clone ref$" inbox
'

test_expect_success 'a remote that refuses refs/thrum/: a-sync alone, said once' '
	sync_round alice bob carol &&
	cat >remote.git/hooks/update <<-\EOF &&
	#!/bin/sh
	case "$1" in
	refs/thrum/*) echo "$1" >>"$GIT_DIR/refused"; exit 1 ;;
	esac
	EOF
	chmod +x remote.git/hooks/update &&
	test_when_finished "rm -f remote.git/hooks/update" &&
	thrum_in alice send "branches only" >/dev/null &&
	thrum_in alice sync force >out 2>&1 &&
	grep "^synced" out &&
	grep "refuses .refs/thrum/clones/" out &&
	remote_has a-sync "branches only" &&
	test_line_count = 1 remote.git/refused &&
	thrum_in alice send "branches only, again" >/dev/null &&
	thrum_in alice sync force >out 2>&1 &&
	grep "^synced" out &&
	remote_has a-sync "branches only, again" &&
	test_line_count = 1 remote.git/refused
'

test_expect_success 'thrum.cloneRefs false: a-sync only, no clone ref pushed' '
	git clone -q remote.git dave &&
	git -C dave config thrum.localOnly false &&
	git -C dave config thrum.cloneRefs false &&
	(cd dave && git thrum init >/dev/null &&
	 git thrum quickstart --name dave --role dave-role \
		--module m >/dev/null) &&
	git -C remote.git for-each-ref refs/thrum/clones >before &&
	thrum_in dave sync force >/dev/null &&
	test_path_is_missing dave/.thrum/var/clone-id &&
	git -C remote.git for-each-ref refs/thrum/clones >after &&
	test_cmp before after &&
	remote_has a-sync "\"agent_id\":\"dave\""
'

# index_fresh <clone>: its sync work tree's index is a-sync's tree
index_fresh() {
	git -C "$(sync_dir $1)" diff --cached --quiet HEAD
}

test_expect_success 'a daemon leaves the sync work tree index for later; a command refreshes it' '
	sync_round alice bob carol &&
	carol_daemon 600 &&
	index_fresh carol &&
	# a cycle that only received, then one that pushed: no git reset
	thrum_in bob send "index one" >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	a_cycle carol &&
	test_path_is_file carol/.thrum/var/sync-index-stale &&
	! index_fresh carol &&
	thrum_in carol send "index two" >/dev/null &&
	a_cycle carol &&
	remote_has "$(own_ref carol)" "index two" &&
	test_path_is_file carol/.thrum/var/sync-index-stale &&
	! index_fresh carol &&
	thrum_in carol sync force >/dev/null &&
	test_path_is_missing carol/.thrum/var/sync-index-stale &&
	index_fresh carol &&
	test -z "$(git -C "$(sync_dir carol)" status --porcelain)"
'

# tracked <clone> <other>: the tip of other's ref as clone last fetched it
tracked() {
	git -C $1 rev-parse -q --verify \
		"refs/thrum/remotes/origin/$(cat $2/.thrum/var/clone-id)"
}

test_expect_success 'a daemon pushes its appends without a fetch; its ticks still fetch' '
	sync_round alice bob carol &&
	carol_daemon 600 &&
	thrum_in carol daemon status --json >st &&
	rejections=$(jq -r .push_rejections st) &&
	# bob moves his ref; carol writes twice, a cycle for each append
	thrum_in bob send "bob meanwhile" >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	bob_was=$(tracked carol bob) &&
	thrum_in carol send "carol one" >/dev/null &&
	wait_for 20 remote_has "$(own_ref carol)" "carol one" &&
	thrum_in carol send "carol two" >/dev/null &&
	wait_for 20 remote_has "$(own_ref carol)" "carol two" &&
	# pushed twice with the lease it kept, fetched nothing
	test "$(tracked carol carol)" = \
		"$(git -C remote.git rev-parse "$(own_ref carol)")" &&
	test "$(tracked carol bob)" = "$bob_was" &&
	thrum_in carol daemon status --json >st &&
	test "$(jq -r .push_rejections st)" = "$rejections" &&
	# a cycle that is no write fetches and merges
	a_cycle carol &&
	test "$(tracked carol bob)" != "$bob_was" &&
	thrum_in carol inbox --no-mark-read --all >inbox &&
	grep "^    bob meanwhile$" inbox
'

# writes_until_fetched <clone> <other> <was>: clone writes every 0.3 s
# until its daemon fetched other'"'"'s ref past was; at most 8 s
writes_until_fetched() {
	n=0
	while test "$(tracked $1 $2)" = "$3"
	do
		n=$((n + 1)) && test $n -le 26 || return 1
		thrum_in $1 send "write $n" >/dev/null &&
		sleep 0.3 || return 1
	done
}

test_expect_success 'writes more often than the interval do not put the fetching tick off' '
	carol_daemon 2 &&
	thrum_in bob send "bob while carol writes" >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	writes_until_fetched carol bob "$(tracked carol bob)"
'

# hooked_daemon <at> <command>: carol's daemon, under the lock-hook shim
# (tests/helper/lock-hook.c), runs the command in carol at that moment of
# the first cycle after lock-once is made; stopped when the test ends
hooked_daemon() {
	shim=$SHARNESS_BUILD_DIRECTORY/tests/helper/lock-hook.so &&
	test -f "$shim" &&
	git -C carol config thrum.syncInterval 600 &&
	test_when_finished "thrum_in carol daemon stop >/dev/null; git -C carol config --unset thrum.syncInterval" &&
	asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 &&
	(cd carol && LD_PRELOAD=$shim ASAN_OPTIONS="$asan" THRUM_TEST_NO_DAEMON= \
		THRUM_TEST_LOCK_AT=$1 THRUM_TEST_LOCK_ONCE="$PWD/../lock-once" \
		THRUM_TEST_LOCK_CMD="cd \"$PWD\" && $2 >/dev/null" \
		git thrum daemon start >/dev/null) &&
	a_cycle carol
}

# the cycle looked for appends of carol before these: it must push them
test_expect_success 'an append made between the merge and the commit of a cycle is pushed' '
	sync_round alice bob carol &&
	hooked_daemon merged "git thrum send \"sent after the merge\"" &&
	thrum_in bob send "bob, to be merged" >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	touch lock-once &&
	a_cycle carol &&
	test_path_is_missing lock-once &&
	git -C carol grep -q "sent after the merge" a-sync -- &&
	wait_for 5 remote_has "$(own_ref carol)" "sent after the merge"
'

test_expect_success 'an append to a file the cycle merged, made after its merge, is pushed' '
	sync_round alice bob carol &&
	hooked_daemon merged "git thrum group create carols-late-group" &&
	thrum_in bob group create bobs-late-group >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	touch lock-once &&
	a_cycle carol &&
	test_path_is_missing lock-once &&
	git -C carol grep -q carols-late-group a-sync -- events.jsonl &&
	git -C carol grep -q bobs-late-group a-sync -- events.jsonl &&
	wait_for 5 remote_has "$(own_ref carol)" carols-late-group
'

test_expect_success 'an append to a file the cycle merges, made before its merge, is pushed' '
	sync_round alice bob carol &&
	hooked_daemon ex "git thrum group create carols-group" &&
	thrum_in bob group create bobs-group >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	touch lock-once &&
	a_cycle carol &&
	test_path_is_missing lock-once &&
	git -C carol grep -q carols-group a-sync -- events.jsonl &&
	git -C carol grep -q bobs-group a-sync -- events.jsonl &&
	wait_for 5 remote_has "$(own_ref carol)" carols-group
'

test_done

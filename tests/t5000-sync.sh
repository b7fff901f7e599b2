#!/bin/sh
test_description='sync through a bare remote: exchange, races, offline, local-only'
. ./lib-thrum.sh

test_expect_success 'setup' '
	setup_pair
'

test_expect_success 'a message crosses clones' '
	thrum_in alice send "hello bob" --to @bob >id &&
	thrum_in alice sync force >out &&
	grep "^synced: .*pushed" out &&
	thrum_in bob sync force >out &&
	grep "^synced: [1-9][0-9]* new event" out &&
	thrum_in bob inbox --no-mark-read >inbox &&
	grep "hello bob" inbox &&
	grep "from alice to @bob" inbox
'

test_expect_success 'a reply comes back, in the thread' '
	thrum_in bob reply "$(cat id)" "hello alice" --json >r.json &&
	thrum_in bob sync force >/dev/null &&
	thrum_in alice sync force >/dev/null &&
	thrum_in alice inbox --no-mark-read --json >a.json &&
	test "$(json_get a.json "$.messages[0].body.content")" = "hello alice" &&
	test "$(json_get a.json "$.messages[0].reply_to")" = "$(cat id)"
'

test_expect_success 'read receipts travel too' '
	thrum_in bob inbox >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	thrum_in alice sync force >/dev/null &&
	git -C alice show a-sync:messages/bob.jsonl >bob.log &&
	grep "\"message_id\":\"$(cat id)\"" bob.log | grep message.receipt
'

test_expect_success 'concurrent sends on both sides converge to one tree' '
	for i in 1 2 3 4 5
	do
		thrum_in alice send "a$i" >/dev/null &&
		thrum_in bob send "b$i" >/dev/null || return 1
	done &&
	thrum_in alice sync force >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	thrum_in alice sync force >/dev/null &&
	test "$(a_sync_tree alice)" = "$(a_sync_tree bob)" &&
	test "$(git -C remote.git rev-parse "a-sync^{tree}")" = \
		"$(a_sync_tree alice)" &&
	thrum_in alice inbox --all --no-mark-read >all &&
	for i in 1 2 3 4 5
	do
		grep "^    a$i$" all && grep "^    b$i$" all || return 1
	done
'

test_expect_success 'an idle cycle makes no commit' '
	before=$(git -C alice rev-parse a-sync) &&
	thrum_in alice sync force >out &&
	thrum_in alice sync force >out &&
	test "$(git -C alice rev-parse a-sync)" = "$before" &&
	! grep committed out
'

test_expect_success 'the history is linear, one commit per active cycle' '
	git -C remote.git rev-list --merges a-sync >merges &&
	test_must_be_empty merges &&
	git -C remote.git log --format=%s a-sync >subjects &&
	grep "^sync: 20[0-9-]*T[0-9:]*Z$" subjects
'

test_expect_success 'both push at once: the loser retries, nothing lost' '
	thrum_in alice send "race from alice" >/dev/null &&
	thrum_in bob send "race from bob" >/dev/null &&
	(thrum_in alice sync force >race.a 2>&1 &
	 thrum_in bob sync force >race.b 2>&1 &
	 wait) &&
	grep "^synced" race.a &&
	grep "^synced" race.b &&
	git -C remote.git show a-sync:messages/alice.jsonl >r.alice &&
	git -C remote.git show a-sync:messages/bob.jsonl >r.bob &&
	grep "race from alice" r.alice &&
	grep "race from bob" r.bob &&
	thrum_in alice sync force >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	test "$(a_sync_tree alice)" = "$(a_sync_tree bob)"
'

test_expect_success 'a push rejected because the remote moved meanwhile is fetched, merged and pushed again' '
	cat >race-upload-pack <<-EOF &&
	#!/bin/sh
	# serve the fetch, then (once) let bob push before alice does
	git upload-pack "\$@" || exit
	test -f "$PWD/raced" && exit 0
	: >"$PWD/raced"
	(cd "$PWD/bob" && git thrum sync force) >"$PWD/race.log" 2>&1 </dev/null
	EOF
	chmod +x race-upload-pack &&
	thrum_in bob send "bob pushes in between" >/dev/null &&
	thrum_in alice send "alice pushes second" >/dev/null &&
	git -C alice config remote.origin.uploadpack \
		"\"$PWD/race-upload-pack\"" &&
	test_when_finished "git -C alice config --unset remote.origin.uploadpack" &&
	thrum_in alice sync force >out &&
	test_path_is_file raced &&
	grep "^synced: .*pushed" race.log &&
	grep "^synced: .*pushed" out &&
	git -C remote.git show a-sync:messages/alice.jsonl >r.alice &&
	git -C remote.git show a-sync:messages/bob.jsonl >r.bob &&
	grep "alice pushes second" r.alice &&
	grep "bob pushes in between" r.bob
'

test_expect_success 'after a push the status holds the tip the remote has; a read starts no cycle' '
	thrum_in alice send "pushed tip" >/dev/null &&
	thrum_in alice sync force >out &&
	grep "pushed" out &&
	tip=$(git -C alice rev-parse refs/remotes/origin/a-sync) &&
	test "$tip" = "$(git -C alice rev-parse a-sync)" &&
	grep "^remote_tip = $tip$" alice/.thrum/var/sync-status &&
	cp alice/.thrum/var/sync-status status.before &&
	thrum_in alice inbox --no-mark-read >/dev/null &&
	test_cmp status.before alice/.thrum/var/sync-status
'

test_expect_success 'the sync work tree is clean after a cycle' '
	git -C "$(sync_dir alice)" status --porcelain >st &&
	test_must_be_empty st
'

test_expect_success 'a remote gone away: error, exit 1, the events wait committed' '
	mv remote.git remote.away &&
	thrum_in alice send "while offline" >/dev/null &&
	test_expect_code 1 thrum_in alice sync force >out &&
	grep "^error: .*does not appear to be a git repository" out &&
	thrum_in alice sync status --json >s.json &&
	test "$(json_get s.json "$.state")" = error &&
	test -n "$(json_get s.json "$.last_error")" &&
	git -C alice log -1 --format=%s a-sync >subject &&
	grep "^sync: " subject
'

test_expect_success 'back online: what accumulated goes out' '
	mv remote.away remote.git &&
	thrum_in alice send "also while offline" >/dev/null &&
	thrum_in alice sync force >out &&
	grep "^synced.*pushed" out &&
	thrum_in bob sync force >/dev/null &&
	thrum_in bob inbox --no-mark-read >inbox &&
	grep "^    while offline$" inbox &&
	grep "^    also while offline$" inbox
'

test_expect_success 'local-only never touches the remote, still commits' '
	git -C remote.git rev-parse a-sync >remote.before &&
	git -C alice config thrum.localOnly true &&
	mv remote.git remote.away &&
	thrum_in alice send "stays here" >/dev/null &&
	thrum_in alice sync force >out &&
	grep "^local-only" out &&
	mv remote.away remote.git &&
	git -C remote.git rev-parse a-sync >remote.after &&
	test_cmp remote.before remote.after &&
	git -C alice show a-sync:messages/alice.jsonl >local.log &&
	grep "stays here" local.log
'

test_expect_success 'THRUM_LOCAL_ONLY and git -c override the config' '
	THRUM_LOCAL_ONLY=0 thrum_in alice sync force >out &&
	grep "^synced.*pushed" out &&
	git -C alice config thrum.localOnly false &&
	thrum_in alice send "not yet" >/dev/null &&
	(cd alice && git -c thrum.localOnly=true thrum sync force >../out) &&
	grep "^local-only" out &&
	(cd alice && THRUM_LOCAL_ONLY=1 git thrum sync force >../out) &&
	grep "^local-only" out
'

test_expect_success 'init where both local and remote a-sync hold history: union, then push' '
	git clone -q "file://$(pwd)/remote.git" carol &&
	git -C carol update-ref -d refs/remotes/origin/a-sync &&
	(cd carol && git thrum init >/dev/null &&
	 git thrum quickstart --name carol --role c --module m >/dev/null &&
	 git thrum send "carol, alone" >/dev/null &&
	 git thrum sync force >/dev/null) &&
	git -C carol show a-sync:messages/carol.jsonl >c.log &&
	grep "carol, alone" c.log &&
	git -C carol fetch -q &&
	git -C carol config thrum.localOnly false &&
	(cd carol && git thrum init >../out) &&
	grep "merged with the remote" out &&
	git -C remote.git show a-sync:messages/carol.jsonl >r.log &&
	grep "carol, alone" r.log &&
	(cd carol && git thrum inbox --all --no-mark-read >all) &&
	grep "hello bob" carol/all &&
	grep "carol, alone" carol/all
'

test_expect_success 'a stale a-sync lock left by a killed cycle is cleared' '
	: >alice/.git/refs/heads/a-sync.lock &&
	idx="$(git -C "$(sync_dir alice)" rev-parse --git-dir)/index.lock" &&
	: >"$idx" &&
	thrum_in alice send "after a crash" >/dev/null &&
	thrum_in alice sync force >out 2>err &&
	grep "^synced.*pushed" out &&
	grep "removing the stale lock .*a-sync.lock" err &&
	test_path_is_missing alice/.git/refs/heads/a-sync.lock &&
	test_path_is_missing "$idx"
'

test_expect_success 'sync usage' '
	test_expect_code 129 thrum_in alice sync 2>err &&
	test_expect_code 129 thrum_in alice sync frob 2>err &&
	grep "unknown subcommand" err &&
	test_expect_code 129 thrum_in alice sync force -h >out &&
	grep "^usage: git thrum sync force" out
'

test_done

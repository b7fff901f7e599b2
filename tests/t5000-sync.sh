#!/bin/sh
test_description='sync through a bare remote over file://: exchange, races, offline, local-only'
. ./lib-thrum.sh

remote_url() {
	echo "file://$(pwd)/remote.git"
}

remote_down() {
	mv remote.git remote.away
}

remote_up() {
	mv remote.away remote.git
}

REMOTE_DOWN_STATE=error
REMOTE_DOWN_LINE="^error: 0 new events, committed (fatal: .*/remote.git' does not appear to be a git repository; check thrum.remote ('origin') and 'git remote -v')$"

. "$SHARNESS_TEST_SRCDIR"/lib-sync-scenarios.sh

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

# a cycle waits 2 s for each lock to go before it removes it: run once
test_expect_success 'a stale a-sync lock left by a killed cycle is cleared' '
	: >alice/.git/refs/heads/a-sync.lock &&
	idx="$(git -C "$(sync_dir alice)" rev-parse --git-dir)/index.lock" &&
	: >"$idx" &&
	thrum_in alice send "after a crash" >/dev/null &&
	thrum_in alice sync force >out 2>err &&
	echo "synced: 0 new events, committed, pushed" >expect &&
	test_cmp expect out &&
	cat >expect <<-EOF &&
	warning: removing the stale lock '\''$(pwd)/alice/.git/refs/heads/a-sync.lock'\''
	warning: removing the stale lock '\''$idx'\''
	EOF
	test_cmp expect err &&
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

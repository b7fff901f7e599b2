#!/bin/sh
test_description='the documented status shapes: sync status, sync.status, sync.force, daemon status, daemon start --local'
. ./lib-thrum.sh

# what changes from run to run: instants, durations, pids, paths
normalise() {
	sed -e 's/"last_sync_at":"[^"]*"/"last_sync_at":"<time>"/' \
	    -e 's/"duration_us":[0-9]*/"duration_us":<us>/' \
	    -e 's/"daemon_pid":[0-9][0-9]*/"daemon_pid":<pid>/' \
	    -e 's/"pid":[0-9][0-9]*/"pid":<pid>/' \
	    -e 's/"cycles":[0-9]*/"cycles":<n>/' \
	    -e 's/"id":[0-9]*/"id":<id>/' \
	    -e "s|$(pwd)|<trash>|g" \
	    -e 's/^\(last sync:  \).*/\1<time>/' \
	    -e 's/(pid [0-9]*/(pid <pid>/'
}

test_expect_success 'setup' '
	setup_pair
'

test_expect_success 'sync status before any cycle: stopped, and the remote it will use' '
	thrum_repo fresh &&
	thrum_in fresh sync status --json >out &&
	cat >expect <<-\EOF &&
	{"state":"never","sync_state":"stopped","running":false,"local_only":true,"remote":"origin","last_sync_at":null,"last_error":null,"retry_at":null,"auth_failures":0,"new_events":0,"skipped":0,"skipped_entries":0,"conflicts":0,"ahead":0,"behind":0,"committed":false,"pushed":false,"duration_us":0,"daemon":"stopped"}
	EOF
	test_cmp expect out
'

test_expect_success 'sync status names the remote it uses' '
	thrum_in alice sync force >/dev/null &&
	thrum_in alice sync status >raw &&
	normalise <raw >out &&
	cat >expect <<-\EOF &&
	state:      synced
	remote:     origin
	local-only: no
	daemon:     stopped ('"'"'git thrum daemon start'"'"' runs it)
	last sync:  <time>
	last cycle: 0 new, 0 lines and 0 tree entries skipped, 0 conflicting
	a-sync:     0 ahead, 0 behind the remote
	EOF
	test_cmp expect out
'

test_expect_success 'sync status --json: the specification fields, and ours' '
	thrum_in alice sync status --json >raw &&
	normalise <raw >out &&
	cat >expect <<-\EOF &&
	{"state":"synced","sync_state":"synced","running":false,"local_only":false,"remote":"origin","last_sync_at":"<time>","last_error":null,"retry_at":null,"auth_failures":0,"new_events":0,"skipped":0,"skipped_entries":0,"conflicts":0,"ahead":0,"behind":0,"committed":false,"pushed":false,"duration_us":<us>,"daemon":"stopped"}
	EOF
	test_cmp expect out
'

test_expect_success 'running: true while a cycle holds the sync lock' '
	flock alice/.thrum/var/sync.lock \
		git -C alice thrum sync status --json >s.json &&
	test "$(json_get s.json "$.running")" = 1 &&
	test "$(json_get s.json "$.sync_state")" = syncing &&
	flock alice/.thrum/var/sync.lock git -C alice thrum sync status >st &&
	grep "^state:      synced (a cycle is running now)$" st &&
	thrum_in alice sync status --json >s.json &&
	test "$(json_get s.json "$.running")" = 0
'

test_expect_success 'a failed cycle: sync_state error, the class in state' '
	git -C alice remote set-url origin "file://$(pwd)/nowhere.git" &&
	test_expect_code 1 thrum_in alice sync force --json >s.json &&
	test "$(json_get s.json "$.state")" = error &&
	test "$(json_get s.json "$.sync_state")" = error &&
	git -C alice remote set-url origin "file://$(pwd)/remote.git" &&
	thrum_in alice sync force >/dev/null
'

test_expect_success 'daemon status --json when none runs: stopped, exit 1' '
	test_expect_code 1 thrum_in alice daemon status --json >raw &&
	normalise <raw >out &&
	cat >expect <<-\EOF &&
	{"state":"stopped","pid":null,"socket":"<trash>/alice/.thrum/var/thrum.sock","repository":"<trash>/alice"}
	EOF
	test_cmp expect out
'

test_expect_success 'daemon start --local: local only, whatever git config says' '
	test "$(git -C alice config thrum.localOnly)" = false &&
	thrum_in alice daemon start --local >raw &&
	normalise <raw >out &&
	echo "daemon started (pid <pid>, local only)" >expect &&
	test_cmp expect out &&
	wait_for 20 grep "^state = local-only" alice/.thrum/var/sync-status &&
	thrum_in alice daemon status --json >raw &&
	normalise <raw >out &&
	cat >expect <<-\EOF &&
	{"state":"running","pid":<pid>,"socket":"<trash>/alice/.thrum/var/thrum.sock","repository":"<trash>/alice","cycles":<n>,"local_only":true,"sync_interval":60,"auth_failures":0,"backoff_skips":0,"push_attempts":0,"push_rejections":0,"push_give_ups":0,"async_rejections":0}
	EOF
	test_cmp expect out &&
	thrum_in alice daemon status >raw &&
	normalise <raw >out &&
	grep "^daemon is running (pid <pid>, [0-9]* sync cycles, local only)$" out
'

test_expect_success 'with a --local daemon, nothing goes to the remote' '
	git -C remote.git rev-parse a-sync >before &&
	thrum_in alice send "stays here" >/dev/null &&
	thrum_in alice sync force >out &&
	grep "^local-only: " out &&
	git -C remote.git rev-parse a-sync >after &&
	test_cmp before after &&
	thrum_in alice sync status >st &&
	grep "^local-only: yes (daemon start --local)$" st &&
	thrum_in alice sync status --json >s.json &&
	test "$(json_get s.json "$.local_only")" = 1
'

test_expect_success 'sync.force over RPC answers {triggered, last_sync_at, sync_state}' '
	rpc alice "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"sync.force\"}" >f &&
	echo "$(sed -n "s/.*\"result\":\(.*\)}$/\1/p" f)" >r.json &&
	test "$(json_get r.json "$.triggered")" = 1 &&
	test "$(json_get r.json "$.sync_state")" = local-only &&
	test -n "$(json_get r.json "$.last_sync_at")" &&
	test "$(json_get r.json "$.remote")" = origin &&
	test "$(json_get r.json "$.running")" = 0
'

test_expect_success 'sync.status over RPC: the same shape as sync status --json' '
	rpc alice "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"sync.status\"}" >raw &&
	normalise <raw >out &&
	cat >expect <<-\EOF &&
	{"jsonrpc":"2.0","id":<id>,"result":{"state":"local-only","sync_state":"local-only","running":false,"local_only":true,"remote":"origin","last_sync_at":"<time>","last_error":null,"retry_at":null,"auth_failures":0,"new_events":0,"skipped":0,"skipped_entries":0,"conflicts":0,"ahead":1,"behind":0,"committed":false,"pushed":false,"duration_us":<us>,"daemon":"running","daemon_pid":<pid>}}
	EOF
	test_cmp expect out
'

test_expect_success 'restart without --local: the remote again' '
	thrum_in alice daemon restart >/dev/null &&
	wait_for 20 grep "^state = synced" alice/.thrum/var/sync-status &&
	git -C remote.git show a-sync:messages/alice.jsonl >log &&
	grep "stays here" log
'

test_expect_success 'stop the daemon (also after a failed test)' '
	thrum_in alice daemon stop >/dev/null
'

test_expect_success 'daemon start keeps no descriptor of its caller: a pipe ends' '
	test_when_finished "thrum_in alice daemon stop >/dev/null" &&
	# the reader of a pipe the caller wrote to sees its end when the
	# caller exits, not when the daemon does
	timeout 20 sh -c "cd alice && git thrum daemon start 3>&1 | cat" >out &&
	grep "^daemon started" out
'

test_expect_success 'daemon: --local only with start and restart, --json only with status' '
	test_expect_code 129 thrum_in alice daemon stop --local 2>err &&
	grep "^usage: " err &&
	test_expect_code 129 thrum_in alice daemon start --json 2>err &&
	grep "^usage: " err
'

test_done

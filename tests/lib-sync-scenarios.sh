# The sync scenarios that hold whatever carries the remote: t5000-sync.sh
# runs them over file://, t5001-sync-http.sh over smart HTTP.  The script
# sources this file after lib-thrum.sh, having defined:
#
#   remote_url        prints the URL of remote.git (which it may create
#                     first, as the HTTP server needs it configured)
#   remote_down       makes the remote unreachable
#   remote_up         makes it reachable again, at remote_url, and points
#                     the clones alice and bob there
#   REMOTE_DOWN_STATE the sync state of a cycle that found it down
#   REMOTE_DOWN_LINE  a grep pattern for the line sync force prints then
#
# and then adds its own transport's tests before test_done.

test_expect_success 'setup: alice and bob share remote.git, sync on' '
	setup_pair "$(remote_url)" &&
	git -C remote.git show a-sync:events.jsonl >ev &&
	grep "\"name\":\"alice\"" ev &&
	grep "\"name\":\"bob\"" ev
'

test_expect_success 'a message crosses clones' '
	thrum_in alice send "hello bob" --to @bob >id &&
	sync_says alice "synced: 0 new events, committed, pushed" &&
	sync_says bob "synced: 1 new event" &&
	test_inbox thrum_in bob inbox --no-mark-read <<-EOF
	* $(cat id)  from alice to @bob  <age>
	    hello bob
	EOF
'

test_expect_success 'a reply comes back, in the thread' '
	thrum_in bob reply "$(cat id)" "hello alice" --json >r.json &&
	thrum_in bob sync force >/dev/null &&
	thrum_in alice sync force >/dev/null &&
	thrum_in alice inbox --no-mark-read --json >a.json &&
	test "$(json_get a.json "$.messages[0].body.content")" = "hello alice" &&
	test "$(json_get a.json "$.messages[0].reply_to")" = "$(cat id)" &&
	test_inbox thrum_in alice inbox --no-mark-read <<-EOF
	* $(json_get r.json "$.message_id")  from bob to @alice  <age> (reply to $(cat id))
	    hello alice
	EOF
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
	echo "synced: 0 new events" >expect &&
	test_cmp expect out
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
	sync_round alice bob &&
	test "$(a_sync_tree alice)" = "$(a_sync_tree bob)" &&
	thrum_in alice inbox --all --no-mark-read >all &&
	grep "^    race from alice$" all &&
	grep "^    race from bob$" all
'

test_expect_success 'after a push the status holds the tip the remote has; a read starts no cycle' '
	thrum_in alice send "pushed tip" >/dev/null &&
	sync_says alice "synced: 0 new events, committed, pushed" &&
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

test_expect_success 'the remote away: exit 1, the events wait committed' '
	remote_down &&
	thrum_in alice send "while offline" >/dev/null &&
	test_expect_code 1 thrum_in alice sync force >out &&
	grep "$REMOTE_DOWN_LINE" out &&
	test_line_count = 1 out &&
	thrum_in alice sync status --json >s.json &&
	test "$(json_get s.json "$.state")" = "$REMOTE_DOWN_STATE" &&
	test -n "$(json_get s.json "$.last_error")" &&
	git -C alice log -1 --format=%s a-sync >subject &&
	grep "^sync: " subject
'

test_expect_success 'back: what accumulated goes out' '
	remote_up &&
	thrum_in alice send "also while offline" >/dev/null &&
	sync_says alice "synced: 0 new events, committed, pushed" &&
	thrum_in bob sync force >/dev/null &&
	thrum_in bob inbox --no-mark-read >inbox &&
	grep "^    while offline$" inbox &&
	grep "^    also while offline$" inbox
'

test_expect_success 'local-only never touches the remote, still commits' '
	git -C remote.git rev-parse a-sync >remote.before &&
	git -C alice config thrum.localOnly true &&
	remote_down &&
	thrum_in alice send "stays here" >/dev/null &&
	sync_says alice "local-only: 0 new events, committed (thrum.localOnly is true: nothing fetched or pushed)" &&
	remote_up &&
	git -C remote.git rev-parse a-sync >remote.after &&
	test_cmp remote.before remote.after &&
	git -C alice show a-sync:messages/alice.jsonl >local.log &&
	grep "stays here" local.log
'

test_expect_success 'THRUM_LOCAL_ONLY and git -c override the config' '
	THRUM_LOCAL_ONLY=0 thrum_in alice sync force >out &&
	echo "synced: 0 new events, pushed" >expect &&
	test_cmp expect out &&
	git -C alice config thrum.localOnly false &&
	thrum_in alice send "not yet" >/dev/null &&
	(cd alice && git -c thrum.localOnly=true thrum sync force >../out) &&
	grep "^local-only" out &&
	(cd alice && THRUM_LOCAL_ONLY=1 git thrum sync force >../out) &&
	grep "^local-only" out
'

test_expect_success 'init where both local and remote a-sync hold history: union, then push' '
	git clone -q "$(remote_url)" carol &&
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

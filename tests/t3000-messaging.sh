#!/bin/sh
test_description='send, inbox, reply, message show/edit/delete'
. ./lib-thrum.sh

shard() {
	echo "$(sync_dir repo)/messages/$1.jsonl"
}

test_expect_success 'setup: three agents, two roles' '
	thrum_repo repo &&
	(
		cd repo &&
		git thrum quickstart --name alice --role impl --module core &&
		git thrum quickstart --name bob --role review --module ui &&
		git thrum quickstart --name carol --role review --module db
	) >/dev/null
'

test_expect_success 'send to an agent' '
	as alice send "hello bob" --to @bob >id &&
	grep "^msg_[0-9A-Z]\{26\}$" id &&
	test_inbox as bob inbox --no-mark-read <<-EOF &&
	* $(cat id)  from alice to @bob  <age>
	    hello bob
	EOF
	as carol inbox --no-mark-read >carol &&
	! grep "hello bob" carol &&
	as alice inbox --no-mark-read >alice &&
	! grep "hello bob" alice &&
	as alice inbox --all --no-mark-read >alice &&
	grep "hello bob" alice
'

test_expect_success 'send to a role reaches every agent with it' '
	as alice send "for reviewers" --to @review >id &&
	for who in bob carol
	do
		test_inbox as $who inbox --no-mark-read \
			--limit 1 <<-EOF || return 1
		* $(cat id)  from alice to @review  <age>
		    for reviewers
		EOF
	done
'

test_expect_success 'no --to, and @everyone, broadcast' '
	as bob send "to all, implicitly" >id1 &&
	as bob send "to all, explicitly" --to @everyone >id2 &&
	test_inbox as alice inbox --no-mark-read <<-EOF
	* $(cat id2)  from bob to @everyone  <age>
	    to all, explicitly

	* $(cat id1)  from bob to @everyone  <age>
	    to all, implicitly
	EOF
'

test_expect_success 'a comma-separated list' '
	as carol send "two of you" --to "@alice, bob" >/dev/null &&
	as alice inbox --no-mark-read >alice &&
	grep "two of you" alice &&
	as bob inbox --no-mark-read >bob &&
	grep "two of you" bob
'

test_expect_success 'unknown recipient: error, nothing stored' '
	before=$(count_lines "$(shard alice)") &&
	test_must_fail as alice send "lost" --to @bob,@nobody 2>err &&
	echo "error: unknown recipient @nobody: no agent, group or role of that name" >expect &&
	test_cmp expect err &&
	test "$(count_lines "$(shard alice)")" = "$before"
'

test_expect_success 'empty bodies are refused' '
	before=$(count_lines "$(shard alice)") &&
	test_must_fail as alice send "" 2>err &&
	grep "empty message body" err &&
	test_must_fail as alice send "   " 2>err &&
	grep "empty message body" err &&
	printf "\n\n" >empty &&
	test_must_fail as alice send - <empty 2>err &&
	grep "empty message body" err &&
	test "$(count_lines "$(shard alice)")" = "$before"
'

test_expect_success 'body from stdin, multi-line, any bytes JSON allows' '
	printf "line one\nline \"two\" / \\\\ tab\there\n" >body &&
	as alice send - --to @bob <body >id &&
	as bob message show "$(cat id)" --json --no-mark-read >msg.json &&
	json_valid msg.json &&
	json_get msg.json "$.message.body.content" >got &&
	printf "line one\nline \"two\" / \\\\ tab\there\n" >want &&
	test_cmp want got
'

test_expect_success 'no body, too many arguments: usage errors' '
	test_expect_code 129 as alice send 2>err &&
	grep "no message body" err &&
	test_expect_code 129 as alice send a b 2>err &&
	grep "too many arguments" err
'

test_expect_success 'priority' '
	as alice send "urgent" --to @bob --priority high >id &&
	test_inbox as bob inbox --no-mark-read --limit 1 <<-EOF &&
	* $(cat id)  from alice to @bob  <age>  [high]
	    urgent
	EOF
	test_expect_code 129 as alice send "x" --priority urgent 2>err &&
	grep "invalid priority" err
'

test_expect_success 'inbox is newest first, --limit, --from' '
	as bob inbox --no-mark-read --json >bob.json &&
	test "$(json_get bob.json "$.messages[0].body.content")" = urgent &&
	as bob inbox --no-mark-read --limit 2 --json >two.json &&
	test "$(json_get two.json "$.messages[2]")" = "" &&
	test -n "$(json_get two.json "$.messages[1].message_id")" &&
	as bob inbox --no-mark-read --from @carol >from &&
	grep "two of you" from &&
	! grep "hello bob" from &&
	test_expect_code 129 as bob inbox --limit 0 2>err &&
	grep "invalid --limit" err
'

test_expect_success 'inbox --json carries the documented fields' '
	for f in message_id thread_id agent_id created_at body recipients \
		priority is_read edited
	do
		type=$(sqlite3 :memory: "SELECT json_type(readfile(\"bob.json\"),
			\"$.messages[0].$f\");") &&
		test -n "$type" || return 1
	done &&
	test "$(json_get bob.json "$.messages[0].recipients[0]")" = "@bob" &&
	test "$(json_get bob.json "$.messages[0].priority")" = high
'

test_expect_success '--unread shows unread and marks nothing' '
	as bob inbox --unread --json >u1.json &&
	n1=$(sqlite3 :memory: "SELECT json_array_length(readfile(\"u1.json\"), \"$.messages\");") &&
	test "$n1" -gt 3 &&
	as bob inbox --unread --json >u2.json &&
	test_cmp u1.json u2.json &&
	! grep message.receipt "$(shard bob)"
'

test_expect_success 'showing the inbox marks it read, as receipt events' '
	as bob inbox >/dev/null &&
	grep -c "\"type\":\"message.receipt\"" "$(shard bob)" >n &&
	test "$(cat n)" -gt 3 &&
	as bob inbox --unread >after &&
	grep "^no messages" after &&
	as bob inbox --json --no-mark-read >r.json &&
	test "$(json_get r.json "$.messages[0].is_read")" = 1
'

test_expect_success 'unread marker in the human listing' '
	as alice send "fresh" --to @bob >id &&
	test_inbox as bob inbox --no-mark-read --limit 1 <<-EOF &&
	* $(cat id)  from alice to @bob  <age>
	    fresh
	EOF
	as bob inbox --limit 1 >/dev/null &&
	test_inbox as bob inbox --no-mark-read --limit 1 <<-EOF
	  $(cat id)  from alice to @bob  <age>
	    fresh
	EOF
'

test_expect_success 'reply goes to the author and audience, in a thread' '
	as alice send "question for reviewers" --to @review >q &&
	as bob reply "$(cat q)" "an answer" --json >r.json &&
	json_valid r.json &&
	test "$(json_get r.json "$.reply_to")" = "$(cat q)" &&
	thread=$(json_get r.json "$.thread_id") &&
	case "$thread" in thr_*) ;; *) false ;; esac &&
	as alice inbox --no-mark-read --json --limit 1 >a.json &&
	test "$(json_get a.json "$.messages[0].body.content")" = "an answer" &&
	test "$(json_get a.json "$.messages[0].reply_to")" = "$(cat q)" &&
	as carol inbox --no-mark-read --limit 1 >c &&
	grep "an answer" c &&
	as carol reply "$(json_get r.json "$.message_id")" "me too" \
		--json >r2.json &&
	test "$(json_get r2.json "$.thread_id")" = "$thread"
'

test_expect_success 'send --reply-to' '
	as alice send "late reply" --reply-to "$(cat q)" >/dev/null &&
	as bob inbox --no-mark-read --limit 1 --json >b.json &&
	test "$(json_get b.json "$.messages[0].reply_to")" = "$(cat q)"
'

test_expect_success 'message show by id and by unique prefix' '
	id=$(cat q) &&
	as bob message show "$id" --no-mark-read >show &&
	grep "question for reviewers" show &&
	short=$(echo "$id" | cut -c1-24) &&
	as bob message show "$short" --no-mark-read --json >s.json &&
	test "$(json_get s.json "$.message.message_id")" = "$id" &&
	test_must_fail as bob message show msg_0000 2>err &&
	echo "error: no message '\''msg_0000'\''" >expect &&
	test_cmp expect err
'

test_expect_success 'message show marks read' '
	as alice send "read me" --to @carol >m &&
	as carol message show "$(cat m)" >/dev/null &&
	as carol message show "$(cat m)" --json >m.json &&
	test "$(json_get m.json "$.message.is_read")" = 1
'

test_expect_success 'edit: the author only, latest content shown' '
	test_must_fail as bob message edit "$(cat m)" "hijack" 2>err &&
	echo "error: only the author ('\''alice'\'') can edit message '\''$(cat m)'\''" >expect &&
	test_cmp expect err &&
	as alice message edit "$(cat m)" "read me, edited" >/dev/null &&
	as carol message show "$(cat m)" --json >m.json &&
	test "$(json_get m.json "$.message.body.content")" = "read me, edited" &&
	test "$(json_get m.json "$.message.edited")" = 1 &&
	grep "\"type\":\"message.edit\"" "$(shard alice)"
'

test_expect_success 'delete: the author only, hidden unless asked' '
	test_must_fail as carol message delete "$(cat m)" 2>err &&
	grep "only the author" err &&
	as alice message delete "$(cat m)" --reason "obsolete" >/dev/null &&
	as carol inbox --no-mark-read >c &&
	! grep "read me" c &&
	as carol inbox --no-mark-read --include-deleted >c &&
	grep "read me, edited" c &&
	grep "(deleted)" c &&
	test_must_fail as alice message delete "$(cat m)" 2>err &&
	grep "already deleted" err &&
	grep "\"reason\":\"obsolete\"" "$(shard alice)"
'

test_expect_success 'message usage errors' '
	test_expect_code 129 as alice message 2>err &&
	test_expect_code 129 as alice message frob x 2>err &&
	grep "unknown subcommand" err &&
	test_expect_code 129 as alice message edit x 2>err
'

test_expect_success 'a group from the log can be addressed' '
	E=01JKM4T2YQ8M3E5X6Z7A9B0C &&
	# alice has a key: her lines count signed by it
	"$SHARNESS_BUILD_DIRECTORY/tests/helper/test-sign" sign \
		repo/.thrum/identities/alice.key \
		>>"$(sync_dir repo)/events.jsonl" <<-EOF &&
	{"created_by":"alice","event_id":"evt_${E}G1","group_id":"grp_${E}G1","name":"leads","origin_daemon":"d_${E}99","timestamp":"2026-02-03T10:00:00Z","type":"group.create","v":1}
	{"added_by":"alice","event_id":"evt_${E}G2","group_id":"grp_${E}G1","member_type":"agent","member_value":"carol","origin_daemon":"d_${E}99","timestamp":"2026-02-03T10:00:01Z","type":"group.member.add","v":1}
	EOF
	as alice send "leads only" --to @leads >id &&
	test_inbox as carol inbox --no-mark-read --limit 1 <<-EOF &&
	* $(cat id)  from alice to @leads  <age>
	    leads only
	EOF
	as bob inbox --no-mark-read --limit 1 >b &&
	! grep "leads only" b
'

test_expect_success 'an agent known only from the legacy messages.jsonl' '
	E=01JKM4T2YQ8M3E5X6Z7A9B0C &&
	cat >"$(sync_dir repo)/messages.jsonl" <<-EOF &&
	{"agent_id":"max","event_id":"evt_${E}L1","kind":"agent","module":"road","name":"max","origin_daemon":"d_${E}99","role":"driver","timestamp":"2026-01-03T10:00:00Z","type":"agent.register","v":1}
	EOF
	as alice send "for max" --to @max >/dev/null &&
	as alice send "for drivers" --to @driver >/dev/null &&
	as alice inbox --all --no-mark-read --limit 2 >a &&
	grep "for max" a &&
	grep "for drivers" a
'

# writes only append: the database follows the log at the next read
test_expect_success 'what a run of writes appended, the next read shows' '
	as alice send "w1" --to @bob >id1 &&
	as alice send "w2" --to @bob >/dev/null &&
	as alice message edit "$(cat id1)" "w1, edited" >/dev/null &&
	as bob inbox --limit 2 >b &&
	grep "w1, edited" b &&
	grep "w2" b &&
	as bob inbox --unread --limit 2 >b2 &&
	! grep "w2" b2 &&
	as alice message show "$(cat id1)" >show &&
	grep "w1, edited" show
'

test_expect_success 'every line in the log is canonical JSON' '
	for f in "$(sync_dir repo)"/messages/*.jsonl
	do
		! grep -v "^{.*}$" "$f" &&
		! grep "\\\\/" "$f" || return 1
	done
'

test_done

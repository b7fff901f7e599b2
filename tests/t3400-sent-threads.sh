#!/bin/sh
test_description='sent and read state, message read, threads, scopes and refs, across two clones'
. ./lib-thrum.sh

# in_as <repo> <agent> <args...>: git thrum as <agent> in <repo>
in_as() {
	(cd "$1" && who=$2 && shift 2 && THRUM_NAME=$who git thrum "$@")
}

test_expect_success 'setup: two clones, alice in one, bob and carol in the other' '
	setup_pair &&
	(cd bob && git thrum quickstart --name carol --role reviewer \
		--module m >/dev/null) &&
	sync_round bob alice
'

test_expect_success 'send --scope and --ref, and a broadcast' '
	in_as alice alice send "please review" --to @bob,@carol \
		--scope module:auth --ref issue:42 --ref pr:7 >id1 &&
	in_as alice alice send "hello all" >id2 &&
	sync_round alice bob
'

test_expect_success 'the scopes and refs are the original shape in the log' '
	id1=$(cat id1) &&
	grep "\"message_id\":\"$id1\"" "$(sync_dir bob)/messages/alice.jsonl" >line &&
	grep -F "\"refs\":[{\"type\":\"issue\",\"value\":\"42\"},{\"type\":\"pr\",\"value\":\"7\"},{\"type\":\"mention\",\"value\":\"bob\"},{\"type\":\"mention\",\"value\":\"carol\"}]" line &&
	grep -F "\"scopes\":[{\"type\":\"module\",\"value\":\"auth\"}]" line &&
	id2=$(cat id2) &&
	grep "\"message_id\":\"$id2\"" "$(sync_dir bob)/messages/alice.jsonl" >line &&
	grep -F "\"refs\":[{\"type\":\"broadcast\",\"value\":\"everyone\"}]" line &&
	grep -F "\"scopes\":[{\"type\":\"broadcast\",\"value\":\"everyone\"}]" line
'

test_expect_success 'sent: each recipient, nobody has read yet' '
	test_inbox in_as alice alice sent <<-EOF
	  $(cat id2)  from alice to @everyone    <age>
	    hello all
	    unread: bob, carol

	  $(cat id1)  from alice to @bob,@carol  <age> (scope module:auth) (ref issue:42) (ref pr:7)
	    please review
	    unread: bob, carol
	EOF
'

test_expect_success 'message read: one receipt, then none' '
	echo "marked 1 message read" >expect &&
	in_as bob bob message read "$(cat id1)" "$(cat id1)" >actual &&
	test_cmp expect actual &&
	echo "marked 0 messages read" >expect &&
	in_as bob bob message read "$(cat id1)" >actual &&
	test_cmp expect actual &&
	grep -c "\"receipt_type\":\"read\"" "$(sync_dir bob)/messages/bob.jsonl" >count &&
	echo 1 >expect &&
	test_cmp expect count
'

test_expect_success 'the read state flips once the receipt syncs back' '
	in_as alice alice sent --json >before.json &&
	test "$(json_get before.json "$.messages[1].recipient_state[0].read")" = 0 &&
	sync_round bob alice &&
	in_as alice alice sent --json >after.json &&
	test "$(json_get after.json "$.messages[1].message_id")" = "$(cat id1)" &&
	test "$(json_get after.json "$.messages[1].recipient_state[0].agent_id")" = bob &&
	test "$(json_get after.json "$.messages[1].recipient_state[0].read")" = 1 &&
	test "$(json_get after.json "$.messages[1].recipient_state[1].agent_id")" = carol &&
	test "$(json_get after.json "$.messages[1].recipient_state[1].read")" = 0 &&
	test "$(json_get after.json "$.messages[1].scopes")" = "[{\"type\":\"module\",\"value\":\"auth\"}]" &&
	test_inbox in_as alice alice sent --limit 1 --to @bob <<-EOF
	  $(cat id2)  from alice to @everyone  <age>
	    hello all
	    unread: bob, carol
	EOF
'

test_expect_success 'sent --unread, --to' '
	in_as alice alice sent --unread --json >u.json &&
	test "$(json_get u.json "$.messages[1].message_id")" = "$(cat id1)" &&
	in_as alice alice sent --to @everyone --json >e.json &&
	test "$(json_get e.json "$.messages[0].message_id")" = "$(cat id2)" &&
	test "$(json_get e.json "$.messages[1]")" = "" &&
	in_as alice alice sent --to @carol --json >r.json &&
	test "$(json_get r.json "$.messages[0].message_id")" = "$(cat id2)" &&
	test "$(json_get r.json "$.messages[1].message_id")" = "$(cat id1)" &&
	test_must_fail in_as alice alice sent --to @nobody 2>err &&
	echo "error: unknown recipient @nobody: no agent, group or role of that name" >expect &&
	test_cmp expect err
'

test_expect_success 'message read --all, then sent --unread has nothing' '
	echo "marked 2 messages read" >expect &&
	in_as bob carol message read --all >actual &&
	test_cmp expect actual &&
	echo "{\"marked\":0}" >expect &&
	in_as bob carol message read --all --json >actual &&
	test_cmp expect actual &&
	in_as bob bob message read --all >/dev/null &&
	sync_round bob alice &&
	echo "no messages" >expect &&
	in_as alice alice sent --unread >actual &&
	test_cmp expect actual &&
	test_inbox in_as alice alice sent --limit 1 <<-EOF
	  $(cat id2)  from alice to @everyone  <age>
	    hello all
	    read: bob, carol
	EOF
'

test_expect_success 'message read: usage, unknown ids' '
	test_expect_code 129 in_as bob bob message read 2>err &&
	grep "^error: want message ids or --all$" err &&
	test_expect_code 129 in_as bob bob message read --all "$(cat id1)" 2>err &&
	grep "^error: give message ids or --all, not both$" err &&
	before=$(count_lines "$(sync_dir bob)/messages/carol.jsonl") &&
	test_must_fail in_as bob carol message read "$(cat id1)" msg_nope 2>err &&
	echo "error: no message '"'"'msg_nope'"'"'" >expect &&
	test_cmp expect err &&
	test "$(count_lines "$(sync_dir bob)/messages/carol.jsonl")" = "$before"
'

test_expect_success 'inbox --scope keeps what carries the scope' '
	test_inbox in_as bob carol inbox --scope module:auth --no-mark-read <<-EOF
	  $(cat id1)  from alice to @bob,@carol  <age> (scope module:auth) (ref issue:42) (ref pr:7)
	    please review
	EOF
	echo "no messages" >expect &&
	in_as bob carol inbox --scope module:ui --no-mark-read >actual &&
	test_cmp expect actual
'

test_expect_success 'message show --json: scopes and refs, also after rebuild' '
	in_as bob carol message show "$(cat id1)" --json >show.json &&
	test "$(json_get show.json "$.message.scopes[0].type")" = module &&
	test "$(json_get show.json "$.message.scopes[0].value")" = auth &&
	test "$(json_get show.json "$.message.refs[1].type")" = pr &&
	test "$(json_get show.json "$.message.refs[1].value")" = 7 &&
	thrum_in bob rebuild >/dev/null &&
	in_as bob carol message show "$(cat id1)" --json >again.json &&
	test_cmp show.json again.json &&
	test_inbox in_as bob carol inbox --scope module:auth --no-mark-read <<-EOF
	  $(cat id1)  from alice to @bob,@carol  <age> (scope module:auth) (ref issue:42) (ref pr:7)
	    please review
	EOF
'

test_expect_success 'bad scopes and refs: 129, one line, nothing written' '
	before=$(count_lines "$(sync_dir alice)/messages/alice.jsonl") &&
	for bad in "--scope nocolon" "--scope :auth" "--scope module:" \
		"--scope group:x" "--scope broadcast:everyone" \
		"--ref reply_to:msg_1" "--ref mention:bob" "--ref a/b:c"
	do
		test_expect_code 129 in_as alice alice send hi $bad 2>err &&
		grep "^error: invalid --" err >line &&
		test_line_count = 1 line || return 1
	done &&
	test_expect_code 129 in_as alice alice send hi --scope nocolon 2>err &&
	grep "^error: invalid --scope '"'"'nocolon'"'"': want type:value$" err &&
	test_expect_code 129 in_as alice alice send hi --ref reply_to:m 2>err &&
	grep "^error: invalid --ref '"'"'reply_to:m'"'"': that type is written by --to and --reply-to$" err &&
	test_expect_code 129 in_as alice alice inbox --scope auth 2>err &&
	grep "^error: invalid --scope '"'"'auth'"'"': want type:value$" err &&
	test "$(count_lines "$(sync_dir alice)/messages/alice.jsonl")" = "$before"
'

test_expect_success 'threads across clones' '
	in_as bob bob reply "$(cat id1)" "bob: looks good" >r1 &&
	sync_round bob alice &&
	in_as alice alice reply "$(cat r1)" "alice: thanks" >r2 &&
	sync_round alice bob &&
	in_as bob carol reply "$(cat id1)" "carol: one nit" >r3 &&
	sync_round bob alice
'

test_expect_success 'thread: root first, replies under their parent' '
	test_inbox in_as alice alice thread "$(cat r2)" --no-mark-read <<-EOF
	  $(cat id1)  from alice to @bob,@carol  <age> (scope module:auth) (ref issue:42) (ref pr:7)
	    please review

	    * $(cat r1)  from bob to @alice,@carol  <age> (reply to $(cat id1))
	        bob: looks good

	          $(cat r2)  from alice to @bob,@carol  <age> (reply to $(cat r1))
	            alice: thanks

	    * $(cat r3)  from carol to @alice,@bob  <age> (reply to $(cat id1))
	        carol: one nit
	EOF
'

test_expect_success 'inbox --threads: replies folded under their root' '
	in_as alice alice send "unrelated" --to @bob >id3 &&
	sync_round alice bob &&
	in_as bob bob reply "$(cat id3)" "ok" >r4 &&
	sync_round bob alice &&
	test_inbox in_as alice alice inbox --threads --no-mark-read <<-EOF
	  $(cat id3)  from alice to @bob         <age>
	    unrelated

	    * $(cat r4)  from bob to @alice         <age> (reply to $(cat id3))
	        ok

	  $(cat id1)  from alice to @bob,@carol  <age> (scope module:auth) (ref issue:42) (ref pr:7)
	    please review

	    * $(cat r1)  from bob to @alice,@carol  <age> (reply to $(cat id1))
	        bob: looks good

	    * $(cat r3)  from carol to @alice,@bob  <age> (reply to $(cat id1))
	        carol: one nit
	EOF
	in_as alice alice inbox --threads --no-mark-read --json >f.json &&
	for i in 0:id3:0 1:r4:1 2:id1:0 3:r1:1 4:r3:1
	do
		n=${i%%:*} f=${i#*:} &&
		f=${f%:*} d=${i##*:} &&
		test "$(json_get f.json "$.messages[$n].message_id")" = "$(cat $f)" &&
		test "$(json_get f.json "$.messages[$n].depth")" = "$d" || return 1
	done
'

test_expect_success 'message show --thread --json: the order and each depth' '
	in_as bob carol message show "$(cat r1)" --thread --json >t.json &&
	for i in 0:id1:0 1:r1:1 2:r2:2 3:r3:1
	do
		n=${i%%:*} f=${i#*:} &&
		f=${f%:*} d=${i##*:} &&
		test "$(json_get t.json "$.messages[$n].message_id")" = "$(cat $f)" &&
		test "$(json_get t.json "$.messages[$n].depth")" = "$d" || return 1
	done &&
	test "$(json_get t.json "$.messages[4]")" = ""
'

test_expect_success 'thread marks what it shows read; the author sees it' '
	in_as bob carol thread "$(cat r2)" >/dev/null &&
	in_as bob carol inbox --unread >actual &&
	echo "no messages" >expect &&
	test_cmp expect actual &&
	sync_round bob alice &&
	in_as alice alice sent --json >s.json &&
	test "$(json_get s.json "$.messages[1].message_id")" = "$(cat r2)" &&
	test "$(json_get s.json "$.messages[1].recipient_state[1].agent_id")" = carol &&
	test "$(json_get s.json "$.messages[1].recipient_state[1].read")" = 1
'

test_expect_success 'a deleted reply keeps its place, not its words' '
	in_as alice alice message delete "$(cat r2)" >/dev/null &&
	in_as alice alice thread "$(cat id1)" --no-mark-read >actual &&
	grep "^          $(cat r2)  .* (deleted)\$" actual &&
	! grep "alice: thanks" actual
'

test_expect_success 'thread: unknown and ambiguous ids' '
	test_must_fail in_as alice alice thread msg_nope 2>err &&
	echo "error: no message '"'"'msg_nope'"'"'" >expect &&
	test_cmp expect err &&
	test_must_fail in_as alice alice thread msg_ 2>err &&
	echo "error: message id '"'"'msg_'"'"' is ambiguous" >expect &&
	test_cmp expect err
'

# bob'"'"'s clone writes what it likes into its own shard and pushes it
test_expect_success 'a reply_to cycle and a self-reply from a remote: the thread ends' '
	E=01JKM4T2YQ8M3E5X6Z7A9B0C &&
	sd=$(sync_dir bob) &&
	for l in "C1 C2 2026-02-03T10:00:01Z" "C2 C1 2026-02-03T10:00:02Z" \
		"C3 C3 2026-02-03T10:00:03Z"
	do
		set -- $l &&
		echo "{\"agent_id\":\"eve\",\"body\":{\"content\":\"loop $1\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}$1\",\"message_id\":\"msg_${E}$1\",\"recipients\":[\"alice\"],\"refs\":[{\"type\":\"reply_to\",\"value\":\"msg_${E}$2\"},{\"type\":\"module\",\"value\":\"\\u001b[31m\"}],\"scopes\":[{\"type\":\"x\\u202e\",\"value\":\"y\"}],\"timestamp\":\"$3\",\"type\":\"message.create\",\"v\":1}" \
			>>"$sd/messages/eve.jsonl" || return 1
	done &&
	sync_round bob alice &&
	test_inbox in_as alice alice thread "msg_${E}C2" --no-mark-read <<-EOF &&
	* msg_${E}C1  from eve to @alice  <age> (reply to msg_${E}C2) (scope x\u202e:y) (ref module:\e[31m) (unverified)
	    loop C1

	    * msg_${E}C2  from eve to @alice  <age> (reply to msg_${E}C1) (scope x\u202e:y) (ref module:\e[31m) (unverified)
	        loop C2
	EOF
	test_inbox in_as alice alice thread "msg_${E}C3" --no-mark-read <<-EOF &&
	* msg_${E}C3  from eve to @alice  <age> (reply to msg_${E}C3) (scope x\u202e:y) (ref module:\e[31m) (unverified)
	    loop C3
	EOF
	in_as alice alice inbox --threads --no-mark-read >folded &&
	grep -c "loop C" folded >n &&
	echo 3 >expect &&
	test_cmp expect n
'

test_done

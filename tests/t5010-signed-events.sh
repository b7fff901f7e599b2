#!/bin/sh
test_description='signed events: forgeries pushed with plain git do not count, key rotation, thrum.allowedSigners, tampered lines'
. ./lib-thrum.sh

sign="$SHARNESS_BUILD_DIRECTORY/tests/helper/test-sign"
E=01JKM4T2YQ8M3E5X6Z7A9B0C

# now_ts [<seconds ahead>]: an RFC 3339 instant, to the nanosecond,
# after every event written so far
now_ts() {
	date -u -d "@$(( $(date +%s) + ${1:-0} )).$(date +%N)" \
		+%Y-%m-%dT%H:%M:%S.%NZ
}

# forge <file> <line>...: mallory, a plain git clone, appends lines to a
# file of a-sync and pushes
forge() {
	f=$1 && shift &&
	git -C mallory pull -q --rebase origin a-sync &&
	for l in "$@"
	do
		printf "%s\n" "$l" >>"mallory/$f" || return 1
	done &&
	git -C mallory add "$f" &&
	git -C mallory commit -q -m forged &&
	git -C mallory push -q origin HEAD:a-sync
}

# signed_by <key> <line>: the line, signed with the key
signed_by() {
	printf "%s\n" "$2" | "$sign" sign "$1"
}

# what fsck says of a line that does not count
HAS_KEY="unsigned, and the name has a key"
NOT_ITS_KEY="not signed by the key of the name"

# rejected <id> <type> <name> <why>: fsck's output, in out, lists event
# evt_${E}<id> (a <type> as <name>) as one that does not count, for <why>
rejected() {
	grep "^warning: signatures: evt_${E}$1: $2 as '$3' does not count ($4)\$" out
}

# same_after_rebuild <file> <command>...: after a rebuild, bob's
# `git thrum <command>` prints <file> again
same_after_rebuild() {
	f=$1 && shift &&
	thrum_in bob rebuild >/dev/null &&
	thrum_in bob "$@" >rebuilt &&
	test_cmp "$f" rebuilt
}

# first_group_id: the group_id of the first group alice created
first_group_id() {
	grep "\"type\":\"group.create\"" "$(sync_dir alice)/events.jsonl" |
		sed -n "s/.*\"group_id\":\"\([^\"]*\)\".*/\1/p"
}

test_expect_success 'setup: alice and bob with keys, mallory with hers' '
	setup_pair &&
	thrum_in alice send "the real message" --to @bob >id &&
	sync_round alice bob &&
	git clone -q -b a-sync remote.git mallory &&
	"$sign" keygen mallory.key &&
	"$sign" pubkey mallory.key >mallory.pub &&
	test -f alice/.thrum/identities/alice.key &&
	test "$(stat -c %a alice/.thrum/identities/alice.key)" = 600 &&
	! git -C alice log --all -p | grep -q "$(cat alice/.thrum/identities/alice.key)"
'

test_expect_success 'our lines are signed; the registration names the key' '
	"$sign" check <"$(sync_dir alice)/messages/alice.jsonl" >states &&
	echo good >expect &&
	test_cmp expect states &&
	grep "\"type\":\"agent.register\"" "$(sync_dir alice)/events.jsonl" |
		grep "\"name\":\"alice\"" >reg &&
	grep -q "\"pubkey\":\"ed25519:" reg &&
	"$sign" check <reg >states &&
	test_cmp expect states &&
	thrum_in bob inbox --json --no-mark-read >in.json &&
	test "$(json_get in.json "$.messages[0].verified")" = 1 &&
	thrum_in bob message show "$(cat id)" --no-mark-read >show &&
	grep "^    key SHA256:" show
'

test_expect_success 'the MCP server signs what it writes' '
	init="{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2024-11-05\",\"capabilities\":{},\"clientInfo\":{\"name\":\"raw\",\"version\":\"1\"}}}" &&
	call="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"send_message\",\"arguments\":{\"to\":\"@bob\",\"content\":\"via mcp\"}}}" &&
	printf "%s\n%s\n" "$init" "$call" >mcp.in &&
	(cd alice && git thrum mcp --agent alice <../mcp.in >../mcp.out) &&
	grep "via mcp" "$(sync_dir alice)/messages/alice.jsonl" >line &&
	"$sign" check <line >states &&
	echo good >expect &&
	test_cmp expect states
'

test_expect_success 'mallory forges a message, an edit, a delete, a receipt and a registration' '
	id=$(cat id) && ts=$(now_ts 1) &&
	create="{\"agent_id\":\"alice\",\"body\":{\"content\":\"FORGED unsigned\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}A1\",\"message_id\":\"msg_${E}A1\",\"recipients\":[\"bob\"],\"timestamp\":\"$ts\",\"type\":\"message.create\",\"v\":1}" &&
	signed=$(signed_by mallory.key "{\"agent_id\":\"alice\",\"body\":{\"content\":\"FORGED signed\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}A2\",\"message_id\":\"msg_${E}A2\",\"recipients\":[\"bob\"],\"timestamp\":\"$ts\",\"type\":\"message.create\",\"v\":1}") &&
	edit="{\"agent_id\":\"alice\",\"body\":{\"content\":\"FORGED edit\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}A3\",\"message_id\":\"$id\",\"timestamp\":\"$ts\",\"type\":\"message.edit\",\"v\":1}" &&
	delete=$(signed_by mallory.key "{\"agent_id\":\"alice\",\"event_id\":\"evt_${E}A4\",\"message_id\":\"$id\",\"timestamp\":\"$ts\",\"type\":\"message.delete\",\"v\":1}") &&
	receipt="{\"agent_id\":\"bob\",\"event_id\":\"evt_${E}A5\",\"message_id\":\"$id\",\"receipt_type\":\"read\",\"timestamp\":\"$ts\",\"type\":\"message.receipt\",\"v\":1}" &&
	reg=$(echo "{\"agent_id\":\"alice\",\"event_id\":\"evt_${E}A6\",\"kind\":\"agent\",\"module\":\"m\",\"name\":\"alice\",\"role\":\"owned\",\"timestamp\":\"$ts\",\"type\":\"agent.register\",\"v\":1}" |
		TEST_SIGN_PUBKEY=$(cat mallory.pub) "$sign" sign mallory.key) &&
	forge messages/alice.jsonl "$create" "$signed" "$edit" "$delete" &&
	forge messages/bob.jsonl "$receipt" &&
	forge events.jsonl "$reg" &&
	sync_round bob
'

test_expect_success 'none of them counts' '
	id=$(cat id) &&
	thrum_in bob inbox --no-mark-read --json >in.json &&
	test "$(json_get in.json "$.messages[0].message_id")" = "$id" &&
	test "$(json_get in.json "$.messages[0].body.content")" = "the real message" &&
	test "$(json_get in.json "$.messages[0].deleted")" = 0 &&
	test "$(json_get in.json "$.messages[0].is_read")" = 0 &&
	test "$(json_get in.json "$.messages[0].verified")" = 1 &&
	test "$(json_get in.json "$.messages[1].message_id")" = "" &&
	thrum_in bob inbox --unread --json >unread.json &&
	test "$(json_get unread.json "$.messages[0].message_id")" = "$id" &&
	thrum_in bob agent list --json >a.json &&
	test "$(json_get a.json "$.agents[0].name")" = alice &&
	test "$(json_get a.json "$.agents[0].role")" = alice-role
'

test_expect_success 'fsck lists each one, and the key conflict' '
	thrum_in bob fsck >out &&
	cat >expect <<-EOF &&
	warning: signatures: evt_${E}A1: message.create as '\''alice'\'' does not count (unsigned, and the name has a key)
	warning: signatures: evt_${E}A2: message.create as '\''alice'\'' does not count (not signed by the key of the name)
	warning: signatures: evt_${E}A3: message.edit as '\''alice'\'' does not count (unsigned, and the name has a key)
	warning: signatures: evt_${E}A4: message.delete as '\''alice'\'' does not count (not signed by the key of the name)
	warning: signatures: evt_${E}A6: agent.register of '\''alice'\'' names another key without the signature of its key (a key conflict)
	warning: signatures: evt_${E}A5: message.receipt as '\''bob'\'' does not count (unsigned, and the name has a key)
	warning: signatures: 6 events kept in the log that do not count (see Documentation/security.adoc)
	EOF
	grep "^warning: signatures:" out >got &&
	test_cmp expect got
'

test_expect_success 'team flags the key conflict' '
	thrum_in bob team >team &&
	grep "^alice .*key conflict" team &&
	! grep "^bob .*key conflict" team
'

test_expect_success 'rebuild gives the same answers' '
	thrum_in bob inbox --all --no-mark-read --json >before.json &&
	same_after_rebuild before.json inbox --all --no-mark-read --json &&
	thrum_in bob fsck >out &&
	grep "^warning: signatures: 6 events" out
'

test_expect_success '--include-bad shows what does not count, marked' '
	thrum_in bob inbox --include-bad --no-mark-read >in &&
	grep "FORGED unsigned" in &&
	grep "msg_${E}A1 .*(BAD SIGNATURE: does not count)" in &&
	thrum_in bob inbox --include-bad --no-mark-read --json >in.json &&
	test "$(json_get in.json "$.messages[0].verified")" = 0
'

test_expect_success 'a tampered byte in a signed line is detected' '
	line=$(grep "the real message" "$(sync_dir alice)/messages/alice.jsonl") &&
	bad=$(printf "%s\n" "$line" | sed -e "s/the real message/the real massage/" \
		-e "s/evt_[0-9A-Z]*/evt_${E}B1/" -e "s/\"message_id\":\"[^\"]*\"/\"message_id\":\"msg_${E}B1\"/") &&
	printf "%s\n" "$bad" | "$sign" check >state &&
	echo bad >expect &&
	test_cmp expect state &&
	forge messages/alice.jsonl "$bad" &&
	sync_round bob &&
	thrum_in bob inbox --all --no-mark-read >in &&
	! grep massage in &&
	thrum_in bob fsck >out &&
	rejected B1 message.create alice "bad signature"
'

test_expect_success 'a rotation signed by the old key is accepted' '
	"$sign" keygen alice-new.key &&
	reg=$(echo "{\"agent_id\":\"alice\",\"event_id\":\"evt_${E}C1\",\"kind\":\"agent\",\"module\":\"m\",\"name\":\"alice\",\"role\":\"alice-role\",\"timestamp\":\"$(now_ts)\",\"type\":\"agent.register\",\"v\":1}" |
		TEST_SIGN_PUBKEY=$("$sign" pubkey alice-new.key) "$sign" sign alice/.thrum/identities/alice.key) &&
	forge events.jsonl "$reg" &&
	sync_round alice bob &&
	cp alice-new.key alice/.thrum/identities/alice.key &&
	thrum_in alice send "after the rotation" --to @bob >id2 &&
	sync_round alice bob &&
	thrum_in bob message show "$(cat id2)" --json --no-mark-read >m.json &&
	test "$(json_get m.json "$.message.verified")" = 1 &&
	thrum_in bob message show "$(cat id)" --json --no-mark-read >m.json &&
	test "$(json_get m.json "$.message.verified")" = 1
'

test_expect_success 'the old key no longer speaks for alice' '
	late=$(signed_by mallory.key "{\"agent_id\":\"alice\",\"body\":{\"content\":\"OLD KEY\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}C2\",\"message_id\":\"msg_${E}C2\",\"recipients\":[\"bob\"],\"timestamp\":\"$(now_ts 2)\",\"type\":\"message.create\",\"v\":1}") &&
	forge messages/alice.jsonl "$late" &&
	sync_round bob &&
	thrum_in bob inbox --all --no-mark-read >in &&
	! grep "OLD KEY" in
'

test_expect_success 'an unsigned rotation is refused' '
	reg="{\"agent_id\":\"bob\",\"event_id\":\"evt_${E}D1\",\"kind\":\"agent\",\"module\":\"m\",\"name\":\"bob\",\"pubkey\":\"$(cat mallory.pub)\",\"role\":\"bob-role\",\"timestamp\":\"$(now_ts)\",\"type\":\"agent.register\",\"v\":1}" &&
	msg=$(signed_by mallory.key "{\"agent_id\":\"bob\",\"body\":{\"content\":\"AS BOB\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}D2\",\"message_id\":\"msg_${E}D2\",\"recipients\":[\"alice\"],\"timestamp\":\"$(now_ts 3)\",\"type\":\"message.create\",\"v\":1}") &&
	forge events.jsonl "$reg" &&
	forge messages/bob.jsonl "$msg" &&
	sync_round alice &&
	thrum_in alice inbox --all --no-mark-read >in &&
	! grep "AS BOB" in &&
	thrum_in alice fsck >out &&
	grep "^warning: signatures: evt_${E}D1: agent.register of '\''bob'\'' names another key without the signature of its key (a key conflict)$" out
'

test_expect_success 'thrum.allowedSigners overrides the first registration' '
	echo "alice $(cat mallory.pub)" >signers &&
	git -C bob config thrum.allowedSigners ../signers &&
	thrum_in bob inbox --all --no-mark-read >in &&
	grep "FORGED signed" in &&
	! grep "the real message" in &&
	git -C bob config --unset thrum.allowedSigners &&
	thrum_in bob inbox --all --no-mark-read >in &&
	! grep "FORGED signed" in &&
	grep "the real message" in
'

test_expect_success 'a bad allowedSigners line is refused, naming the file' '
	echo "alice not-a-key" >signers &&
	test_must_fail git -C bob -c thrum.allowedSigners=../signers thrum inbox 2>err &&
	grep "^error: bad line 1 in thrum.allowedSigners" err
'

test_expect_success 'thrum.requireSigned hides what is unsigned' '
	thrum_in alice send "signed one" >/dev/null &&
	E2=01JKM4T2YQ8M3E5X6Z7A9B0D &&
	forge messages/carol.jsonl "{\"agent_id\":\"carol\",\"body\":{\"content\":\"from the original\",\"format\":\"markdown\"},\"event_id\":\"evt_${E2}E1\",\"message_id\":\"msg_${E2}E1\",\"timestamp\":\"$(now_ts)\",\"type\":\"message.create\",\"v\":1}" &&
	sync_round alice bob &&
	thrum_in bob inbox --no-mark-read >in &&
	grep "from carol .*(unverified)" in &&
	thrum_in bob inbox --no-mark-read --json >in.json &&
	test "$(json_get in.json "$.messages[0].verified")" = "" &&
	git -C bob -c thrum.requireSigned=true thrum inbox --no-mark-read >in &&
	! grep "from the original" in &&
	grep "signed one" in
'

test_expect_success 'a forged session end or start does not count' '
	thrum_in alice session start --intent "real work" >out &&
	sid=$(sed -n "s/^session \(.*\) started$/\1/p" out) &&
	test -n "$sid" &&
	sync_round alice bob &&
	thrum_in bob agent list --json >a.json &&
	test "$(json_get a.json "$.agents[0].session_id")" = "$sid" &&
	end="{\"agent_id\":\"alice\",\"event_id\":\"evt_${E}F1\",\"reason\":\"FORGED\",\"session_id\":\"$sid\",\"timestamp\":\"$(now_ts 4)\",\"type\":\"agent.session.end\",\"v\":1}" &&
	start=$(signed_by mallory.key "{\"agent_id\":\"alice\",\"event_id\":\"evt_${E}F2\",\"session_id\":\"ses_${E}F2\",\"timestamp\":\"$(now_ts 5)\",\"type\":\"agent.session.start\",\"v\":1}") &&
	other=$(signed_by mallory.key "{\"agent_id\":\"mallory\",\"event_id\":\"evt_${E}F3\",\"session_id\":\"$sid\",\"timestamp\":\"$(now_ts 6)\",\"type\":\"agent.session.end\",\"v\":1}") &&
	forge messages/alice.jsonl "$end" "$start" &&
	forge messages/mallory.jsonl "$other" &&
	sync_round bob &&
	thrum_in bob agent list --json >a.json &&
	test "$(json_get a.json "$.agents[0].name")" = alice &&
	test "$(json_get a.json "$.agents[0].session_id")" = "$sid" &&
	thrum_in bob team >team &&
	grep "^alice " team &&
	thrum_in bob fsck >out &&
	rejected F1 agent.session.end alice "$HAS_KEY" &&
	rejected F2 agent.session.start alice "$NOT_ITS_KEY" &&
	same_after_rebuild a.json agent list --json
'

test_expect_success 'a forged work context or intent does not count' '
	thrum_in bob agent list --json >a.json &&
	intent=$(json_get a.json "$.agents[0].intent") &&
	sid=$(json_get a.json "$.agents[0].session_id") &&
	test -n "$sid" &&
	upd="{\"agent_id\":\"alice\",\"event_id\":\"evt_${E}G1\",\"timestamp\":\"$(now_ts 7)\",\"type\":\"agent.update\",\"v\":1,\"work_contexts\":[{\"branch\":\"FORGED\",\"changed_files\":[\"forged.c\"],\"intent\":\"FORGED intent\",\"session_id\":\"$sid\"}]}" &&
	forge messages/alice.jsonl "$upd" &&
	sync_round bob &&
	thrum_in bob agent list --json >a.json &&
	test "$(json_get a.json "$.agents[0].intent")" = "$intent" &&
	thrum_in bob team >team &&
	! grep FORGED team &&
	thrum_in bob who-has forged.c >who &&
	! grep alice who &&
	thrum_in bob fsck >out &&
	rejected G1 agent.update alice "$HAS_KEY"
'

test_expect_success 'a forged membership change or group delete does not count' '
	thrum_in alice group create crew >/dev/null &&
	thrum_in alice group add crew @bob >/dev/null &&
	sync_round alice bob &&
	gid=$(first_group_id) &&
	test -n "$gid" &&
	ts=$(now_ts 8) &&
	remove="{\"agent_id\":\"mallory\",\"event_id\":\"evt_${E}H1\",\"group_id\":\"$gid\",\"member_type\":\"agent\",\"member_value\":\"bob\",\"removed_by\":\"alice\",\"timestamp\":\"$ts\",\"type\":\"group.member.remove\",\"v\":1}" &&
	add=$(signed_by mallory.key "{\"added_by\":\"alice\",\"event_id\":\"evt_${E}H2\",\"group_id\":\"$gid\",\"member_type\":\"agent\",\"member_value\":\"mallory\",\"timestamp\":\"$ts\",\"type\":\"group.member.add\",\"v\":1}") &&
	delete="{\"deleted_by\":\"alice\",\"event_id\":\"evt_${E}H3\",\"group_id\":\"$gid\",\"timestamp\":\"$(now_ts 9)\",\"type\":\"group.delete\",\"v\":1}" &&
	forge events.jsonl "$remove" "$add" "$delete" &&
	sync_round bob &&
	thrum_in bob group list --json >g.json &&
	test "$(json_get g.json "$.groups[0].name")" = crew &&
	test "$(json_get g.json "$.groups[0].members")" = "[\"@bob\"]" &&
	thrum_in bob fsck >out &&
	rejected H1 group.member.remove alice "$HAS_KEY" &&
	rejected H2 group.member.add alice "$NOT_ITS_KEY" &&
	rejected H3 group.delete alice "$HAS_KEY"
'

test_expect_success 'a forged group create or update does not count' '
	gid=$(first_group_id) &&
	create="{\"created_by\":\"alice\",\"event_id\":\"evt_${E}J1\",\"group_id\":\"grp_${E}J1\",\"name\":\"evilgrp\",\"timestamp\":\"$(now_ts 10)\",\"type\":\"group.create\",\"v\":1}" &&
	update=$(signed_by mallory.key "{\"event_id\":\"evt_${E}J2\",\"fields\":{\"name\":\"owned\"},\"group_id\":\"$gid\",\"timestamp\":\"$(now_ts 11)\",\"type\":\"group.update\",\"updated_by\":\"alice\",\"v\":1}") &&
	forge events.jsonl "$create" "$update" &&
	sync_round bob &&
	thrum_in bob group list --json >g.json &&
	test "$(json_get g.json "$.groups[0].name")" = crew &&
	test "$(json_get g.json "$.groups[1].name")" = "" &&
	thrum_in bob fsck >out &&
	rejected J1 group.create alice "$HAS_KEY" &&
	rejected J2 group.update alice "$NOT_ITS_KEY" &&
	same_after_rebuild g.json group list --json
'

test_expect_success 'a forged agent delete or purge does not count' '
	thrum_in bob inbox --json --no-mark-read >before.json &&
	grep "the real message" before.json &&
	cleanup="{\"agent_id\":\"alice\",\"event_id\":\"evt_${E}K1\",\"method\":\"manual\",\"reason\":\"manual deletion\",\"timestamp\":\"$(now_ts 12)\",\"type\":\"agent.cleanup\",\"v\":1}" &&
	purge=$(signed_by mallory.key "{\"agent_id\":\"alice\",\"cutoff\":\"$(now_ts 3600)\",\"event_id\":\"evt_${E}K2\",\"timestamp\":\"$(now_ts 13)\",\"type\":\"purge.executed\",\"v\":1}") &&
	anon="{\"cutoff\":\"$(now_ts 3600)\",\"event_id\":\"evt_${E}K3\",\"timestamp\":\"$(now_ts 14)\",\"type\":\"purge.executed\",\"v\":1}" &&
	forge events.jsonl "$cleanup" "$purge" "$anon" &&
	sync_round bob &&
	thrum_in bob inbox --json --no-mark-read >after.json &&
	test_cmp before.json after.json &&
	thrum_in bob agent list --json >a.json &&
	grep "\"name\":\"alice\"" a.json &&
	thrum_in bob fsck >out &&
	rejected K1 agent.cleanup alice "$HAS_KEY" &&
	rejected K2 purge.executed alice "$NOT_ITS_KEY" &&
	rejected K3 purge.executed "" "a purge that names no agent" &&
	same_after_rebuild after.json inbox --json --no-mark-read
'

test_expect_success 'agent delete signs as the agent it deletes, and counts' '
	thrum_in alice quickstart --name helper2 --role tester --module m >/dev/null &&
	THRUM_NAME=helper2 thrum_in alice send "from helper2" --to @bob >/dev/null &&
	sync_round alice bob &&
	thrum_in bob agent list --json >a.json &&
	grep "\"name\":\"helper2\"" a.json &&
	THRUM_NAME=alice thrum_in alice agent delete helper2 --yes >out 2>err &&
	test_must_be_empty err &&
	sync_round alice bob &&
	thrum_in bob agent list --json >a.json &&
	! grep "\"name\":\"helper2\"" a.json &&
	thrum_in bob fsck >out &&
	! grep "agent.cleanup as '\''helper2'\''" out
'

test_expect_success 'agent delete of an agent whose key is not here says so' '
	thrum_in alice quickstart --name helper3 --role tester --module m >/dev/null &&
	rm alice/.thrum/identities/helper3.key &&
	THRUM_NAME=alice thrum_in alice agent delete helper3 --yes >out 2>err &&
	echo "warning: '\''helper3'\'' has no key here: the deletion is signed by another, and counts only while '\''helper3'\'' has no key" >expect &&
	test_cmp expect err
'

test_expect_success 'agent rotate-key: a new key, signed by the old, that every clone takes' '
	thrum_in alice quickstart --name rot --role tester --module m >/dev/null &&
	key=alice/.thrum/identities/rot.key &&
	cp "$key" old.key &&
	"$sign" pubkey old.key >old.pub &&
	THRUM_NAME=rot thrum_in alice send "before rotate-key" --to @bob >/dev/null &&
	thrum_in alice agent rotate-key rot >out &&
	"$sign" pubkey "$key" >new.pub &&
	! test_cmp old.pub new.pub &&
	test "$(stat -c %a "$key")" = 600 &&
	test_path_is_missing "$key.new" &&
	grep "^rotated the key of '\''rot'\'': SHA256:.*, was SHA256:" out &&
	grep "\"type\":\"agent.register\"" "$(sync_dir alice)/events.jsonl" |
		grep "\"name\":\"rot\"" | tail -n 1 >reg &&
	grep -F "\"pubkey\":\"$(cat new.pub)\"" reg &&
	grep -F "\"sig\":\"$(cat old.pub):" reg &&
	THRUM_NAME=rot thrum_in alice send "after rotate-key" --to @bob >/dev/null &&
	sync_round alice bob &&
	thrum_in bob inbox --json --no-mark-read >in.json &&
	for body in "before rotate-key" "after rotate-key"
	do
		v=$(sqlite3 :memory: "SELECT json_extract(value, '\''$.verified'\'') FROM json_each(readfile('\''in.json'\''), '\''$.messages'\'') WHERE json_extract(value, '\''$.body.content'\'') = '\''$body'\''") &&
		test "$v" = 1 || return 1
	done &&
	thrum_in bob fsck >out &&
	! grep "'\''rot'\''" out &&
	thrum_in bob team >team &&
	grep "^rot " team >rot &&
	! grep conflict rot
'

test_expect_success 'agent rotate-key: bad input says so, writes nothing' '
	lines=$(wc -l <"$(sync_dir alice)/events.jsonl") &&
	test_expect_code 129 thrum_in alice agent rotate-key No/Such 2>err &&
	grep "^error: invalid agent name '\''No/Such'\''" err &&
	test_expect_code 1 thrum_in alice agent rotate-key nosuch 2>err &&
	echo "error: '\''nosuch'\'' is not an agent of this work tree: only those with an identity here have a key here" >expect &&
	test_cmp expect err &&
	test_expect_code 1 thrum_in alice agent rotate-key 2>err &&
	grep "^error: several identities here" err &&
	test "$(wc -l <"$(sync_dir alice)/events.jsonl")" = $lines
'

test_expect_success 'agent rotate-key whose line is not durable keeps the old key' '
	shim=$SHARNESS_BUILD_DIRECTORY/tests/helper/fail-fsync.so &&
	key=alice/.thrum/identities/rot.key &&
	cp "$key" before.key &&
	asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 &&
	test_must_fail env LD_PRELOAD="$shim" ASAN_OPTIONS="$asan" \
		THRUM_TEST_FAIL_FSYNC=/events.jsonl \
		sh -c "cd alice && exec git thrum agent rotate-key rot" \
		>out 2>err &&
	test_must_be_empty out &&
	grep "cannot fsync .*events.jsonl.*Input/output error" err &&
	test_cmp before.key "$key" &&
	test_path_is_missing "$key.new" &&
	THRUM_NAME=rot thrum_in alice send "still rot" --to @bob >/dev/null &&
	sync_round alice bob &&
	thrum_in bob fsck >out &&
	! grep "'\''rot'\''" out
'

# an agent of the original Thrum, olddie: unsigned lines (pushed with
# plain git, as the original wrote them), and an identity without a key
E3=01JKM4T2YQ8M3E5X6Z7A9B0E

# keyless_identity <name> [<session id>]: alice'"'"'s identity file of name,
# as the original writes it: no key
keyless_identity() {
	printf "{\"agent_id\":\"%s\",\"kind\":\"agent\",\"module\":\"m\",\"name\":\"%s\",\"role\":\"old-role\"%s}\n" \
		"$1" "$1" "${2:+,\"session_id\":\"$2\"}" \
		>alice/.thrum/identities/$1.json
}

# old_agent <name> <id suffix> <message> [<session id>]: the original'"'"'s
# registration
# of name and one message of it to bob, pushed by mallory and merged by
# alice, and alice'"'"'s identity of name without a key (removed when the
# test ends)
old_agent() {
	forge events.jsonl "{\"agent_id\":\"$1\",\"event_id\":\"evt_${E3}R$2\",\"kind\":\"agent\",\"module\":\"m\",\"name\":\"$1\",\"role\":\"old-role\",\"timestamp\":\"2025-01-01T00:00:00Z\",\"type\":\"agent.register\",\"v\":1}" &&
	forge messages/$1.jsonl "{\"agent_id\":\"$1\",\"body\":{\"content\":\"$3\",\"format\":\"markdown\"},\"event_id\":\"evt_${E3}M$2\",\"message_id\":\"msg_${E3}M$2\",\"recipients\":[\"bob\"],\"timestamp\":\"2025-01-02T00:00:00Z\",\"type\":\"message.create\",\"v\":1}" &&
	thrum_in alice sync force >/dev/null &&
	test_when_finished "rm -f alice/.thrum/identities/$1.*" &&
	keyless_identity "$1" "${4:-}"
}

test_expect_success 'an identity from before keys: its key vouches for its unsigned lines' '
	old_agent olddie 1 "from the past of olddie" &&
	(cd alice && THRUM_NAME=olddie git thrum send "olddie, with a key" --to @bob >/dev/null) &&
	test -f alice/.thrum/identities/olddie.key &&
	grep "\"type\":\"agent.vouch\"" "$(sync_dir alice)/events.jsonl" >vouch &&
	grep -q "\"vouched\":\[\"[^\"]*:evt_${E3}R1\",\"[^\"]*:evt_${E3}M1\"\]" vouch &&
	"$sign" check <vouch >states &&
	echo good >expect &&
	test_cmp expect states &&
	sync_round alice bob &&
	thrum_in bob inbox --no-mark-read --all >in &&
	grep "from the past of olddie" in &&
	grep "olddie, with a key" in
'

# not_counting <clone>: how many events fsck says do not count there
not_counting() {
	test_might_fail thrum_in $1 fsck 2>&1 |
		sed -n "s/^warning: signatures: \([0-9]*\) events\{0,1\} kept.*/\1/p"
}

test_expect_success 'a line dated before the key, pushed later, does not count' '
	before=$(not_counting bob) &&
	forge messages/olddie.jsonl "{\"agent_id\":\"olddie\",\"body\":{\"content\":\"FORGED backdated\",\"format\":\"markdown\"},\"event_id\":\"evt_${E3}M2\",\"message_id\":\"msg_${E3}M2\",\"recipients\":[\"bob\"],\"timestamp\":\"2025-01-03T00:00:00Z\",\"type\":\"message.create\",\"v\":1}" &&
	sync_round bob &&
	thrum_in bob inbox --no-mark-read --all >in &&
	! grep "FORGED backdated" in &&
	grep "from the past of olddie" in &&
	test "$(not_counting bob)" = $((before + 1)) &&
	thrum_in bob inbox --no-mark-read --all --include-bad >in &&
	grep "FORGED backdated" in &&
	thrum_in bob inbox --no-mark-read --all --json >in.json &&
	same_after_rebuild in.json inbox --no-mark-read --all --json
'

test_expect_success 'another line with a vouched id owns nothing, read first or not' '
	# events.jsonl is read before messages/: a rebuild sees this one first
	forge events.jsonl "{\"agent_id\":\"olddie\",\"body\":{\"content\":\"FORGED copy\",\"format\":\"markdown\"},\"event_id\":\"evt_${E3}M1\",\"message_id\":\"msg_${E3}M9\",\"recipients\":[\"bob\"],\"timestamp\":\"2025-01-02T00:00:00Z\",\"type\":\"message.create\",\"v\":1}" &&
	sync_round bob &&
	thrum_in bob inbox --no-mark-read --all >in &&
	! grep "FORGED copy" in &&
	thrum_in bob rebuild >/dev/null &&
	thrum_in bob inbox --no-mark-read --all >in &&
	! grep "FORGED copy" in
'

test_expect_success 'a lost key: the new one vouches for nothing' '
	test_when_finished "rm -f alice/.thrum/identities/olddie.*" &&
	thrum_in alice sync force >/dev/null &&
	vouches=$(grep -c "\"type\":\"agent.vouch\"" "$(sync_dir alice)/events.jsonl") &&
	keyless_identity olddie &&
	(cd alice && THRUM_NAME=olddie git thrum send "olddie, key lost" --to @bob >/dev/null) &&
	test "$(grep -c "\"type\":\"agent.vouch\"" "$(sync_dir alice)/events.jsonl")" = "$vouches"
'

test_expect_success 'the daemon, first to write for an identity from before keys, vouches too' '
	old_agent olddie2 3 "olddie2 of old" "ses_${E3}S2" &&
	git -C alice config thrum.syncInterval 600 &&
	test_when_finished "thrum_in alice daemon stop >/dev/null; git -C alice config --unset thrum.syncInterval" &&
	THRUM_TEST_NO_DAEMON= thrum_in alice daemon start >/dev/null &&
	rpc alice "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sync.force\"}" >/dev/null &&
	test -f alice/.thrum/identities/olddie2.key &&
	grep "\"type\":\"agent.vouch\"" "$(sync_dir alice)/events.jsonl" |
		grep -q "\"agent_id\":\"olddie2\".*:evt_${E3}M3\"" &&
	thrum_in bob sync force >/dev/null &&
	thrum_in bob inbox --no-mark-read --all >in &&
	grep "olddie2 of old" in
'

test_done

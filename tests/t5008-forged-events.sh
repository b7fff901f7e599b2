#!/bin/sh
test_description='forged events from a clone with push access: a reused message_id, a far-future timestamp'
. ./lib-thrum.sh

E=01JKM4T2YQ8M3E5X6Z7A9B0C

test_expect_success 'setup: alice and bob, one message from alice' '
	setup_pair &&
	thrum_in alice send "the real content" --to @bob >id &&
	sync_round alice bob
'

# bob's clone writes what it likes into its own shard and pushes it
test_expect_success 'bob reuses the message_id, claimed earlier, in his shard' '
	id=$(cat id) &&
	sd=$(sync_dir bob) &&
	echo "{\"agent_id\":\"alice\",\"body\":{\"content\":\"FORGED\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}F1\",\"message_id\":\"$id\",\"recipients\":[\"mallory\"],\"timestamp\":\"2020-01-01T00:00:00Z\",\"type\":\"message.create\",\"v\":1}" \
		>>"$sd/messages/bob.jsonl" &&
	sync_round bob alice
'

test_expect_success 'the message keeps its content, author and recipients' '
	id=$(cat id) &&
	thrum_in alice message show "$id" --json >m.json &&
	test "$(json_get m.json "$.message.body.content")" = "the real content" &&
	test "$(json_get m.json "$.message.agent_id")" = alice &&
	test "$(json_get m.json "$.message.recipients[0]")" = "@bob" &&
	thrum_in bob inbox --no-mark-read >inbox &&
	grep "the real content" inbox &&
	! grep FORGED inbox
'

test_expect_success 'the second create is a conflict, counted and shown by fsck' '
	id=$(cat id) &&
	thrum_in alice sync status --json >s.json &&
	test "$(json_get s.json "$.conflicts")" = 1 &&
	thrum_in alice fsck >out &&
	grep "^warning: log: $id: created again at messages/bob.jsonl:[0-9]* (a conflict; the create at messages/alice.jsonl:[0-9]* counts)$" out &&
	thrum_in alice rebuild --json >r.json &&
	test "$(json_get r.json "$.conflicts")" = 1 &&
	thrum_in alice message show "$id" --json >m.json &&
	test "$(json_get m.json "$.message.body.content")" = "the real content"
'

test_expect_success 'a body with \u0000 is skipped and listed, never cut short' '
	sd=$(sync_dir bob) &&
	echo "{\"agent_id\":\"bob\",\"body\":{\"content\":\"kept\\u0000cut\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}F3\",\"message_id\":\"msg_${E}F3\",\"recipients\":[\"alice\"],\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":\"message.create\",\"v\":1}" \
		>>"$sd/messages/bob.jsonl" &&
	sync_round bob alice &&
	thrum_in alice inbox --all --no-mark-read >inbox &&
	! grep kept inbox &&
	thrum_in alice fsck >out &&
	grep "^warning: log: messages/bob.jsonl:[0-9]*: skipped line (\\\\u0000 in a string)$" out
'

# a line signed by alice (a clock gone wrong, or her key in bob's hands)
# claims she registered in 2261 as "pinned"; alice registers again for
# real two days later, and then once more after a rebuild; an unsigned
# claim would not count at all (t5010)
test_expect_success 'a far-future registration does not pin the agent' '
	now=2030-01-01T10:00:00Z &&
	later=2030-01-03T10:00:00Z &&
	sd=$(sync_dir bob) &&
	echo "{\"agent_id\":\"alice\",\"event_id\":\"evt_${E}F2\",\"kind\":\"agent\",\"module\":\"m\",\"name\":\"alice\",\"role\":\"pinned\",\"timestamp\":\"2261-12-31T00:00:00Z\",\"type\":\"agent.register\",\"v\":1}" |
		"$SHARNESS_BUILD_DIRECTORY/tests/helper/test-sign" sign \
			alice/.thrum/identities/alice.key >>"$sd/events.jsonl" &&
	THRUM_TEST_NOW=$now sync_round bob alice &&
	THRUM_TEST_NOW=$now thrum_in alice agent list --json >a.json &&
	test "$(json_get a.json "$.agents[0].role")" = pinned &&
	THRUM_TEST_NOW=$later thrum_in alice quickstart --name alice \
		--role reviewer --module m >/dev/null &&
	THRUM_TEST_NOW=$later thrum_in alice agent list --json >a.json &&
	test "$(json_get a.json "$.agents[0].name")" = alice &&
	test "$(json_get a.json "$.agents[0].role")" = reviewer &&
	THRUM_TEST_NOW=$later thrum_in alice team >team &&
	grep "^alice  *reviewer " team &&
	THRUM_TEST_NOW=$later thrum_in alice rebuild >/dev/null &&
	THRUM_TEST_NOW=$later thrum_in alice agent list --json >a.json &&
	test "$(json_get a.json "$.agents[0].role")" = reviewer
'

test_done

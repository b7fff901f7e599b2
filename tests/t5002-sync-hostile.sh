#!/bin/sh
test_description='hostile content from the remote is skipped and counted, never trusted'
. ./lib-thrum.sh

E=01JKM4T2YQ8M3E5X6Z7A9B0C

test_expect_success 'setup: alice and bob, one message known to both' '
	setup_pair &&
	git -C bob config thrum.maxFileBytes 2000000 &&
	thrum_in alice send "the real content" >real &&
	sync_round alice bob &&
	git -C remote.git show a-sync:messages/alice.jsonl >alice.log &&
	grep "$(cat real)" alice.log | grep message.create |
		sed "s/.*\"event_id\":\"\\(evt_[0-9A-Z]*\\)\".*/\\1/" >real_event &&
	real_event=$(cat real_event) &&
	case "$real_event" in evt_*) ;; *) false ;; esac
'

# mallory pushes a commit with every kind of garbage, on top of a-sync
test_expect_success 'mallory pushes a hostile a-sync commit' '
	git clone -q remote.git mallory &&
	(
		cd mallory &&
		git fetch -q origin a-sync:a-sync &&
		base=$(git rev-parse a-sync) &&
		big=$(awk "BEGIN { for (i = 0; i < 50000; i++) print \"{\\\"pad\\\":\\\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\\\"}\" }" |
			git hash-object -w --stdin) &&
		link=$(printf /etc/passwd | git hash-object -w --stdin) &&
		nested=$(printf "{}\n" | git hash-object -w --stdin) &&
		readme=$(printf "hello\n" | git hash-object -w --stdin) &&
		{
			echo "{\"agent_id\":\"mallory\",\"body\":{\"content\":\"valid despite the garbage\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}M1\",\"message_id\":\"msg_${E}M1\",\"scopes\":[{\"type\":\"broadcast\",\"value\":\"everyone\"}],\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":\"message.create\",\"v\":1}" &&
			echo "garbage, not JSON" &&
			printf "{\"bad\":\"\377\376\"}\n" &&
			echo "{\"agent_id\":\"alice\",\"body\":{\"content\":\"FORGED\",\"format\":\"markdown\"},\"event_id\":\"$(cat ../real_event)\",\"message_id\":\"msg_${E}M2\",\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":\"message.create\",\"v\":1}" &&
			awk "BEGIN { printf \"{\\\"long\\\":\\\"\"; for (i = 0; i < 1100000; i++) printf \"a\"; print \"\\\"}\" }"
		} >mallory.jsonl &&
		mal=$(git hash-object -w mallory.jsonl) &&
		sub=$(git hash-object -w --stdin <../seed/.git/HEAD) &&
		git ls-tree a-sync:messages >msgs &&
		{
			cat msgs &&
			printf "100644 blob %s\tmallory.jsonl\n" $mal &&
			printf "120000 blob %s\tevil.jsonl\n" $link &&
			printf "160000 commit %s\tsub.jsonl\n" $base &&
			printf "100644 blob %s\tBad.jsonl\n" $nested &&
			printf "100644 blob %s\tx.txt\n" $nested &&
			printf "100644 blob %s\tbig.jsonl\n" $big &&
			printf "040000 tree %s\tnested\n" \
				$(printf "100644 blob %s\tx.jsonl\n" $nested | git mktree)
		} | git mktree >msgtree &&
		push_messages_tree $base $(cat msgtree) hostile \
			"100644 blob $readme	README" \
			"120000 blob $link	events.jsonl.lnk"
	)
'

test_expect_success 'bob syncs: the valid event arrives, the rest is counted' '
	sync_says bob "synced: 1 new event, 3 lines skipped, 8 tree entries skipped, 1 conflicting, committed, pushed" &&
	thrum_in bob sync status --json >s.json &&
	# lines: the garbage, the bad UTF-8, the over-long line; entries:
	# evil, sub, Bad, x.txt, big, nested, README, events.jsonl.lnk
	test "$(json_get s.json "$.skipped")" = 3 &&
	test "$(json_get s.json "$.skipped_entries")" = 8 &&
	test "$(json_get s.json "$.conflicts")" = 1 &&
	thrum_in bob inbox --no-mark-read >inbox &&
	grep "valid despite the garbage" inbox
'

test_expect_success 'nothing was followed or written outside the work tree' '
	sd=$(sync_dir bob) &&
	test_path_is_missing "$sd/messages/evil.jsonl" &&
	test_path_is_missing "$sd/README" &&
	test_path_is_missing "$sd/messages/big.jsonl" &&
	test_path_is_missing "$sd/messages/nested" &&
	test_path_is_missing "$sd/messages/Bad.jsonl" &&
	test_path_is_missing "$sd/messages/x.txt" &&
	! find "$sd" -type l | grep .
'

test_expect_success 'a known event cannot be redefined by a forgery' '
	thrum_in bob message show "$(cat real)" --no-mark-read >show &&
	grep "the real content" show &&
	! grep FORGED show
'

test_expect_success 'the over-long line was dropped, the garbage kept, never shown' '
	sd=$(sync_dir bob) &&
	! grep -q "\"long\"" "$sd/messages/mallory.jsonl" &&
	grep -x "garbage, not JSON" "$sd/messages/mallory.jsonl" &&
	thrum_in bob inbox --all --no-mark-read >all &&
	! grep "not JSON" all
'

test_expect_success 'bob commits only log files: the garbage entries go' '
	thrum_in bob send "after the attack" >/dev/null &&
	thrum_in bob sync force >out &&
	grep "pushed" out &&
	git -C remote.git ls-tree -r --name-only a-sync >names &&
	! grep -e README -e evil -e nested -e big -e Bad -e x.txt -e sub names
'

test_expect_success 'sync keeps working: alice gets the message' '
	sync_says alice "synced: 2 new events, 2 lines skipped, 1 conflicting" &&
	thrum_in alice inbox --no-mark-read >inbox &&
	grep "after the attack" inbox &&
	grep "valid despite the garbage" inbox
'

test_expect_success 'a fresh clone of the attacked remote initialises safely' '
	git clone -q remote.git carol &&
	(cd carol && git thrum init >../out) &&
	grep "remote branch" out &&
	! find "$(sync_dir carol)" -type l | grep .
'

test_done

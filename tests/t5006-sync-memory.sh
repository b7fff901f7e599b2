#!/bin/sh
test_description='a hostile push of many files naming one big blob: memory follows one file'
. ./lib-thrum.sh

# AddressSanitizer's quarantine keeps freed memory by design: the bound
# is for the native build (make check runs it)
test "$(cat "$SHARNESS_BUILD_DIRECTORY/build/.current" 2>/dev/null)" = \
	build/default && test -x /usr/bin/time && test_set_prereq NATIVE

# push_many <prefix> <n> <lines>: mallory pushes messages/<prefix>01.jsonl
# ... <prefix><n>.jsonl, all naming one blob of <lines> 1000-byte events
# (a blob pushed once, named n times)
push_many() {
	(
		cd mallory &&
		git fetch -q origin a-sync &&
		perl -e '
			my $pad = "x" x 800;
			for my $i (1 .. $ARGV[0]) {
				printf "{\"agent_id\":\"mallory\",\"body\":{\"content\":\"%s\",\"format\":\"markdown\"},\"event_id\":\"evt_01JKM4T2YQ8M3E5X6Z%08d\",\"message_id\":\"msg_01JKM4T2YQ8M3E5X6Z%08d\",\"scopes\":[{\"type\":\"broadcast\",\"value\":\"everyone\"}],\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":\"message.create\",\"v\":1}\n", $pad, $i, $i
			}' "$3" >big.jsonl &&
		blob=$(git hash-object -w big.jsonl) &&
		{
			git ls-tree FETCH_HEAD:messages |
				grep -v "	$1[0-9]*.jsonl$" &&
			for n in $(seq 1 "$2")
			do
				printf "100644 blob %s\t%s%02d.jsonl\n" $blob "$1" $n
			done
		} | git mktree >msgtree &&
		push_messages_tree FETCH_HEAD $(cat msgtree) many
	)
}

# peak_kib <repo>: one sync cycle there; its peak RSS in KiB on stdout
peak_kib() {
	(cd "$1" && /usr/bin/time -f %M -o ../rss git-thrum sync force >../out) &&
	grep "^synced" out >/dev/null &&
	tail -n 1 rss
}

test_expect_success 'setup: alice and bob, and mallory with plain git' '
	setup_pair &&
	thrum_in alice send "alice before" >/dev/null &&
	sync_round alice bob &&
	git clone -q remote.git mallory
'

test_expect_success NATIVE 'the baseline: 12 files naming one small blob' '
	push_many s 12 10 &&
	peak_kib bob >small &&
	test "$(git -C bob ls-tree a-sync:messages | grep -c "	s[0-9]*.jsonl$")" = 12
'

# 12 x 8 MB named, 8 MB pushed: the merge holds one file at a time, and
# a clean file new to us is taken from the blob without a copy, so the
# peak stays near the baseline plus a few files, whatever the number of
# files (it was twelve and more): the projection applies one while it
# reads the next (projection-log.c) and parses up to 2 048 lines ahead
# (parse-ahead.c), which a loaded machine lets fill (25 MB quiet, 30 MB
# with two CPU hogs beside it, before and after the merge of all refs
# at once): three files allowed
test_expect_success NATIVE '12 new files naming one 8 MB blob stay within 3 x 8 MB' '
	push_many m 12 8000 &&
	peak_kib bob >big &&
	echo "peak RSS: $(cat small) KiB, then $(cat big) KiB" &&
	test "$(cat big)" -le $(( $(cat small) + 3 * 8 * 1024 )) &&
	# (the first 10 events were the small blob)
	grep "^synced: 7990 new events" out
'

test_expect_success NATIVE 'every file arrived whole, byte for byte as the remote holds it' '
	sd=$(sync_dir bob) &&
	for n in 01 06 12
	do
		test_cmp mallory/big.jsonl "$sd/messages/m$n.jsonl" || return 1
	done &&
	thrum_in alice sync force >out &&
	grep "^synced: 8000 new events" out
'

# the same names again, each with 8 MB more than we hold: a real merge
# of each file (ours, theirs, the merged and the new lines)
test_expect_success NATIVE 'the same 12 files grown by 8 MB stay within 4 x 16 MB' '
	push_many m 12 16000 &&
	peak_kib bob >grown &&
	echo "peak RSS: $(cat small) KiB, then $(cat grown) KiB" &&
	test "$(cat grown)" -le $(( $(cat small) + 4 * 16 * 1024 )) &&
	grep "^synced: 8000 new events" out &&
	test_cmp mallory/big.jsonl "$(sync_dir bob)/messages/m07.jsonl"
'

test_done

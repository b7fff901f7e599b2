#!/bin/sh
test_description='commits, trees and config that would stop sync: read leniently, never written'
. ./lib-thrum.sh

E=01JKM4T2YQ8M3E5X6Z7A9B0C

# ev <n> <agent> <content>: one message.create line
ev() {
	echo "{\"agent_id\":\"$2\",\"body\":{\"content\":\"$3\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}$1\",\"message_id\":\"msg_${E}$1\",\"scopes\":[{\"type\":\"broadcast\",\"value\":\"everyone\"}],\"timestamp\":\"2026-02-03T10:00:00Z\",\"type\":\"message.create\",\"v\":1}"
}

# hostile_commit <tree> <parent>: a commit whose author line has no
# e-mail, which git reads (and only warns about in fsck)
hostile_commit() {
	printf "tree %s\nparent %s\nauthor Evil 1700000000 +0000\ncommitter Evil 1700000000 +0000\n\nno e-mail\n" "$1" "$2" |
		git hash-object -t commit -w --literally --stdin
}

test_expect_success 'setup: alice and bob, and mallory with plain git' '
	setup_pair &&
	thrum_in alice send "alice before" >/dev/null &&
	sync_round alice bob &&
	git clone -q remote.git mallory &&
	git -C mallory fetch -q origin a-sync:a-sync
'

test_expect_success 'mallory pushes a commit with an author git reads but libgit2 does not' '
	(
		cd mallory &&
		ev M1 mallory "sent under a bad author" >m.jsonl &&
		blob=$(git hash-object -w m.jsonl) &&
		git ls-tree a-sync:messages >msgs &&
		{
			cat msgs &&
			printf "100644 blob %s\tmallory.jsonl\n" $blob
		} | git mktree >msgtree &&
		tree=$(with_messages a-sync $(cat msgtree)) &&
		commit=$(hostile_commit $tree $(git rev-parse a-sync)) &&
		git log -1 $commit >/dev/null &&
		git push -q origin $commit:refs/heads/a-sync &&
		echo $commit >../hostile
	)
'

test_expect_success 'bob syncs, gets the message and builds on the commit' '
	thrum_in bob send "bob after the bad commit" >/dev/null &&
	sync_says bob "synced: 1 new event, committed, pushed" &&
	thrum_in bob inbox --no-mark-read >inbox &&
	grep "sent under a bad author" inbox &&
	test "$(git -C bob rev-parse a-sync^)" = "$(cat hostile)" &&
	test "$(git -C remote.git rev-parse a-sync)" = "$(git -C bob rev-parse a-sync)"
'

test_expect_success 'alice syncs too, and again, without an error' '
	sync_says alice "synced: 2 new events" &&
	sync_says alice "synced: 0 new events" &&
	thrum_in alice inbox --no-mark-read >inbox &&
	grep "sent under a bad author" inbox &&
	grep "bob after the bad commit" inbox &&
	thrum_in alice sync status --json >s.json &&
	test "$(json_get s.json "$.state")" = synced
'

test_expect_success 'ahead and behind are counted through such a commit' '
	(
		cd mallory &&
		git fetch -q origin a-sync &&
		commit=$(hostile_commit $(git rev-parse FETCH_HEAD^{tree}) $(git rev-parse FETCH_HEAD)) &&
		git push -q origin $commit:refs/heads/a-sync &&
		commit=$(hostile_commit $(git rev-parse FETCH_HEAD^{tree}) $commit) &&
		git push -q origin $commit:refs/heads/a-sync
	) &&
	git -C bob -c core.hooksPath=/dev/null fetch -q origin &&
	thrum_in bob send "bob, local only" >/dev/null &&
	(cd bob && THRUM_LOCAL_ONLY=1 git thrum sync force >../out 2>../err) &&
	grep "^local-only" out &&
	test_must_be_empty err &&
	thrum_in bob sync status --json >s.json &&
	test "$(json_get s.json "$.ahead")" = 1 &&
	test "$(json_get s.json "$.behind")" = 0 &&
	git -C bob -c core.hooksPath=/dev/null fetch -q origin &&
	git -C bob update-ref refs/heads/a-sync a-sync~1 &&
	(cd bob && THRUM_LOCAL_ONLY=1 git thrum sync force >../out 2>../err) &&
	test_must_be_empty err &&
	thrum_in bob sync status --json >s.json &&
	test "$(json_get s.json "$.ahead")" = 1 &&
	test "$(json_get s.json "$.behind")" = 0
'

test_expect_success 'a fresh clone takes a-sync from a remote whose tip has such an author' '
	(
		cd mallory &&
		git fetch -q origin a-sync &&
		commit=$(hostile_commit $(git rev-parse FETCH_HEAD^{tree}) $(git rev-parse FETCH_HEAD)) &&
		git push -q origin $commit:refs/heads/a-sync
	) &&
	git clone -q remote.git carol &&
	(cd carol && git thrum init >../out) &&
	grep "remote branch" out &&
	git -C carol config thrum.localOnly false &&
	(cd carol && git thrum quickstart --name carol --role r --module m >/dev/null) &&
	sync_says carol "synced: 0 new events, committed, pushed" &&
	thrum_in carol inbox --no-mark-read >inbox &&
	grep "sent under a bad author" inbox
'

# raw_tree <mode> <name> <blob> ...: a tree object written as given, in
# that order, duplicates and all (git mktree would refuse it)
raw_tree() {
	perl -e '
		my $out = "";
		while (@ARGV) {
			my ($mode, $name, $hex) = splice(@ARGV, 0, 3);
			$out .= "$mode $name\0" . pack("H40", $hex);
		}
		print $out;
	' "$@" | git hash-object -t tree -w --literally --stdin
}

test_expect_success 'mallory pushes a tree naming messages/alice.jsonl three times' '
	(
		cd mallory &&
		git fetch -q origin a-sync &&
		base=$(git rev-parse FETCH_HEAD) &&
		git show FETCH_HEAD:messages/alice.jsonl >alice.jsonl &&
		first=$(git hash-object -w alice.jsonl) &&
		ev D2 alice "from the second alice.jsonl" >>alice.jsonl &&
		second=$(git hash-object -w alice.jsonl) &&
		ev D1 mallory "next to the duplicates" >m.jsonl &&
		mal=$(git hash-object -w m.jsonl) &&
		msgs=$(raw_tree 100644 alice.jsonl $first \
			100644 alice.jsonl $second 100644 alice.jsonl $second \
			100644 mallory.jsonl $mal) &&
		git ls-tree -r $msgs >listing &&
		test_line_count = 4 listing &&
		push_messages_tree $base $msgs dups
	)
'

test_expect_success 'alice syncs: the first entry counts, the others are skipped' '
	sync_says alice "synced: 3 new events, 2 tree entries skipped, committed, pushed" &&
	thrum_in alice inbox --no-mark-read >inbox &&
	grep "next to the duplicates" inbox &&
	! grep "from the second alice.jsonl" inbox &&
	thrum_in alice sync status --json >s.json &&
	test "$(json_get s.json "$.skipped_entries")" = 2 &&
	sync_says alice "synced: 0 new events" &&
	git -C remote.git ls-tree a-sync:messages >listing &&
	test "$(grep -c "	alice.jsonl$" listing)" = 1
'

test_expect_success 'sync status and fsck count the same skipped lines' '
	(cd alice && git thrum fsck >../fsck.before 2>&1) || : &&
	! grep unparseable fsck.before &&
	(
		cd mallory &&
		git fetch -q origin a-sync &&
		awk "BEGIN { for (i = 0; i < 100001; i++) print \"x\" }" >g.jsonl &&
		ev G1 garbage "one good line" >>g.jsonl &&
		blob=$(git hash-object -w g.jsonl) &&
		git ls-tree FETCH_HEAD:messages >msgs &&
		{
			cat msgs &&
			printf "100644 blob %s\tgarbage.jsonl\n" $blob &&
			printf "100644 blob %s\tnot-a-log.txt\n" $blob
		} | git mktree >msgtree &&
		push_messages_tree FETCH_HEAD $(cat msgtree) garbage
	) &&
	thrum_in alice sync force >out &&
	grep "^synced: 1 new event, 100001 lines skipped, 1 tree entry skipped, committed, pushed$" out &&
	thrum_in alice sync status --json >s.json &&
	test "$(json_get s.json "$.skipped")" = 100001 &&
	test "$(json_get s.json "$.skipped_entries")" = 1 &&
	thrum_in alice sync status >status &&
	grep "^last cycle: 1 new, 100001 lines and 1 tree entries skipped, 0 conflicting$" status &&
	(cd alice && git thrum fsck >../fsck.after 2>&1) || : &&
	grep "100001 unparseable lines kept in the log" fsck.after
'

test_expect_success 'a cycle that cannot reach the remote commits once, then nothing' '
	sync_round alice bob &&
	thrum_in alice send "waits for the network" >/dev/null &&
	test_when_finished "git -C alice remote set-url origin \"$(pwd)/remote.git\"" &&
	git -C alice remote set-url origin "$(pwd)/nowhere.git" &&
	{ thrum_in alice sync force >out 2>&1 || :; } &&
	grep committed out &&
	git -C alice rev-parse a-sync >tip &&
	git -C alice reflog show --format=%H refs/heads/a-sync >reflog &&
	for i in 2 3 4 5
	do
		{ thrum_in alice sync force >out 2>&1 || :; } &&
		! grep committed out &&
		git -C alice rev-parse a-sync >now &&
		test_cmp tip now &&
		git -C alice reflog show --format=%H refs/heads/a-sync >now &&
		test_cmp reflog now || return 1
	done &&
	git -C alice remote set-url origin "$(pwd)/remote.git" &&
	thrum_in alice sync force >out &&
	grep "^synced.*pushed" out &&
	test "$(git -C remote.git rev-parse a-sync)" = "$(cat tip)"
'

test_expect_success 'a cycle whose push fails commits nothing new either' '
	thrum_in alice send "waits for a push" >/dev/null &&
	test_when_finished "rm -f remote.git/hooks/pre-receive" &&
	printf "#!/bin/sh\nexit 1\n" >remote.git/hooks/pre-receive &&
	chmod +x remote.git/hooks/pre-receive &&
	{ thrum_in alice sync force >out 2>&1 || :; } &&
	grep committed out &&
	git -C alice rev-parse a-sync >tip &&
	{ thrum_in alice sync force >out 2>&1 || :; } &&
	! grep committed out &&
	git -C alice rev-parse a-sync >now &&
	test_cmp tip now
'

test_expect_success 'a thrum.commitAuthor that would write such a commit is refused' '
	thrum_in alice send "waiting for a good author" >/dev/null &&
	git -C alice rev-parse a-sync >before &&
	for bad in "$(printf "a\\nb <c>")" "$(printf "a <b>\\nc")" \
		"a <b> <c>" "a <b>c" "<a@b>" "a b@c" "a >b<" "a <<b>"
	do
		(cd alice && test_expect_code 1 \
			git -c thrum.commitAuthor="$bad" thrum sync force \
			>../out 2>../err) &&
		test_must_be_empty out &&
		test_line_count = 1 err &&
		grep "^error: bad value for .thrum.commitAuthor. (from git): " err ||
		return 1
	done &&
	git -C alice rev-parse a-sync >after &&
	test_cmp before after
'

test_expect_success 'a good thrum.commitAuthor is used' '
	(cd alice && git -c thrum.commitAuthor="Good Name <good@example.com>" \
		thrum sync force >../out) &&
	grep committed out &&
	git -C alice log -1 --format="%an <%ae>|%cn <%ce>" a-sync >actual &&
	echo "Good Name <good@example.com>|Good Name <good@example.com>" >expect &&
	test_cmp expect actual
'

test_done

#!/bin/sh
test_description='fsck finds what is broken and names the fix; init --force repairs'
. ./lib-thrum.sh

# log_warnings: what fsck says of the log once it holds the bad line and
# the conflicting one (whose event id is in the file eid)
log_warnings() {
	cat <<-EOF
	warning: log: messages/alice.jsonl:3: skipped line (not valid JSON)
	warning: log: $(cat eid): two different lines, messages/alice.jsonl:1 and messages/alice.jsonl:4 (the first one seen counts)
	warning: log: 1 unparseable line kept in the log and never shown
	warning: log: 1 line out of (instant, event_id) order; harmless
	EOF
}

test_expect_success 'setup' '
	thrum_repo repo alice impl &&
	(cd repo && git thrum send "one" >/dev/null &&
	 git thrum send "two" >/dev/null)
'

test_expect_success 'a healthy repository: ok, exit 0' '
	(cd repo && git thrum fsck >../out) &&
	echo "ok: no errors" >expect &&
	test_cmp expect out &&
	(cd repo && git thrum fsck --json >../f.json) &&
	test "$(json_get f.json "$.ok")" = 1
'

test_expect_success 'skipped lines are listed with file:line' '
	sd=$(sync_dir repo) &&
	echo "not an event" >>"$sd/messages/alice.jsonl" &&
	(cd repo && git thrum fsck >../out) &&
	cat >expect <<-EOF &&
	warning: log: messages/alice.jsonl:3: skipped line (not valid JSON)
	warning: log: 1 unparseable line kept in the log and never shown
	ok: no errors (see the warnings)
	EOF
	test_cmp expect out
'

test_expect_success 'a conflicting event id is named' '
	sd=$(sync_dir repo) &&
	line=$(head -n 1 "$sd/messages/alice.jsonl") &&
	echo "$line" | sed "s/\"content\":\"one\"/\"content\":\"FORGED\"/" \
		>>"$sd/messages/alice.jsonl" &&
	echo "$line" | sed "s/.*\"event_id\":\"\([^\"]*\)\".*/\1/" >eid &&
	(cd repo && git thrum fsck >../out) &&
	{ log_warnings && echo "ok: no errors (see the warnings)"; } >expect &&
	test_cmp expect out
'

test_expect_success 'a database that lost rows: error, fix rebuild' '
	sqlite3 repo/.thrum/var/messages.db "DELETE FROM messages;" &&
	(cd repo && test_must_fail git thrum fsck >../out) &&
	{
		log_warnings &&
		echo "error: database: 0 messages in the database, 2 in the log" &&
		echo "  fix: git thrum rebuild"
	} >expect &&
	test_cmp expect out &&
	(cd repo && git thrum rebuild >/dev/null && git thrum fsck >../out) &&
	{ log_warnings && echo "ok: no errors (see the warnings)"; } >expect &&
	test_cmp expect out
'

test_expect_success 'a removed hook: error, fix hooks install' '
	hook="$(cd repo && git rev-parse --path-format=absolute --git-path hooks)/pre-push" &&
	rm "$hook" &&
	(cd repo && test_must_fail git thrum fsck >../out) &&
	{
		echo "error: hooks: pre-push: missing ($hook)" &&
		echo "  fix: git thrum hooks install" &&
		log_warnings
	} >expect &&
	test_cmp expect out &&
	(cd repo && git thrum hooks install >/dev/null && git thrum fsck \
		>/dev/null)
'

test_expect_success 'a broken sync work tree: error, fix init --force' '
	sd=$(sync_dir repo) &&
	mv "$sd/.git" "$sd/.git.moved" &&
	(cd repo && test_must_fail git thrum fsck >../out) &&
	cat >expect <<-EOF &&
	error: sync work tree: '\''$sd/.git'\'' is not a file
	  fix: git thrum init --force
	EOF
	test_cmp expect out &&
	mv "$sd/.git.moved" "$sd/.git"
'

test_expect_success 'init --force: the sync work tree on another branch' '
	sd=$(sync_dir repo) &&
	(cd repo && git thrum send "three, not committed" >/dev/null) &&
	before=$(count_lines "$sd/messages/alice.jsonl") &&
	git -C "$sd" -c core.hooksPath=/dev/null checkout -q -b elsewhere &&
	(cd repo && test_must_fail git thrum inbox 2>../err) &&
	grep "not a-sync" err &&
	(cd repo && git thrum init --force >/dev/null) &&
	test "$(git -C "$sd" symbolic-ref HEAD)" = refs/heads/a-sync &&
	test "$(count_lines "$sd/messages/alice.jsonl")" = "$before" &&
	(cd repo && git thrum inbox --all --no-mark-read >../inbox) &&
	grep "three, not committed" inbox
'

test_expect_success 'init --force: a moved repository' '
	(cd repo && git thrum send "four, before the move" >/dev/null) &&
	mv repo moved &&
	(cd moved && test_must_fail git thrum inbox 2>../err) &&
	grep "init --force" err &&
	(cd moved && git thrum init --force >/dev/null &&
	 git thrum inbox --all --no-mark-read >../inbox) &&
	grep "four, before the move" inbox &&
	grep "^    one$" inbox &&
	git -C moved worktree list --porcelain >list &&
	grep "moved/.git/thrum-sync/a-sync" list &&
	(cd moved && git thrum fsck >/dev/null)
'

test_done

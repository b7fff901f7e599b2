#!/bin/sh
test_description='search: ranked full-text search of current content, on two synced clones'
. ./lib-thrum.sh

command -v script >/dev/null && test_set_prereq TTY
on_tty() {
	script -qec "TERM=xterm $1" /dev/null </dev/null | tr -d '\r'
}
esc=$(printf '\033')

# search_is <repo> <args...>: what `git thrum search <args>` prints in
# <repo> (as its one agent), ages written "<age>", is the text on stdin
search_is() {
	test_inbox thrum_in "$@"
}

# id_of <file>: the message id a send printed
id_of() {
	cat "$1"
}

test_expect_success 'setup: two clones, carol beside alice' '
	setup_pair &&
	thrum_in alice quickstart --name carol --role carol-role \
		--module m >/dev/null &&
	(cd alice && THRUM_NAME=alice git thrum send \
		"login rework: the login form, the login API and login tests" \
		--to @bob) >m.many &&
	(cd alice && THRUM_NAME=alice git thrum send \
		"a long note: first we moved the database, then we reworked the cache, then the login page, and at last we rewrote every one of the remaining scripts by hand" \
		--to @bob) >m.long &&
	(cd alice && THRUM_NAME=alice git thrum send \
		"the login is slow on foo-bar hosts" --to @bob) >m.dash &&
	(cd alice && THRUM_NAME=alice git thrum send \
		"login notes for carol only" --to @carol) >m.carol &&
	(cd alice && THRUM_NAME=carol git thrum send \
		"carol says login works for everyone") >m.bcast &&
	sync_round alice bob
'

test_expect_success 'ranked by relevance, snippets, only what is addressed to me' '
	search_is bob search login <<-EOF
	$(id_of m.many)  from alice  <age>
	    login rework: the login form, the login API and login tests
	$(id_of m.bcast)  from carol  <age>
	    carol says login works for everyone
	$(id_of m.dash)  from alice  <age>
	    the login is slow on foo-bar hosts
	$(id_of m.long)  from alice  <age>
	    ...first we moved the database, then we reworked the cache, then the login page, and at...
	EOF
'

test_expect_success '--all: every message; --limit keeps the best' '
	search_is bob search login --all --limit 2 <<-EOF &&
	$(id_of m.many)  from alice  <age>
	    login rework: the login form, the login API and login tests
	$(id_of m.carol)  from alice  <age>
	    login notes for carol only
	EOF
	(cd alice && THRUM_NAME=alice git thrum search login) >out &&
	echo "$(id_of m.bcast)  from carol  <age>" >expect &&
	without_age out | head -n 1 >actual &&
	test_cmp expect actual &&
	test_line_count = 2 out
'

test_expect_success 'words are words: foo-bar, quotes, OR, NEAR( are no FTS5 syntax' '
	search_is bob search foo-bar <<-EOF &&
	$(id_of m.dash)  from alice  <age>
	    the login is slow on foo-bar hosts
	EOF
	search_is bob search "\"foo" "bar\"" <<-EOF &&
	$(id_of m.dash)  from alice  <age>
	    the login is slow on foo-bar hosts
	EOF
	search_is bob search "slow" "(hosts" "*" <<-EOF &&
	$(id_of m.dash)  from alice  <age>
	    the login is slow on foo-bar hosts
	EOF
	search_is bob search "rewo*" <<-EOF &&
	$(id_of m.many)  from alice  <age>
	    login rework: the login form, the login API and login tests
	$(id_of m.long)  from alice  <age>
	    ...first we moved the database, then we reworked the cache, then the login page, and at...
	EOF
	echo "no messages" >expect &&
	thrum_in bob search "no-such-word" >out &&
	test_cmp expect out &&
	thrum_in bob search "NEAR(login" >out &&
	test_cmp expect out &&
	thrum_in bob search API OR form >out &&
	test_cmp expect out &&
	search_is bob search --raw "API OR form" <<-EOF
	$(id_of m.many)  from alice  <age>
	    login rework: the login form, the login API and login tests
	EOF
'

test_expect_success '--from and --since' '
	search_is bob search login --from @carol <<-EOF &&
	$(id_of m.bcast)  from carol  <age>
	    carol says login works for everyone
	EOF
	echo "no messages" >expect &&
	thrum_in bob search login --since 2200-01-01 >out &&
	test_cmp expect out &&
	thrum_in bob search login --since 2000-01-01 >out &&
	test_line_count = 8 out &&
	thrum_in bob search login --since 2000-01-01T00:00:00Z >out2 &&
	without_age out >a1 &&
	without_age out2 >a2 &&
	test_cmp a1 a2
'

test_expect_success '--json: the messages, best first, with a plain snippet' '
	thrum_in bob search login --limit 1 --json >s.json &&
	json_valid s.json &&
	test "$(json_get s.json "$.messages[0].message_id")" = "$(id_of m.many)" &&
	test "$(json_get s.json "$.messages[0].agent_id")" = alice &&
	test "$(json_get s.json "$.messages[0].snippet")" = \
		"login rework: the login form, the login API and login tests" &&
	test "$(sqlite3 :memory: "SELECT json_array_length(readfile('\''s.json'\''), '\''$.messages'\'')")" = 1
'

test_expect_success 'an edit replaces the indexed text, after sync' '
	id=$(id_of m.dash) &&
	(cd alice && THRUM_NAME=alice git thrum message edit "$id" \
		"the signup is slow on baz hosts") >/dev/null &&
	sync_round alice bob &&
	search_is bob search baz <<-EOF &&
	$(id_of m.dash)  from alice  <age> (edited)
	    the signup is slow on baz hosts
	EOF
	echo "no messages" >expect &&
	thrum_in bob search foo-bar >out &&
	test_cmp expect out
'

test_expect_success 'a delete removes it, after sync' '
	id=$(id_of m.many) &&
	(cd alice && THRUM_NAME=alice git thrum message delete "$id") >/dev/null &&
	sync_round alice bob &&
	search_is bob search login <<-EOF
	$(id_of m.bcast)  from carol  <age>
	    carol says login works for everyone
	$(id_of m.long)  from alice  <age>
	    ...first we moved the database, then we reworked the cache, then the login page, and at...
	EOF
'

test_expect_success 'the same answers after rebuild' '
	for q in login baz foo-bar rework "rewo*"
	do
		thrum_in bob search --all "$q" >out &&
		without_age out >"before.$q" || return 1
	done &&
	thrum_in bob rebuild >/dev/null &&
	for q in login baz foo-bar rework "rewo*"
	do
		thrum_in bob search --all "$q" >out &&
		without_age out >"after.$q" &&
		test_cmp "before.$q" "after.$q" || return 1
	done &&
	# the index itself holds nothing more than the answers show
	thrum_in bob search --all login --json >all.json &&
	sqlite3 :memory: "SELECT json_array_length(readfile('\''all.json'\''), '\''$.messages'\'')" >expect &&
	echo 3 >three &&
	test_cmp three expect &&
	sqlite3 bob/.thrum/var/messages.db \
		"SELECT count(*) FROM search WHERE search MATCH '\''login'\''" >actual &&
	test_cmp expect actual
'

test_expect_success 'after a rebuild, edits are followed as before' '
	id=$(id_of m.long) &&
	(cd alice && THRUM_NAME=alice git thrum message edit "$id" \
		"a short note on quokkas") >/dev/null &&
	sync_round alice bob &&
	search_is bob search quokkas <<-EOF &&
	$(id_of m.long)  from alice  <age> (edited)
	    a short note on quokkas
	EOF
	echo "no messages" >expect &&
	thrum_in bob search reworked >out &&
	test_cmp expect out
'

test_expect_success 'text from the log is escaped in snippets' '
	(cd alice && THRUM_NAME=alice git thrum send \
		"$(printf "zebra \033[31mred\033[m stripes")" --to @bob) >m.esc &&
	sync_round alice bob &&
	thrum_in bob search zebra >out &&
	! grep "$esc" out &&
	grep -F "    zebra \\e[31mred\\e[m stripes" out
'

test_expect_success TTY 'hits highlighted on a terminal only' '
	(cd bob && on_tty "GIT_PAGER=cat git thrum search zebra") >out &&
	grep -F "${esc}[1;31mzebra${esc}[m \\e[31mred" out &&
	(cd bob && on_tty "NO_COLOR=1 GIT_PAGER=cat git thrum search zebra") >out &&
	grep "zebra" out &&
	! grep "$esc" out
'

test_expect_success 'bad input: one line, exit 129' '
	test_expect_code 129 thrum_in bob search 2>err &&
	echo "error: nothing to search for" >expect &&
	head -n 1 err >first &&
	test_cmp expect first &&
	test_expect_code 129 thrum_in bob search login --since yesterday 2>err &&
	echo "error: invalid date '\''yesterday'\'' for --since (want YYYY-MM-DD or an RFC 3339 date-time)" >expect &&
	head -n 1 err >first &&
	test_cmp expect first &&
	test_expect_code 129 thrum_in bob search "  " 2>err &&
	echo "error: no word to search for in '\''  '\''" >expect &&
	test_cmp expect err &&
	test_expect_code 129 thrum_in bob search --raw "login AND (" 2>err &&
	echo "error: invalid search query '\''login AND ('\'': fts5: syntax error near \"\"" >expect &&
	test_cmp expect err
'

test_expect_success '--raw: FTS5 syntax' '
	search_is bob search --raw "zebra OR signup" <<-EOF
	$(id_of m.esc)  from alice  <age>
	    zebra \\e[31mred\\e[m stripes
	$(id_of m.dash)  from alice  <age> (edited)
	    the signup is slow on baz hosts
	EOF
'

# FTS5 writes a segment at the end of every statement that indexes a
# message; merging them at each one (automerge) made a catch-up cost
# what the whole index weighs.  Off, in a new database and after a
# rebuild; the crisis merge keeps the segments few, and 40 messages
# indexed one by one are all found.
test_expect_success 'the index merges no segment at each message' '
	for d in alice bob
	do
		echo 0 >expect &&
		sqlite3 $d/.thrum/var/messages.db \
			"SELECT v FROM search_config WHERE k = '\''automerge'\''" >actual &&
		test_cmp expect actual || return 1
	done &&
	thrum_in bob rebuild >/dev/null &&
	sqlite3 bob/.thrum/var/messages.db \
		"SELECT v FROM search_config WHERE k = '\''automerge'\''" >actual &&
	test_cmp expect actual &&
	i=0 &&
	while test $i -lt 40
	do
		i=$((i + 1)) &&
		(cd alice && THRUM_NAME=alice git thrum send "wombat $i" \
			--to @bob) >/dev/null || return 1
	done &&
	sync_round alice bob &&
	thrum_in bob search --all --limit 100 --json wombat >w.json &&
	echo 40 >expect &&
	sqlite3 :memory: "SELECT json_array_length(readfile('\''w.json'\''), '\''$.messages'\'')" >actual &&
	test_cmp expect actual
'

test_done

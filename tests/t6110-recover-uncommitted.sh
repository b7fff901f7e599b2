#!/bin/sh
test_description='init --force writes back the events a deleted sync work tree held and a-sync did not'
. ./lib-thrum.sh

test_expect_success 'setup: local only, one cycle, then three messages' '
	thrum_repo repo alice impl &&
	thrum_in repo sync force >/dev/null &&
	thrum_in repo send "committed one" >/dev/null &&
	thrum_in repo sync force >/dev/null &&
	for i in 1 2 3
	do
		thrum_in repo send "pending $i" >/dev/null || return 1
	done &&
	thrum_in repo inbox --all --no-mark-read >/dev/null &&
	sd=$(sync_dir repo) &&
	cp "$sd/messages/alice.jsonl" before.log
'

test_expect_success 'the sync work tree is deleted: init --force restores all' '
	sd=$(sync_dir repo) &&
	rm -rf "$sd" &&
	thrum_in repo init --force >/dev/null &&
	test_cmp before.log "$sd/messages/alice.jsonl" &&
	thrum_in repo inbox --all --no-mark-read >inbox &&
	for i in 1 2 3
	do
		test "$(grep -c "^    pending $i\$" inbox)" = 1 || return 1
	done &&
	grep "^    committed one\$" inbox &&
	thrum_in repo fsck >out &&
	grep "^ok: no errors" out &&
	! grep duplicate out
'

test_expect_success 'init --force again adds nothing' '
	sd=$(sync_dir repo) &&
	thrum_in repo init --force >/dev/null &&
	test_cmp before.log "$sd/messages/alice.jsonl"
'

test_expect_success 'once committed, the lines are no longer kept' '
	thrum_in repo sync force >/dev/null &&
	thrum_in repo send "after the commit" >/dev/null &&
	thrum_in repo inbox --all --no-mark-read >/dev/null &&
	test "$(sqlite3 repo/.thrum/var/messages.db \
		"SELECT COUNT(*) FROM pending")" = 1 &&
	sqlite3 repo/.thrum/var/messages.db "SELECT line FROM pending" >p &&
	grep "after the commit" p
'

test_expect_success 'a rebuild keeps them; deleted again, they come back' '
	thrum_in repo rebuild >/dev/null &&
	sd=$(sync_dir repo) &&
	cp "$sd/messages/alice.jsonl" before.log &&
	rm -rf "$sd" &&
	thrum_in repo init --force >/dev/null &&
	test_cmp before.log "$sd/messages/alice.jsonl"
'

test_expect_success 'no cycle ever ran: all is restored too' '
	thrum_repo fresh alice impl &&
	for i in 1 2 3
	do
		thrum_in fresh send "never committed $i" >/dev/null || return 1
	done &&
	thrum_in fresh inbox --all --no-mark-read >/dev/null &&
	sd=$(sync_dir fresh) &&
	cat "$sd/events.jsonl" "$sd/messages/alice.jsonl" >before.log &&
	rm -rf "$sd" &&
	thrum_in fresh init --force >/dev/null &&
	cat "$sd/events.jsonl" "$sd/messages/alice.jsonl" >after.log &&
	test_cmp before.log after.log &&
	thrum_in fresh inbox --all --no-mark-read >inbox &&
	test "$(grep -c "^    never committed" inbox)" = 3
'

test_expect_success 'a new clone keeps none of the lines others wrote' '
	setup_pair &&
	thrum_in alice send "from alice" >/dev/null &&
	sync_round alice bob &&
	git clone -q remote.git carol &&
	(cd carol && git thrum init >/dev/null && git thrum fsck >/dev/null) &&
	test "$(sqlite3 carol/.thrum/var/messages.db \
		"SELECT COUNT(*) FROM messages")" -ge 1 &&
	test "$(sqlite3 carol/.thrum/var/messages.db \
		"SELECT COUNT(*) FROM pending")" = 0
'

test_done

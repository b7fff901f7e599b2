#!/bin/sh
test_description='send resolves names from the directory cache only while it is exact'
. ./lib-thrum.sh

cache=repo/.thrum/var/directory

# sent_without_db <agent> <args...>: send, and check that no statement ran
sent_without_db() {
	rm -f trace &&
	(who=$1 && shift && cd repo &&
	 THRUM_NAME=$who THRUM_TRACE_SQL=../trace git thrum send "$@") &&
	test_must_be_empty trace
}

test_expect_success 'setup' '
	thrum_repo repo &&
	(
		cd repo &&
		git thrum quickstart --name alice --role impl --module core &&
		git thrum quickstart --name bob --role review --module ui &&
		git thrum quickstart --name carol --role ops --module ci
	) >/dev/null &&
	as alice group create crew >/dev/null &&
	as alice group add crew @bob >/dev/null
'

test_expect_success 'the first send by name writes the cache' '
	rm -f $cache &&
	as alice send one --to @bob >/dev/null &&
	grep -x "a bob" $cache &&
	grep -x "g crew" $cache &&
	grep -x "r review" $cache &&
	tail -n 1 $cache >last &&
	echo end >expect &&
	test_cmp expect last
'

test_expect_success 'the next sends open no database: agent, group, role' '
	touch trace &&
	sent_without_db alice two --to @bob >/dev/null &&
	sent_without_db alice three --to @crew >/dev/null &&
	sent_without_db alice four --to @review,@bob >/dev/null &&
	as bob inbox --json --no-mark-read >out &&
	for b in two three four
	do
		grep "\"$b\"" out || return 1
	done
'

test_expect_success 'an unknown name is still an error' '
	test_must_fail as alice send x --to @nobody 2>err &&
	grep "unknown recipient @nobody" err
'

test_expect_success 'a name the cache lacks is looked up in the projection' '
	grep -vx "a bob" $cache >edited &&
	mv edited $cache &&
	as alice send five --to @bob >/dev/null &&
	as bob inbox --json --no-mark-read >out &&
	grep "\"five\"" out
'

test_expect_success 'a name removed by a line the projection has not read' '
	as alice send warm --to @carol >/dev/null &&
	grep -x "a carol" $cache &&
	as alice agent delete carol --yes >/dev/null &&
	test_must_fail as alice send gone --to @carol 2>err &&
	grep "unknown recipient @carol" err
'

# reg <role> <n>: an unsigned registration of olga as the original writes
reg() {
	printf '{"agent_id":"olga","event_id":"evt_01JKM4T2YQ8M3E5X6Z7A9B%s","kind":"agent","module":"nav","name":"olga","origin_daemon":"d_01JKM4T2YQ8M3E5X6Z7A9B99","role":"%s","sequence":%s,"timestamp":"2026-02-03T10:00:0%s.000Z","type":"agent.register","v":1}\n' \
		"0$2" "$1" "$2" "$2" >>"$(sync_dir repo)/events.jsonl"
}

test_expect_success 'a role gone with a line another writer appended' '
	reg pilot 1 &&
	as alice inbox >/dev/null &&
	as alice send warm --to @pilot >/dev/null &&
	grep -x "r pilot" $cache &&
	reg navigator 2 &&
	test_must_fail as alice send x --to @pilot 2>err &&
	grep "unknown recipient @pilot" err &&
	as alice send ok --to @navigator >/dev/null
'

test_expect_success 'a name that stops counting in a commit (allowedSigners)' '
	as alice send warm --to @bob >/dev/null &&
	grep -x "a bob" $cache &&
	key=$(sed -n "s/.*\"name\":\"alice\".*\"pubkey\":\"\([^\"]*\)\".*/\1/p" \
		"$(sync_dir repo)/events.jsonl" | head -n 1) &&
	test -n "$key" &&
	printf "alice %s\nbob %s\n" "$key" "$key" >repo/signers &&
	git -C repo config thrum.allowedSigners signers &&
	as alice inbox >/dev/null &&
	test_path_is_missing $cache &&
	test_must_fail as alice send x --to @bob 2>err &&
	grep "unknown recipient @bob" err &&
	git -C repo config --unset thrum.allowedSigners &&
	as alice inbox >/dev/null &&
	as alice send back --to @bob >/dev/null
'

test_expect_success 'a database put in the place of the one it describes' '
	as alice send warm --to @bob >/dev/null &&
	git -C repo config thrum.allowedSigners signers &&
	as alice inbox >/dev/null &&
	sqlite3 repo/.thrum/var/messages.db ".backup saved.db" &&
	git -C repo config --unset thrum.allowedSigners &&
	as alice inbox >/dev/null &&
	as alice send warm --to @bob >/dev/null &&
	grep -x "a bob" $cache &&
	(cd repo/.thrum/var && rm -f messages.db-wal messages.db-shm &&
	 mv ../../../saved.db messages.db) &&
	test_must_fail as alice send x --to @bob 2>err &&
	grep "unknown recipient @bob" err &&
	as alice rebuild >/dev/null &&
	as alice send back --to @bob >/dev/null
'

# a copy restored in the place of a removed database: ext4 gives the new
# file the freed inode, so the inode alone took it for the one the cache
# describes
test_expect_success 'a copy put where the database was removed' '
	git -C repo config thrum.allowedSigners signers &&
	as alice inbox >/dev/null &&
	sqlite3 repo/.thrum/var/messages.db ".backup saved.db" &&
	git -C repo config --unset thrum.allowedSigners &&
	as alice inbox >/dev/null &&
	as alice send warm --to @bob >/dev/null &&
	grep -x "a bob" $cache &&
	(cd repo/.thrum/var && rm messages.db &&
	 cp ../../../saved.db messages.db &&
	 rm -f messages.db-wal messages.db-shm) &&
	test_must_fail as alice send x --to @bob 2>err &&
	grep "unknown recipient @bob" err &&
	as alice rebuild >/dev/null &&
	as alice send back --to @bob >/dev/null
'

test_expect_success 'a damaged cache is not used, and is written again' '
	for bad in "" "thrum-directory 2" "cut short"
	do
		{ test -z "$bad" || echo "$bad"; } >$cache &&
		as alice send ok --to @bob >/dev/null &&
		tail -n 1 $cache >last &&
		echo end >expect &&
		test_cmp expect last || return 1
	done &&
	head -n 5 $cache >cut &&
	mv cut $cache &&
	as alice send ok --to @bob >/dev/null &&
	tail -n 1 $cache >last &&
	test_cmp expect last
'

# var/ is in the work tree, where a checkout puts whatever a commit
# tracks there: a symlink (to a FIFO, to /dev/zero, to a cache) is no
# cache, nor is a FIFO (one with a writer blocks a read), nor a file
# past 16 MiB (a cache of 250 000 names); each used to be read to its end
test_expect_success 'a cache that is not a regular file is not read' '
	as alice send warm --to @bob >/dev/null &&
	mkfifo fifo &&
	for how in symlink fifo writer
	do
		rm -f $cache &&
		case $how in
		symlink) ln -s "$PWD/fifo" $cache ;;
		*) mkfifo $cache ;;
		esac &&
		if test $how = writer
		then
			exec 9<>$cache
		fi &&
		(cd repo && THRUM_NAME=alice timeout 20 git thrum send ok \
			--to @bob) >/dev/null &&
		exec 9>&- &&
		test_path_is_file $cache &&
		! test -h $cache || return 1
	done
'

test_expect_success 'a symlink to a current cache is not used' '
	rm -f $cache &&
	as alice send warm --to @bob >/dev/null &&
	cp $cache copy &&
	ln -sf "$PWD/copy" $cache &&
	rm -f trace &&
	(cd repo && THRUM_NAME=alice THRUM_TRACE_SQL=../trace \
		git thrum send ok --to @bob) >/dev/null &&
	test -s trace &&
	! test -h $cache
'

test_expect_success 'a cache past 16 MiB is not read' '
	rm -f $cache &&
	as alice send warm --to @bob >/dev/null &&
	{
		head -n 4 $cache &&
		echo "a bob" &&
		awk "BEGIN { for (i = 0; i < 1600000; i++)
			printf \"a n%07d\\n\", i }" &&
		echo end
	} >big &&
	test $(wc -c <big) -gt 16777216 &&
	mv big $cache &&
	rm -f trace &&
	(cd repo && THRUM_NAME=alice THRUM_TRACE_SQL=../trace \
		git thrum send ok --to @bob) >/dev/null &&
	test -s trace &&
	test $(wc -c <$cache) -lt 4096
'

test_expect_success 'no cache is written while another process holds its lock' '
	rm -f $cache &&
	flock repo/.thrum/var/directory.lock sleep 3 &
	n=0 &&
	while flock -n repo/.thrum/var/directory.lock true
	do
		n=$((n + 1)) && test $n -lt 100 && sleep 0.05 || return 1
	done &&
	as alice send ok --to @bob >/dev/null &&
	test_path_is_missing $cache &&
	wait &&
	as alice send ok --to @bob >/dev/null &&
	test_path_is_file $cache
'

test_done

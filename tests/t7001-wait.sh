#!/bin/sh
test_description='git thrum wait: wakes on a local send, on a synced arrival; times out'
. ./lib-thrum.sh

test_expect_success 'setup' '
	setup_pair &&
	(cd bob && git thrum quickstart --name dave --role dave-role \
		--module m >/dev/null)
'

test_expect_success 'wait times out with exit 1' '
	(THRUM_NAME=bob && export THRUM_NAME &&
	 test_expect_code 1 thrum_in bob wait --timeout 1 2>err) &&
	grep "no message within 1 seconds" err
'

test_expect_success 'no daemon: a send from another process wakes it' '
	(THRUM_NAME=bob thrum_in bob wait --timeout 30 >out 2>err;
	 echo $? >rc) &
	wait_for 10 waiting $! &&
	THRUM_NAME=dave thrum_in bob send "from the same clone" --to @bob \
		>/dev/null &&
	wait_for 20 test -s rc &&
	test "$(cat rc)" = 0 &&
	grep "from the same clone" out
'

test_expect_success 'a message to someone else does not wake me' '
	rm -f rc out &&
	(THRUM_NAME=bob thrum_in bob wait --timeout 2 >out 2>err;
	 echo $? >rc) &
	wait_for 10 waiting $! &&
	THRUM_NAME=bob thrum_in bob send "to dave only" --to @dave >/dev/null &&
	wait_for 20 test -s rc &&
	test "$(cat rc)" = 1 &&
	test_must_be_empty out
'

test_expect_success 'wait --all wakes on any message, --json' '
	rm -f rc &&
	(THRUM_NAME=bob thrum_in bob wait --all --json --timeout 30 >out.json;
	 echo $? >rc) &
	wait_for 10 waiting $! &&
	THRUM_NAME=dave thrum_in bob send "to myself" --to @dave >/dev/null &&
	wait_for 20 test -s rc &&
	test "$(cat rc)" = 0 &&
	json_valid out.json &&
	test "$(json_get out.json "$.messages[0].body.content")" = "to myself"
'

test_expect_success 'no daemon: a plain git fetch wakes it' '
	rm -f rc out &&
	(THRUM_NAME=bob thrum_in bob wait --timeout 30 >out; echo $? >rc) &
	wait_for 10 waiting $! &&
	thrum_in alice send "fetched in" --to @bob >/dev/null &&
	thrum_in alice sync force >/dev/null &&
	git -C bob fetch -q &&
	wait_for 20 test -s rc &&
	test "$(cat rc)" = 0 &&
	grep "fetched in" out
'

test_expect_success 'with a daemon: a synced arrival wakes it' '
	git -C bob config thrum.syncInterval 1 &&
	thrum_in bob daemon start >/dev/null &&
	rm -f rc out &&
	(THRUM_NAME=bob thrum_in bob wait --timeout 30 >out; echo $? >rc) &
	wait_for 10 waiting $! &&
	thrum_in alice send "through the daemon" --to @bob >/dev/null &&
	thrum_in alice sync force >/dev/null &&
	wait_for 30 test -s rc &&
	test "$(cat rc)" = 0 &&
	grep "through the daemon" out
'

test_expect_success 'with a daemon: a local send wakes it, and it times out' '
	rm -f rc out &&
	(THRUM_NAME=bob thrum_in bob wait --timeout 30 >out; echo $? >rc) &
	wait_for 10 waiting $! &&
	THRUM_NAME=dave thrum_in bob send "local, daemon up" --to @bob \
		>/dev/null &&
	wait_for 20 test -s rc &&
	test "$(cat rc)" = 0 &&
	grep "local, daemon up" out &&
	(THRUM_NAME=bob && export THRUM_NAME &&
	 test_expect_code 1 thrum_in bob wait --timeout 1 2>/dev/null)
'

test_expect_success 'wait does not mark anything read' '
	THRUM_NAME=bob thrum_in bob inbox --unread >unread &&
	grep "local, daemon up" unread
'

test_expect_success 'stop the daemon' '
	thrum_in bob daemon stop >/dev/null
'

test_done

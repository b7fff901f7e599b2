#!/bin/sh
test_description='sync over smart HTTP (lighttpd + git-http-backend on 127.0.0.1)'
. ./lib-thrum.sh
. "$SHARNESS_TEST_SRCDIR"/lib-httpd.sh

if ! test_have_prereq HTTPD
then
	skip_all="lighttpd is not installed (apt-get install lighttpd)"
	test_done
fi

test_expect_success 'start a smart HTTP server' '
	start_httpd &&
	git init -q --bare remote.git &&
	git -C remote.git config http.receivepack true &&
	git ls-remote "$HTTPD_URL/remote.git" >/dev/null
'

test_expect_success 'two clones over HTTP' '
	new_repo seed &&
	git -C seed push -q "$HTTPD_URL/remote.git" main &&
	for who in alice bob
	do
		git clone -q "$HTTPD_URL/remote.git" $who &&
		git -C $who config thrum.localOnly false &&
		(cd $who && git thrum init >/dev/null &&
		 git thrum quickstart --name $who --role r --module m \
			>/dev/null) || return 1
	done &&
	sync_round alice bob &&
	git -C remote.git show a-sync:events.jsonl >ev &&
	grep "\"name\":\"alice\"" ev &&
	grep "\"name\":\"bob\"" ev
'

test_expect_success 'messages and replies cross over HTTP' '
	thrum_in alice send "over http" --to @bob >id &&
	thrum_in alice sync force >out &&
	grep "^synced.*pushed" out &&
	thrum_in bob sync force >/dev/null &&
	thrum_in bob inbox --no-mark-read >inbox &&
	grep "over http" inbox &&
	thrum_in bob reply "$(cat id)" "back over http" >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	thrum_in alice sync force >/dev/null &&
	thrum_in alice inbox --no-mark-read >inbox &&
	grep "back over http" inbox
'

test_expect_success 'a push race over HTTP: both end with everything' '
	thrum_in alice send "race a" >/dev/null &&
	thrum_in bob send "race b" >/dev/null &&
	(thrum_in alice sync force >race.a 2>&1 &
	 thrum_in bob sync force >race.b 2>&1 &
	 wait) &&
	grep "^synced" race.a &&
	grep "^synced" race.b &&
	sync_round alice bob &&
	test "$(a_sync_tree alice)" = "$(a_sync_tree bob)" &&
	thrum_in alice inbox --all --no-mark-read >all &&
	grep "race a" all &&
	grep "race b" all
'

test_expect_success 'server gone: refused, exit 1; back: catches up' '
	stop_httpd &&
	thrum_in alice send "sent while the server was down" >/dev/null &&
	test_expect_code 1 thrum_in alice sync force >out &&
	grep "^refused: " out &&
	start_httpd &&
	git -C alice remote set-url origin "$HTTPD_URL/remote.git" &&
	git -C bob remote set-url origin "$HTTPD_URL/remote.git" &&
	thrum_in alice sync force >out &&
	grep "^synced.*pushed" out &&
	thrum_in bob sync force >/dev/null &&
	thrum_in bob inbox --no-mark-read >inbox &&
	grep "sent while the server was down" inbox
'

test_expect_success 'stop the server' '
	stop_httpd
'

test_done

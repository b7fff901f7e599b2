#!/bin/sh
test_description='sync over smart HTTP (lighttpd + git-http-backend on 127.0.0.1): the scenarios of t5000'
. ./lib-thrum.sh
. "$SHARNESS_TEST_SRCDIR"/lib-httpd.sh

require_httpd

remote_url() {
	echo "$HTTPD_URL/remote.git"
}

remote_down() {
	stop_httpd
}

# the server may come back on another port
remote_up() {
	start_httpd &&
	git -C alice remote set-url origin "$(remote_url)" &&
	git -C bob remote set-url origin "$(remote_url)"
}

REMOTE_DOWN_STATE=refused
REMOTE_DOWN_LINE="^refused: 0 new events, committed (fatal: unable to access 'http://127.0.0.1:[0-9]*/git/remote.git/': .*)$"

test_expect_success 'start a smart HTTP server' '
	start_httpd &&
	git init -q --bare remote.git &&
	git -C remote.git config http.receivepack true &&
	git ls-remote "$(remote_url)" >/dev/null
'

. "$SHARNESS_TEST_SRCDIR"/lib-sync-scenarios.sh

test_expect_success 'the fetches and the pushes went over HTTP' '
	grep "GET /git/remote.git/info/refs?service=git-upload-pack" \
		httpd/access.log &&
	grep "POST /git/remote.git/git-receive-pack" httpd/access.log
'

test_expect_success 'stop the server' '
	stop_httpd
'

test_done

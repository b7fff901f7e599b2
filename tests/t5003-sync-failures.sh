#!/bin/sh
test_description='sync failures: each class named, in the message, in --json, in the exit code'
. ./lib-thrum.sh
. "$SHARNESS_TEST_SRCDIR"/lib-httpd.sh

command -v python3 >/dev/null && python3 -c "" 2>/dev/null &&
	test_set_prereq PYTHON

# force_fails <repo> <state>: sync force exits 1, says <state> first
# and in --json, and keeps the event it could not push committed
force_fails() {
	thrum_in "$1" send "waits: $2" >/dev/null &&
	test_expect_code 1 thrum_in "$1" sync force >out &&
	grep "^$2: " out &&
	thrum_in "$1" sync status --json >s.json &&
	test "$(json_get s.json "$.state")" = "$2" &&
	test "$(json_get s.json "$.sync_state")" = error &&
	test -n "$(json_get s.json "$.last_error")" &&
	git -C "$1" show a-sync:messages/alice.jsonl >log &&
	grep "waits: $2" log
}

test_expect_success 'setup' '
	setup_pair &&
	url=$(git -C alice remote get-url origin)
'

test_expect_success 'a remote path that is not there: error, naming thrum.remote' '
	# a long one: the status file keeps a line inih can read back
	long=$(printf "%0150d" 0) &&
	git -C alice remote set-url origin "file://$(pwd)/nowhere-$long.git" &&
	force_fails alice error &&
	grep "does not appear to be a git repository" out &&
	grep "check thrum.remote (.origin.) and .git remote -v." out
'

test_expect_success 'no such remote: error, naming thrum.remote' '
	git -C alice remote set-url origin "$url" &&
	git -C alice config thrum.remote nope &&
	force_fails alice error &&
	grep "check thrum.remote (.nope.)" out &&
	git -C alice config --unset thrum.remote
'

test_expect_success 'a host that does not resolve: offline' '
	git -C alice remote set-url origin http://nohost.invalid/remote.git &&
	force_fails alice offline &&
	grep "Could not resolve host" out
'

test_expect_success PYTHON 'a port where nobody listens: refused' '
	port=$(python3 -c "import socket; s = socket.socket(); \
s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	git -C alice remote set-url origin "http://127.0.0.1:$port/remote.git" &&
	force_fails alice refused &&
	grep -e "Connection refused" -e "Couldn.t connect to server" out
'

test_expect_success PYTHON 'a server that accepts and never answers: timeout' '
	# listens (the kernel accepts) and never reads nor writes
	python3 -c "import socket, signal; s = socket.socket(); \
s.bind((\"127.0.0.1\", 0)); s.listen(8); \
open(\"mute.port\", \"w\").write(str(s.getsockname()[1])); signal.pause()" &
	echo $! >mute.pid &&
	wait_for 10 test -s mute.port &&
	git -C alice remote set-url origin \
		"http://127.0.0.1:$(cat mute.port)/remote.git" &&
	git -C alice config thrum.networkTimeout 1 &&
	start=$(date +%s) &&
	force_fails alice timeout &&
	test $(( $(date +%s) - start )) -lt 20 &&
	grep "git fetch did not finish within 1s (thrum.networkTimeout)" out
'

test_expect_success PYTHON 'stop the mute server' '
	kill "$(cat mute.pid)" &&
	git -C alice config --unset thrum.networkTimeout
'

test_expect_success 'a push the remote keeps rejecting: rejected, not offline' '
	git -C alice remote set-url origin "$url" &&
	printf "#!/bin/sh\necho no pushes today >&2\nexit 1\n" \
		>remote.git/hooks/pre-receive &&
	chmod +x remote.git/hooks/pre-receive &&
	force_fails alice rejected &&
	grep "(git push: \[remote rejected\] (pre-receive hook declined))" out
'

test_expect_success 'the remote back: what waited goes out, exit 0' '
	rm remote.git/hooks/pre-receive &&
	thrum_in alice sync force >out &&
	grep "^synced: .*pushed" out &&
	thrum_in bob sync force >/dev/null &&
	thrum_in bob inbox --no-mark-read --all >inbox &&
	for s in error offline rejected
	do
		grep "waits: $s" inbox || return 1
	done
'

test_expect_success 'a ref lock held by a git fetch: busy, exit 0, not offline' '
	thrum_in bob send "from bob" >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	lock=alice/.git/refs/remotes/origin/a-sync.lock &&
	: >"$lock" &&
	thrum_in alice sync force >out &&
	rm "$lock" &&
	grep "^busy: " out &&
	grep "cannot lock ref" out &&
	thrum_in alice sync status --json >s.json &&
	test "$(json_get s.json "$.state")" = busy &&
	thrum_in alice sync force >out &&
	grep "^synced: " out &&
	# through bob'"'"'s clone ref even while a-sync'"'"'s could not move
	thrum_in alice inbox --no-mark-read --all >inbox &&
	grep "^    from bob$" inbox
'

test_expect_success HTTPD 'over HTTP: a wrong password is auth, a 403 is auth' '
	start_httpd &&
	ln -s . auth &&
	ln -s . forbidden &&
	git -C remote.git config http.receivepack true &&
	hurl=${HTTPD_URL#http://} &&
	git -C alice remote set-url origin \
		"http://$HTTPD_USER:wrong@$hurl/auth/remote.git" &&
	force_fails alice auth &&
	grep "Authentication failed" out &&
	git -C alice remote set-url origin "$HTTPD_URL/forbidden/remote.git" &&
	force_fails alice auth &&
	grep "returned error: 403" out &&
	git -C alice remote set-url origin \
		"http://$HTTPD_USER:$HTTPD_PASSWORD@$hurl/auth/remote.git" &&
	thrum_in alice sync force >out &&
	grep "^synced: .*pushed" out
'

test_expect_success HTTPD 'without credentials and without a terminal: auth, at once' '
	git -C alice remote set-url origin "$HTTPD_URL/auth/remote.git" &&
	force_fails alice auth &&
	grep "could not read Username" out
'

test_expect_success HTTPD 'the hook never prompts; it says which class, in one line' '
	# the user answers for their own push (an askpass program), while
	# our cycle in the pre-push hook asks nobody
	printf "#!/bin/sh\necho %s\n" "$HTTPD_PASSWORD" >askpass &&
	chmod +x askpass &&
	git -C alice remote set-url origin \
		"http://$HTTPD_USER@$hurl/auth/remote.git" &&
	thrum_in alice send "before a push" >/dev/null &&
	GIT_ASKPASS=$(pwd)/askpass git -C alice push -q origin main 2>err &&
	grep "^thrum: a-sync not pushed (auth): " err &&
	grep "the daemon and the hooks never prompt" err &&
	test "$(grep -c "^thrum:" err)" = 1
'

# backoff_skips <n>: the daemon skipped at least n ticks while backing off
backoff_skips() {
	thrum_in alice daemon status --json >d.json &&
	test "$(json_get d.json "$.backoff_skips")" -ge "$1"
}

test_expect_success HTTPD 'the daemon: a wrong stored password is not erased, and not tried every cycle' '
	git config --global credential.helper store &&
	echo "http://$HTTPD_USER:wrong@$hurl" >"$HOME/.git-credentials" &&
	cp "$HOME/.git-credentials" creds.before &&
	git -C alice remote set-url origin "$HTTPD_URL/auth/remote.git" &&
	git -C alice config thrum.syncInterval 1 &&
	thrum_in alice daemon start >/dev/null &&
	wait_for 20 grep "^state = auth" alice/.thrum/var/sync-status &&
	wait_for 20 grep "next try at" alice/.thrum/var/daemon.log &&
	requests=$(count_lines httpd/access.log) &&
	wait_for 20 backoff_skips 3 &&
	test "$(count_lines httpd/access.log)" = "$requests" &&
	test_cmp creds.before "$HOME/.git-credentials" &&
	thrum_in alice sync status --json >s.json &&
	test "$(json_get s.json "$.state")" = auth &&
	test "$(json_get s.json "$.auth_failures")" = 1 &&
	test -n "$(json_get s.json "$.retry_at")" &&
	thrum_in alice sync status >st &&
	grep "^back-off:   the daemon asks the remote again at " st
'

test_expect_success HTTPD 'sync.force over RPC asks at once, backing off or not' '
	requests=$(count_lines httpd/access.log) &&
	rpc alice "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sync.force\"}" >f &&
	grep "\"triggered\":true" f &&
	grep "\"state\":\"auth\",\"sync_state\":\"error\"" f &&
	test "$(count_lines httpd/access.log)" -gt "$requests" &&
	test_cmp creds.before "$HOME/.git-credentials"
'

test_expect_success HTTPD 'sync force with the right password ends the back-off' '
	echo "http://$HTTPD_USER:$HTTPD_PASSWORD@$hurl" >"$HOME/.git-credentials" &&
	thrum_in alice send "after the back-off" >/dev/null &&
	thrum_in alice sync force >out &&
	grep "^synced: .*pushed" out &&
	wait_for 20 grep "another cycle ended the auth back-off" \
		alice/.thrum/var/daemon.log &&
	thrum_in alice send "by the daemon" >/dev/null &&
	wait_for 20 sh -c "git -C remote.git show a-sync:messages/alice.jsonl |
		grep -q \"by the daemon\"" &&
	thrum_in alice daemon stop >/dev/null &&
	git -C alice config --unset thrum.syncInterval &&
	git config --global --unset credential.helper
'

test_expect_success 'stop the server, and a daemon a failed test left' '
	{ thrum_in alice daemon stop >/dev/null || :; } &&
	stop_httpd
'

test_done

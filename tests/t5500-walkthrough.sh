#!/bin/sh
test_description='the original Thrum'"'"'s "Sync Across Machines" walkthrough, word for word

Two clones of one bare remote, each with the daemon that init starts; the
walkthrough with "git thrum" for "thrum": sync turned on with git config on
one machine and with THRUM_LOCAL_ONLY=false on the other, daemon restart,
quickstart without a name, send, sync force on both sides, inbox --unread
on a clone where nobody registered, sync status, plain git; then delivery
by the daemons alone.'
. ./lib-thrum.sh

# the walkthrough: "thrum init starts it automatically"
unset THRUM_TEST_NO_DAEMON

daemon_pid() {
	cat "$1/.thrum/var/thrum.pid" 2>/dev/null
}

test_expect_success 'what you need: one remote, two clones, thrum init on both' '
	git init -q --bare remote.git &&
	git -C remote.git symbolic-ref HEAD refs/heads/main &&
	new_repo seed &&
	git -C seed push -q ../remote.git HEAD:main &&
	git clone -q remote.git machine-a &&
	git clone -q remote.git machine-b &&
	(cd machine-a && git thrum init >../init-a) &&
	(cd machine-b && git thrum init >../init-b) &&
	grep "daemon: running" init-a &&
	grep "daemon: running" init-b
'

test_expect_success 'enable sync: git config on A, THRUM_LOCAL_ONLY on B, daemon restart' '
	(cd machine-a && git config thrum.localOnly false &&
	 git thrum daemon restart >../restart-a) &&
	(cd machine-b && export THRUM_LOCAL_ONLY=false &&
	 git thrum daemon restart >../restart-b) &&
	grep "^daemon started" restart-a &&
	grep "^daemon started" restart-b
'

test_expect_success 'send on machine A: quickstart with no name, send, sync force' '
	(cd machine-a &&
	 git thrum quickstart --role implementer --module api \
		--intent "Working on API changes" >../qs &&
	 git thrum send "Deploy script updated, ready to test on staging" \
		>../sent &&
	 git thrum sync force >../force-a) &&
	grep "^Registered agent .implementer_[0-9a-z]\{10\}. (role implementer, module api)" qs &&
	grep "^msg_" sent &&
	# (A'"'"'s daemon may have pushed it first: then this cycle pushes nothing)
	grep "^synced: " force-a &&
	git -C remote.git grep -q "Deploy script updated" a-sync -- messages/
'

test_expect_success 'receive on machine B: sync force, inbox --unread (nobody registered there)' '
	(cd machine-b && export THRUM_LOCAL_ONLY=false &&
	 git thrum sync force >../force-b &&
	 git thrum inbox --unread >../inbox-b) &&
	# (B'"'"'s daemon may have fetched it first: then this cycle brings 0)
	grep "^synced: " force-b &&
	grep "Deploy script updated, ready to test on staging" inbox-b &&
	grep "from implementer_" inbox-b
'

test_expect_success 'automatic sync: sync status names the remote and local_only' '
	(cd machine-b && export THRUM_LOCAL_ONLY=false &&
	 git thrum sync status >../status-b &&
	 git thrum sync status --json >../status-b.json) &&
	grep "^state: *synced" status-b &&
	grep "origin" status-b &&
	grep "^daemon: *running" status-b &&
	test "$(json_get status-b.json "$.local_only")" = 0
'

test_expect_success 'verify with git: the sync branch is a regular branch' '
	git -C machine-b log --oneline origin/a-sync -10 >log &&
	grep " sync: " log &&
	git -C machine-b show origin/a-sync:messages/ >files &&
	grep "^implementer_[0-9a-z]*\.jsonl$" files
'

test_expect_success 'delivery by the daemons alone, with no manual command' '
	git -C machine-a config thrum.syncInterval 1 &&
	(cd machine-a && git thrum daemon restart >/dev/null) &&
	(cd machine-b && export THRUM_LOCAL_ONLY=false THRUM_SYNC_INTERVAL=1 &&
	 git thrum daemon restart >/dev/null) &&
	(cd machine-a && git thrum send "second, through the daemons" \
		>/dev/null) &&
	wait_for 30 eval "(cd machine-b && git thrum inbox --no-mark-read) |
		grep -q \"second, through the daemons\""
'

test_expect_success 'a daemon killed with -9 comes back with the next command' '
	pid=$(daemon_pid machine-a) &&
	kill -9 "$pid" &&
	wait_for 10 eval "! kill -0 $pid 2>/dev/null" &&
	(cd machine-a && git thrum inbox --all --no-mark-read >/dev/null) &&
	test -n "$(daemon_pid machine-a)" &&
	test "$(daemon_pid machine-a)" != "$pid" &&
	kill -0 "$(daemon_pid machine-a)" &&
	(cd machine-a && git thrum daemon status >../st) &&
	grep "^daemon is running" st
'

test_expect_success 'after daemon stop, or with thrum.daemon false, no command starts one' '
	(cd machine-a && git thrum daemon stop >/dev/null &&
	 git thrum inbox --all --no-mark-read >/dev/null &&
	 test_expect_code 1 git thrum daemon status >../st) &&
	grep "^daemon is not running" st &&
	(cd machine-a && git config thrum.daemon false &&
	 git thrum daemon start >/dev/null && git thrum daemon stop >/dev/null &&
	 rm -f .thrum/var/daemon.stopped &&
	 git thrum inbox --all --no-mark-read >/dev/null &&
	 test_expect_code 1 git thrum daemon status >../st) &&
	grep "^daemon is not running" st
'

test_expect_success 'stop the daemons: none of ours is left' '
	(cd machine-b && git thrum daemon stop >/dev/null) &&
	for p in $(pgrep -f "git-thrum daemon run")
	do
		readlink /proc/$p/cwd
	done >cwds &&
	! grep -F "$SHARNESS_TRASH_DIRECTORY/" cwds
'

test_done

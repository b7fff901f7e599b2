#!/bin/sh
test_description='git thrum config: each value and where it came from'
. ./lib-thrum.sh

test_expect_success 'setup' '
	thrum_repo repo
'

test_expect_success 'defaults' '
	(cd repo && git thrum config >../out) &&
	grep "^thrum.localOnly=true	(default)" out &&
	grep "^thrum.remote=origin	(default)" out &&
	grep "^thrum.syncInterval=60	(default)" out
'

test_expect_success 'precedence: env > git -c > git config > .thrum/config > default' '
	printf "[thrum]\nsyncInterval = 30\nremote = fromfile\n" \
		>repo/.thrum/config &&
	(cd repo && git thrum config >../out) &&
	grep "^thrum.syncInterval=30	(.thrum/config)" out &&
	git -C repo config thrum.syncInterval 20 &&
	(cd repo && git thrum config >../out) &&
	grep "^thrum.syncInterval=20	(git config (local))" out &&
	grep "^thrum.remote=fromfile	(.thrum/config)" out &&
	(cd repo && git -c thrum.syncInterval=10 thrum config >../out) &&
	grep "^thrum.syncInterval=10	(git config (command))" out &&
	(cd repo && THRUM_SYNC_INTERVAL=5 git -c thrum.syncInterval=10 \
		thrum config >../out) &&
	grep "^thrum.syncInterval=5	(environment (THRUM_SYNC_INTERVAL))" out &&
	git config --global thrum.localOnly false &&
	(cd repo && git thrum config --json >../c.json) &&
	test "$(json_get c.json "$.\"thrum.localOnly\".value")" = false &&
	test "$(json_get c.json "$.\"thrum.localOnly\".origin")" = global
'

test_expect_success 'a bad value is named, with its source' '
	git -C repo config thrum.syncInterval soon &&
	(cd repo && test_must_fail git thrum config 2>../err) &&
	grep "bad number .soon. for .thrum.syncInterval. (from git)" err &&
	git -C repo config thrum.syncInterval 20 &&
	(cd repo && THRUM_LOCAL_ONLY=maybe test_must_fail git thrum config \
		2>../err) &&
	grep "bad boolean value .maybe. for .thrum.localOnly. (from env)" err
'

test_expect_success 'config -h' '
	(cd repo && test_expect_code 129 git thrum config -h >../out) &&
	grep "^usage: git thrum config" out
'

test_done

#!/bin/sh
test_description='git thrum config: each value and where it came from'
. ./lib-thrum.sh

# listing <remote> <syncInterval>: what config prints when only those two
# (value, tab, origin) may differ from the defaults
listing() {
	cat <<-EOF
	thrum.localOnly=true	(default)
	thrum.remote=$1
	thrum.syncInterval=$2
	thrum.commitAuthor=	(default)
	thrum.maxFileBytes=67108864	(default)
	thrum.fetchHook=true	(default)
	thrum.networkTimeout=120	(default)
	thrum.daemon=true	(default)
	thrum.writeDelay=200	(default)
	thrum.peerListen=	(default)
	thrum.allowedSigners=	(default)
	thrum.requireSigned=false	(default)
	thrum.cloneRefs=true	(default)
	EOF
}

test_expect_success 'setup' '
	thrum_repo repo
'

test_expect_success 'defaults' '
	(cd repo && git thrum config >../out) &&
	listing "origin	(default)" "60	(default)" >expect &&
	test_cmp expect out
'

test_expect_success 'precedence: env > git -c > git config > .thrum/config > default' '
	printf "[thrum]\nsyncInterval = 30\nremote = fromfile\n" \
		>repo/.thrum/config &&
	(cd repo && git thrum config >../out) &&
	listing "fromfile	(.thrum/config)" "30	(.thrum/config)" >expect &&
	test_cmp expect out &&
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
	echo "error: bad number '\''soon'\'' for '\''thrum.syncInterval'\'' (from git)" >expect &&
	test_cmp expect err &&
	git -C repo config thrum.syncInterval 20 &&
	(cd repo && THRUM_LOCAL_ONLY=maybe test_must_fail git thrum config \
		2>../err) &&
	echo "error: bad boolean value '\''maybe'\'' for '\''thrum.localOnly'\'' (from env)" >expect &&
	test_cmp expect err
'

test_expect_success 'config -h' '
	(cd repo && test_expect_code 129 git thrum config -h >../out) &&
	grep "^usage: git thrum config" out
'

test_done

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

# The thrum.* entries are cached in var/config-cache while nothing git
# reads changes (src/config-cache.c).  THRUM_TEST_CONFIG_SETTLE_MS=0 lets
# a file changed a moment ago be cached on, so that these tests need not
# wait; every change below must still be seen by the next command.
remote_is() {	# remote_is <value>: what the next command sees
	(cd repo && THRUM_TEST_CONFIG_SETTLE_MS=0 git thrum config >../out) &&
	grep "^thrum.remote=$1	" out
}

test_expect_success 'config cache: written, then every change seen' '
	rm -f repo/.thrum/config &&
	git -C repo config thrum.remote one &&
	remote_is one &&
	test -s repo/.thrum/var/config-cache &&
	remote_is one &&
	git -C repo config thrum.remote two &&
	remote_is two &&
	git -C repo config --unset thrum.remote &&
	remote_is origin
'

test_expect_success 'config cache: an include target that appears later' '
	git -C repo config include.path thrum-extra.cfg &&
	remote_is origin &&
	remote_is origin &&
	printf "[thrum]\n\tremote = included\n" >repo/.git/thrum-extra.cfg &&
	remote_is included &&
	printf "[thrum]\n\tremote = changed1\n" >repo/.git/thrum-extra.cfg &&
	remote_is changed1 &&
	rm repo/.git/thrum-extra.cfg &&
	remote_is origin &&
	git -C repo config --unset include.path
'

test_expect_success 'config cache: includeIf onbranch follows HEAD' '
	printf "[thrum]\n\tremote = onother\n" >"$HOME/other.cfg" &&
	git -C repo config includeIf.onbranch:other.path "~/other.cfg" &&
	remote_is origin &&
	remote_is origin &&
	git -C repo checkout -q -b other &&
	remote_is onother &&
	git -C repo checkout -q - &&
	remote_is origin &&
	git -C repo config --unset includeIf.onbranch:other.path
'

test_expect_success 'config cache: a global file that appears later, the environment' '
	remote_is origin &&
	mkdir -p "$HOME/.config/git" &&
	printf "[thrum]\n\tremote = xdg\n" >"$HOME/.config/git/config" &&
	remote_is xdg &&
	printf "[thrum]\n\tremote = elsewhere\n" >"$HOME/g.cfg" &&
	(cd repo && GIT_CONFIG_GLOBAL="$HOME/g.cfg" \
		THRUM_TEST_CONFIG_SETTLE_MS=0 git thrum config >../out) &&
	grep "^thrum.remote=elsewhere	" out &&
	remote_is xdg &&
	(cd repo && THRUM_TEST_CONFIG_SETTLE_MS=0 \
		git -c thrum.remote=cmdline thrum config >../out) &&
	grep "^thrum.remote=cmdline	" out &&
	rm "$HOME/.config/git/config" &&
	remote_is origin
'

test_expect_success 'config cache: nothing cached from a file changed a moment ago' '
	rm -f repo/.thrum/var/config-cache &&
	git -C repo config thrum.remote fresh &&
	(cd repo && git thrum config >../out) &&
	grep "^thrum.remote=fresh	" out &&
	test_path_is_missing repo/.thrum/var/config-cache &&
	git -C repo config --unset thrum.remote
'

# a git whose `config --list` removes the included file once it has read
# it: what the child read is gone before the cache could record it
test_expect_success 'config cache: nothing cached from a file removed meanwhile' '
	mkdir -p fakegit &&
	real=$(command -v git) &&
	cat >fakegit/git <<-EOF &&
	#!/bin/sh
	"$real" "\$@" || exit
	case " \$* " in *" --list "*) rm -f "$PWD/repo/.git/gone.cfg" ;; esac
	EOF
	chmod +x fakegit/git &&
	printf "[thrum]\n\tremote = gone\n" >repo/.git/gone.cfg &&
	git -C repo config include.path gone.cfg &&
	rm -f repo/.thrum/var/config-cache &&
	(cd repo && PATH="$PWD/../fakegit:$PATH" THRUM_TEST_CONFIG_SETTLE_MS=0 \
		git-thrum config >../out) &&
	grep "^thrum.remote=gone	" out &&
	test_path_is_missing repo/.thrum/var/config-cache &&
	(cd repo && PATH="$PWD/../fakegit:$PATH" THRUM_TEST_CONFIG_SETTLE_MS=0 \
		git-thrum config >../out) &&
	grep "^thrum.remote=origin	" out &&
	git -C repo config --unset include.path
'

test_done

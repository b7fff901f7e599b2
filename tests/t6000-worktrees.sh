#!/bin/sh
test_description='linked work trees share one thrum through a redirect in their git directory'
. ./lib-thrum.sh

# shares_with_main <file>: what setup (or init) prints in a linked tree
shares_with_main() {
	cat >expect.shares <<-EOF &&
	This work tree now shares thrum with $(pwd)/main
	  create an identity here: git thrum quickstart --role R --module M [--name N]
	EOF
	test_cmp expect.shares "$1"
}

test_expect_success 'setup: a repository and a feature work tree' '
	thrum_repo main alice impl &&
	git -C main worktree add -q ../feature &&
	(cd feature && git thrum setup >../out) &&
	shares_with_main out &&
	test "$(cat "$(git -C feature rev-parse --absolute-git-dir)/thrum-redirect")" = \
		"$(cd main && pwd)/.thrum" &&
	test_path_is_missing feature/.thrum/redirect &&
	git -C feature status --porcelain >st &&
	test_must_be_empty st
'

test_expect_success 'identities stay per work tree' '
	(cd feature && git thrum quickstart --name bob --role impl \
		--module ui >/dev/null) &&
	test_path_is_file feature/.thrum/identities/bob.json &&
	test_path_is_missing main/.thrum/identities/bob.json &&
	(cd main && git thrum whoami >../who) &&
	grep -x "alice (role impl, module core)" who &&
	(cd feature && git thrum whoami >../who) &&
	grep -x "bob (role impl, module ui)" who
'

test_expect_success 'agents in two work trees talk with no sync at all' '
	(cd feature && git thrum send "from the feature tree" --to @alice \
		>/dev/null) &&
	(cd main && git thrum inbox --no-mark-read >../inbox) &&
	grep "from the feature tree" inbox &&
	(cd main && git thrum reply "$(cd ../feature &&
		git thrum inbox --all --no-mark-read --json |
		sed -n "s/.*\"message_id\":\"\\(msg_[0-9A-Z]*\\)\".*/\\1/p" |
		head -n 1)" "back to the feature tree" >/dev/null) &&
	(cd feature && git thrum inbox --no-mark-read >../inbox) &&
	grep "back to the feature tree" inbox
'

test_expect_success 'one database, one sync work tree' '
	test_path_is_missing feature/.thrum/var &&
	(cd feature && git thrum sync force >/dev/null) &&
	git -C main log -1 --format=%s a-sync >subject &&
	grep "^sync: " subject
'

test_expect_success 'setup in the main work tree is refused' '
	(cd main && test_must_fail git thrum setup 2>../err) &&
	echo "error: this is the main work tree: run '\''git thrum init'\'' here" >expect &&
	test_cmp expect err
'

test_expect_success 'setup before the main tree is initialised is refused' '
	new_repo plain &&
	git -C plain worktree add -q ../plainwt &&
	(cd plainwt && test_must_fail git thrum setup 2>../err) &&
	echo "error: thrum is not initialised in '\''$(pwd)/plain'\'': run '\''git thrum init'\'' there first" >expect &&
	test_cmp expect err
'

redirect_of() {
	echo "$(git -C "$1" rev-parse --absolute-git-dir)/thrum-redirect"
}

test_expect_success 'init in a linked work tree does what setup does' '
	git -C main worktree add -q ../viainit &&
	(cd viainit && git thrum init >../out) &&
	shares_with_main out &&
	test_path_is_missing viainit/.thrum/var &&
	test "$(cat "$(redirect_of viainit)")" = "$(cd main && pwd)/.thrum" &&
	(cd viainit && git thrum quickstart --role impl --module v >/dev/null &&
		git thrum send "one thrum" >/dev/null) &&
	(cd main && git thrum inbox --all --no-mark-read >../inbox) &&
	grep "one thrum" inbox
'

test_expect_success 'an uninitialised linked work tree names the right command' '
	git -C main worktree add -q ../bare-wt &&
	(cd bare-wt && test_must_fail git thrum quickstart --role r \
		--module m 2>../err) &&
	echo "fatal: thrum is not set up in this linked work tree '\''$(pwd)/bare-wt'\''; run '\''git thrum init'\'' here (it shares the main work tree'\''s thrum)" >expect &&
	test_cmp expect err &&
	test_path_is_missing bare-wt/.thrum/var
'

# a project that commits .thrum/redirect must not move anybody's database
test_expect_success 'a redirect in the work tree is never followed' '
	mkdir -p /tmp/thrum-t6000-$$ &&
	git -C main worktree add -q ../planted &&
	mkdir -p planted/.thrum &&
	echo "/tmp/thrum-t6000-$$" >planted/.thrum/redirect &&
	(cd planted && test_must_fail git thrum inbox 2>../err) &&
	cat >expect <<-EOF &&
	warning: ignoring '\''$(pwd)/planted/.thrum/redirect'\'': thrum reads no redirect from the work tree; run '\''git thrum init'\'' here to share the main work tree'\''s thrum
	fatal: thrum is not set up in this linked work tree '\''$(pwd)/planted'\''; run '\''git thrum init'\'' here (it shares the main work tree'\''s thrum)
	EOF
	test_cmp expect err &&
	(cd planted && git thrum init >/dev/null) &&
	test "$(cat "$(redirect_of planted)")" = "$(cd main && pwd)/.thrum" &&
	test_path_is_missing /tmp/thrum-t6000-$$/var &&
	rmdir /tmp/thrum-t6000-$$
'

test_expect_success 'a chained redirect is rejected' '
	git -C main worktree add -q ../second &&
	(cd second && git thrum setup >/dev/null) &&
	mkdir -p feature/.thrum &&
	echo "$(cd main && pwd)/.thrum" >feature/.thrum/redirect &&
	echo "$(cd feature && pwd)/.thrum" >"$(redirect_of second)" &&
	(cd second && test_must_fail git thrum inbox 2>../err) &&
	echo "error: redirect in '\''$(redirect_of second)'\'' points at another redirect or at itself" >expect &&
	test_cmp expect err
'

test_expect_success 'a redirect to itself is rejected' '
	echo "$(cd second && pwd)/.thrum" >"$(redirect_of second)" &&
	(cd second && test_must_fail git thrum inbox 2>../err) &&
	echo "error: redirect in '\''$(redirect_of second)'\'' points at another redirect or at itself" >expect &&
	test_cmp expect err
'

test_expect_success 'a relative or dangling redirect is rejected' '
	echo "../main/.thrum" >"$(redirect_of second)" &&
	(cd second && test_must_fail git thrum inbox 2>../err) &&
	echo "error: invalid redirect in '\''$(redirect_of second)'\'': want an absolute path" >expect &&
	test_cmp expect err &&
	echo "/nonexistent/.thrum" >"$(redirect_of second)" &&
	(cd second && test_must_fail git thrum inbox 2>../err) &&
	echo "error: redirect in '\''$(redirect_of second)'\'' names a missing directory '\''/nonexistent/.thrum'\''" >expect &&
	test_cmp expect err
'

test_done

#!/bin/sh
test_description='the command table, usage and exit codes'
. ./lib-thrum.sh

test_expect_success 'version and command list' '
	git thrum --version >out &&
	grep "^git-thrum version " out &&
	git thrum help >out &&
	grep "^   send " out &&
	grep "^   inbox " out
'

test_expect_success 'no command is a usage error' '
	test_expect_code 129 git thrum 2>err &&
	grep "^usage: git thrum" err
'

test_expect_success 'an unknown command says so, exit 129' '
	test_expect_code 129 git thrum frobnicate 2>err &&
	grep "'"'"'frobnicate'"'"' is not a thrum command" err
'

for cmd in init quickstart whoami send inbox reply message team agent rebuild \
	sync wait daemon hooks hook
do
	test_expect_success "$cmd -h prints its usage, exit 129" "
		test_expect_code 129 git thrum $cmd -h >out &&
		grep '^usage: git thrum $cmd' out
	"
done

test_expect_success 'an unknown option is a usage error' '
	new_repo repo &&
	(
		cd repo &&
		test_expect_code 129 git thrum inbox --bogus 2>err &&
		grep "unknown option .--bogus." err &&
		grep "^usage: git thrum inbox" err
	)
'

test_expect_success 'outside a repository: one clear line, non-zero' '
	mkdir -p nowhere &&
	(
		cd nowhere &&
		GIT_CEILING_DIRECTORIES=$(pwd) &&
		export GIT_CEILING_DIRECTORIES &&
		test_must_fail git thrum inbox 2>err
	) &&
	grep "not a git repository" nowhere/err &&
	test_line_count = 1 nowhere/err
'

test_expect_success 'a bare repository is refused' '
	git init -q --bare bare.git &&
	(
		cd bare.git &&
		test_must_fail git thrum init 2>err &&
		grep "must be run in a work tree" err
	)
'

test_expect_success 'commands before init point at init' '
	new_repo plain &&
	(
		cd plain &&
		test_must_fail git thrum inbox 2>err &&
		grep "run .git thrum init." err
	)
'

test_expect_success 'libgit2 is loaded only by commands that need objects' '
	new_repo lazy &&
	mkdir lonely &&
	cp "$SHARNESS_BUILD_DIRECTORY/git-thrum" lonely/ &&
	(
		cd lazy &&
		../lonely/git-thrum version &&
		test_must_fail ../lonely/git-thrum init 2>err &&
		grep "cannot load the libgit2 module git-thrum-git2.so" err &&
		THRUM_GIT2_MODULE="$SHARNESS_BUILD_DIRECTORY/git-thrum-git2.so" \
			../lonely/git-thrum init --no-daemon &&
		THRUM_GIT2_MODULE="$SHARNESS_BUILD_DIRECTORY/git-thrum-git2.so" \
			../lonely/git-thrum quickstart --name a --role r \
			--module m &&
		../lonely/git-thrum send "no module needed" >out &&
		grep "^msg_" out
	)
'

test_done

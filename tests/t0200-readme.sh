#!/bin/sh
test_description='the command blocks of README.md run as written

Every indented block that follows a "<!-- runs -->" line of README.md is
taken verbatim and run with "sh -e", in order, in one fresh world: a bare
remote and a clone of it.'
. ./lib-thrum.sh

README="$SHARNESS_BUILD_DIRECTORY/README.md"

# blocks <file>: writes block.1, block.2, ... (the indentation removed)
extract_blocks() {
	awk '
		/^<!-- runs -->$/ { want = 1; n++; next }
		want && /^    / { sub(/^    /, ""); print > ("block." n); inblock = 1; next }
		want && inblock && !/^    / && !/^$/ { want = 0; inblock = 0 }
		want && inblock && /^$/ { want = 0; inblock = 0 }
	' "$1"
}

test_expect_success 'the README has runnable blocks' '
	extract_blocks "$README" &&
	test -s block.1 && test -s block.2 && test -s block.3 &&
	test ! -e block.4 &&
	grep "^git thrum init" block.1
'

test_expect_success 'a fresh world: a bare remote and a clone' '
	git init -q --bare remote.git &&
	git -C remote.git symbolic-ref HEAD refs/heads/main &&
	new_repo seed &&
	git -C seed push -q ../remote.git HEAD:main &&
	git clone -q remote.git world
'

test_expect_success 'the short tour runs as written' '
	(cd world && sh -e ../block.1 >../out.1 2>../err.1) &&
	grep "Login rework ready for review" out.1 &&
	grep "Looks good" out.1 &&
	grep "^alice  *implementer  *auth  *active" out.1 &&
	grep "^bob  *reviewer  *auth  *active" out.1
'

test_expect_success 'sharing messages between clones runs as written' '
	(cd world && sh -e ../block.2 >../out.2 2>../err.2) &&
	grep "^synced: " out.2 &&
	grep "^state: *synced" out.2 &&
	git -C remote.git rev-parse --verify -q refs/heads/a-sync
'

test_expect_success 'the hook commands run as written' '
	(cd world && sh -e ../block.3 >../out.3 2>../err.3) &&
	grep "^hooks removed" out.3 &&
	grep "^hooks installed" out.3
'

test_expect_success 'stop the daemon the README restarted' '
	(cd world && git thrum daemon stop >/dev/null) &&
	for p in $(pgrep -f "git-thrum daemon run")
	do
		readlink /proc/$p/cwd
	done >cwds &&
	! grep -F "$SHARNESS_TRASH_DIRECTORY/" cwds
'

test_done

#!/bin/sh
test_description='bash completion through git'"'"'s completion script'
. ./lib-thrum.sh

GIT_COMPLETION=/usr/share/bash-completion/completions/git
command -v bash >/dev/null && test -r "$GIT_COMPLETION" &&
	test_set_prereq COMPLETION

# complete <words...>: what bash offers for the last word, one per line
complete_words() {
	bash -c '
		. "$1"
		. "$2"
		shift 2
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		__git_wrap__git_main
		printf "%s\n" "${COMPREPLY[@]}" | sed "s/ *\$//" | sort
	' complete "$GIT_COMPLETION" \
		"$SHARNESS_BUILD_DIRECTORY/contrib/completion/git-thrum.bash" \
		"$@"
}

test_expect_success COMPLETION 'setup' '
	new_repo r &&
	(cd r && git thrum init --no-daemon >/dev/null &&
	 git thrum quickstart --name alice --role reviewer --module m \
		>/dev/null &&
	 git thrum quickstart --name bob --role planner --module m \
		>/dev/null &&
	 THRUM_NAME=alice git thrum group create backend >/dev/null)
'

test_expect_success COMPLETION 'commands, from git thrum help' '
	(cd r && complete_words git thrum s) >actual &&
	printf "%s\n" search send sent session setup sync >expect &&
	test_cmp expect actual &&
	(cd r && complete_words git thrum "") >all &&
	git thrum help | sed -n "s/^   \([a-z-]*\) .*/\1/p" | grep -v "^hook\$" |
		sort >cmds &&
	grep -v "^--" all >offered &&
	test_cmp cmds offered
'

test_expect_success COMPLETION 'subcommands, from the usage' '
	(cd r && complete_words git thrum group "") >actual &&
	printf "%s\n" add create delete list remove update >expect &&
	test_cmp expect actual &&
	(cd r && complete_words git thrum daemon st) >actual &&
	printf "%s\n" start status stop >expect &&
	test_cmp expect actual
'

test_expect_success COMPLETION 'options of a command and of a subcommand' '
	(cd r && complete_words git thrum send --) >actual &&
	printf "%s\n" --json --priority --ref --reply-to --scope --to >expect &&
	test_cmp expect actual &&
	(cd r && complete_words git thrum search login --) >actual &&
	printf "%s\n" --all --from --json --limit --raw --since >expect &&
	test_cmp expect actual &&
	(cd r && complete_words git thrum message show --) >actual &&
	printf "%s\n" --include-bad --json --no-mark-read --thread >expect &&
	test_cmp expect actual
'

test_expect_success COMPLETION '@names: agents, groups, roles, everyone' '
	(cd r && complete_words git thrum send hi --to @) >actual &&
	for n in @alice @backend @bob @everyone @planner @reviewer
	do
		grep -x -- "$n" actual || return 1
	done &&
	(cd r && complete_words git thrum send hi --to @alice,@b) >actual &&
	printf "%s\n" @alice,@backend @alice,@bob >expect &&
	test_cmp expect actual
'

test_done

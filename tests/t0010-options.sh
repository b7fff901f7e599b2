#!/bin/sh
test_description='declared options: -h, --help, --json, typos and forms, the same on every command'
. ./lib-thrum.sh

# every command and subcommand -h lists (from the help and its usage)
leaves() {
	for c in $(git thrum help | sed -n "s/^   \([a-z]*\) .*/\1/p" |
		grep -v -x -e help -e version -e hook)
	do
		git thrum $c -h 2>/dev/null |
			sed -n "s/^usage: git thrum \([a-z]*\( [a-z][a-z-]*\)\?\).*/\1/p;
				s/^   or: git thrum \([a-z]*\( [a-z][a-z-]*\)\?\).*/\1/p"
	done | sort -u
}

test_expect_success 'setup' '
	thrum_repo r alice coder &&
	leaves >leaves &&
	test_line_count -gt 25 leaves
'

test_expect_success '-h on every command and subcommand: usage, its options, exit 129' '
	while read leaf
	do
		(cd r && test_expect_code 129 git thrum $leaf -h >out 2>err) &&
		grep "^usage: git thrum $leaf" r/out &&
		test_must_be_empty r/err || return 1
	done <leaves
'

test_expect_success '-h names each option with its help' '
	(cd r && test_expect_code 129 git thrum send -h >out) &&
	grep "^    --to <@name>\[,<@name>...\]" r/out &&
	grep "^    --priority <priority>  *critical, high, normal (default) or low" r/out &&
	grep "^    --json  *print one JSON object" r/out
'

test_expect_success '-h needs no repository' '
	test_expect_code 129 git thrum inbox -h >out &&
	grep "^usage: git thrum inbox" out &&
	test_expect_code 129 git thrum daemon status -h >out &&
	grep "^usage: git thrum daemon status" out
'

# a man viewer that prints the page it was asked for
man_test() {
	git -c man.viewer=say -c man.say.cmd="echo MANPAGE" thrum "$@"
}

test_expect_success '--help on every command and subcommand opens the manual' '
	while read leaf
	do
		(cd r && man_test $leaf --help >out 2>err) &&
		grep "^MANPAGE git-thrum" r/out || return 1
	done <leaves &&
	(cd r && man_test mcp --help >out) &&
	grep "^MANPAGE git-thrum-mcp" r/out
'

test_expect_success '--json where a command has it: one JSON object on every command' '
	(
		cd r &&
		for leaf in "whoami" "team" "agent list" "inbox" "group list" \
			"config" "sync status" "daemon status" "hooks status" \
			"fsck" "rebuild"
		do
			# a daemon that is not running is status 1, still JSON
			{ git thrum $leaf --json >out ||
			  test "$leaf" = "daemon status"; } &&
			test_line_count = 1 out &&
			json_valid out || return 1
		done
	)
'

test_expect_success 'a mistyped command, subcommand or option: did you mean' '
	(
		cd r &&
		test_expect_code 129 git thrum inbxo 2>err &&
		grep "'"'"'inbxo'"'"' is not a thrum command" err &&
		grep "^	inbox\$" err &&
		test_expect_code 129 git thrum daemon stauts 2>err &&
		grep "unknown subcommand '"'"'stauts'"'"' (did you mean '"'"'status'"'"'?)" err &&
		grep "^usage: git thrum daemon start" err &&
		test_expect_code 129 git thrum inbox --jsno 2>err &&
		grep "unknown option '"'"'--jsno'"'"' (did you mean '"'"'--json'"'"'?)" err &&
		test_expect_code 129 git thrum frobnicate 2>err &&
		! grep "most similar" err
	)
'

test_expect_success 'a subcommand is needed where a command has only those' '
	(
		cd r &&
		test_expect_code 129 git thrum group 2>err &&
		grep "want a subcommand: create, add, remove, list, update, delete" err
	)
'

test_expect_success 'values as --name=value and --name value, prefixes, -- ends options' '
	(
		cd r &&
		git thrum send --priority=high "one" &&
		git thrum send --prio low "two" &&
		git thrum send -- "--not-an-option" &&
		git thrum inbox --all --json --limit=3 >out &&
		json_valid out &&
		grep -- "--not-an-option" out &&
		grep "\"priority\":\"high\"" out
	)
'

test_expect_success 'a bad value: one line naming the option, exit 129, nothing written' '
	(
		cd r &&
		before=$(cat "$(sync_dir .)"/messages/*.jsonl | wc -l) &&
		test_expect_code 129 git thrum inbox --limit=0 2>err &&
		grep "^error: invalid --limit '"'"'0'"'"': want a whole number of at least 1\$" err &&
		test_expect_code 129 git thrum wait --timeout x 2>err &&
		grep "^error: invalid --timeout '"'"'x'"'"'" err &&
		test_expect_code 129 git thrum inbox --json=yes 2>err &&
		grep "^error: option '"'"'--json'"'"' takes no value\$" err &&
		test_expect_code 129 git thrum send hi --to 2>err &&
		grep "^error: option '"'"'--to'"'"' requires a value\$" err &&
		test_expect_code 129 git thrum send -x hi 2>err &&
		grep "^error: unknown switch '"'"'x'"'"'\$" err &&
		test_expect_code 129 git thrum session start --intent "$(printf "\\377")" 2>err &&
		grep "^error: --intent is not valid UTF-8 (byte 1)\$" err &&
		test_expect_code 129 git thrum daemon start --json 2>err &&
		grep "^error: unknown option '"'"'--json'"'"'\$" err &&
		after=$(cat "$(sync_dir .)"/messages/*.jsonl | wc -l) &&
		test "$before" = "$after"
	)
'

test_expect_success 'a prefix: one option, else refused as ambiguous' '
	(
		cd r &&
		test_expect_code 129 git thrum init --no- 2>err &&
		grep "^error: option '"'"'--no-'"'"' is ambiguous\$" err &&
		git thrum inbox --include-d --no-m >out &&
		echo "no messages" >expect &&
		test_cmp expect out
	)
'

test_done

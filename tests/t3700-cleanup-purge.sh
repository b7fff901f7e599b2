#!/bin/sh
test_description='agent delete, purge and group update, on two synced clones

What agent delete and purge remove leaves every clone'\''s projection, the
same incrementally and after rebuild, whatever order the events arrive
in; the log keeps every line.  group update renames and describes.'
. ./lib-thrum.sh

OLD=2026-01-10T10:00:00Z
NEW=2026-02-10T10:00:00Z

# contents <file>: the content of each message of an inbox --json, sorted
contents() {
	sqlite3 :memory: "SELECT json_extract(value, '\$.body.content')
		FROM json_each(readfile('$1'), '\$.messages') ORDER BY 1;"
}

# names <file>: the name of each agent of agent list --json, sorted
names() {
	sqlite3 :memory: "SELECT json_extract(value, '\$.name')
		FROM json_each(readfile('$1'), '\$.agents') ORDER BY 1;"
}

# log_lines <repo>: the lines of every log file of a-sync as committed
log_lines() {
	git -C "$1" ls-tree -r --name-only a-sync >files &&
	for f in $(cat files)
	do
		case "$f" in
		*.jsonl) git -C "$1" show "a-sync:$f" || return 1 ;;
		esac
	done | wc -l | tr -d ' '
}

# answers <repo> <out>: what a clone says about every message, agents
# and groups (read as the agent named as the clone)
answers() {
	(
		cd "$1" &&
		THRUM_NAME=$1 git thrum inbox --all --no-mark-read --json \
			>"../$2.inbox" &&
		git thrum agent list --json >"../$2.agents" &&
		git thrum group list >"../$2.groups"
	) &&
	contents "$2.inbox" >"$2" &&
	names "$2.agents" >>"$2" &&
	cat "$2.groups" >>"$2"
}

test_expect_success 'setup: two clones, old and new messages, a helper' '
	setup_pair &&
	(
		cd alice &&
		THRUM_TEST_NOW=$OLD git thrum quickstart --name helper \
			--role aide --module m >/dev/null &&
		THRUM_TEST_NOW=$OLD THRUM_NAME=alice \
			git thrum send "old from alice" --to @bob >/dev/null &&
		THRUM_TEST_NOW=$NEW THRUM_NAME=alice \
			git thrum send "new from alice" --to @bob >/dev/null &&
		THRUM_TEST_NOW=$NEW THRUM_NAME=helper \
			git thrum send "from helper" --to @bob >/dev/null &&
		THRUM_NAME=alice git thrum group create leads \
			--description "the leads" >/dev/null
	) &&
	(
		cd bob &&
		THRUM_TEST_NOW=$OLD git thrum quickstart --name carol \
			--role aide --module m >/dev/null &&
		THRUM_TEST_NOW=$OLD THRUM_NAME=bob \
			git thrum send "old from bob" --to @alice >/dev/null
	) &&
	sync_round alice bob &&
	THRUM_NAME=bob thrum_in bob inbox >/dev/null &&
	answers bob before &&
	cat >expect <<-\EOF &&
	from helper
	new from alice
	old from alice
	old from bob
	alice
	bob
	carol
	helper
	leads: (no members)  # the leads
	EOF
	test_cmp expect before
'

test_expect_success 'bad input: usage, exit 129, nothing written' '
	ev="$(sync_dir alice)/events.jsonl" &&
	lines=$(count_lines "$ev") &&
	test_expect_code 129 thrum_in alice purge --yes 2>err &&
	grep "^error: --before is required" err &&
	test_expect_code 129 thrum_in alice purge --before soon --yes 2>err &&
	grep "^error: invalid --before '\''soon'\''" err &&
	test_expect_code 129 thrum_in alice purge --before 0d --yes 2>err &&
	test_expect_code 129 thrum_in alice purge --before 2026-13-45 \
		--yes 2>err &&
	test_expect_code 129 thrum_in alice agent delete 2>err &&
	test_expect_code 129 thrum_in alice agent delete "No/Such" --yes \
		2>err &&
	grep "^error: invalid agent name" err &&
	test_expect_code 129 env THRUM_NAME=alice \
		sh -c "cd alice && git thrum group update leads" 2>err &&
	grep "^error: nothing to update" err &&
	test_expect_code 129 env THRUM_NAME=alice \
		sh -c "cd alice && git thrum group update leads --name \"Bad Name\"" \
		2>err &&
	grep "^error: invalid group name" err &&
	test $(count_lines "$ev") = $lines
'

test_expect_success 'without a terminal and without --yes, nothing is done' '
	ev="$(sync_dir alice)/events.jsonl" &&
	lines=$(count_lines "$ev") &&
	THRUM_NAME=alice test_expect_code 129 thrum_in alice purge --before 2026-01-20 \
		</dev/null 2>err &&
	grep "^error: not a terminal: say --yes to purge 2 messages and 2 sessions from before 2026-01-20T00:00:00Z on every clone$" err &&
	test_expect_code 1 thrum_in alice purge --before 2026-01-20 --yes \
		2>err &&
	echo "error: several identities here (alice, helper): set THRUM_NAME to choose one" >expect &&
	test_cmp expect err &&
	test_expect_code 129 thrum_in alice agent delete helper </dev/null \
		2>err &&
	test_path_is_file alice/.thrum/identities/helper.json &&
	test_path_is_file alice/.thrum/identities/helper.key &&
	test $(count_lines "$ev") = $lines
'

test_expect_success 'someone else'\''s agent is refused: one line, exit 1' '
	ev="$(sync_dir alice)/events.jsonl" &&
	lines=$(count_lines "$ev") &&
	test_expect_code 1 thrum_in alice agent delete bob --yes 2>err &&
	echo "error: '\''bob'\'' is not an agent of this work tree: only those with an identity here can be deleted here" >expect &&
	test_cmp expect err &&
	test $(count_lines "$ev") = $lines
'

test_expect_success 'agent delete, purge and group update in one clone' '
	sync_round alice bob &&
	log_before=$(log_lines alice) &&
	thrum_in alice agent delete helper --yes >out &&
	echo "deleted agent '\''helper'\'' (the log keeps every line)" >expect &&
	test_cmp expect out &&
	test_path_is_missing alice/.thrum/identities/helper.json &&
	test_path_is_missing alice/.thrum/identities/helper.key &&
	THRUM_NAME=alice thrum_in alice purge --before 2026-01-20 --yes --json >p.json &&
	test "$(json_get p.json "$.before")" = 2026-01-20T00:00:00Z &&
	test "$(json_get p.json "$.messages_deleted")" = 2 &&
	test "$(json_get p.json "$.sessions_deleted")" = 1 &&
	THRUM_NAME=alice thrum_in alice group update leads --name chiefs \
		--description "the chiefs" >out &&
	echo "updated group '\''chiefs'\''" >expect &&
	test_cmp expect out &&
	grep "\"type\":\"agent.cleanup\"" "$(sync_dir alice)/events.jsonl" >c &&
	grep "\"agent_id\":\"helper\"" c &&
	grep "\"method\":\"manual\"" c &&
	grep "\"cutoff\":\"2026-01-20T00:00:00Z\"" \
		"$(sync_dir alice)/events.jsonl" &&
	grep "\"fields\":{\"description\":\"the chiefs\",\"name\":\"chiefs\"}" \
		"$(sync_dir alice)/events.jsonl" &&
	echo $log_before >log_before
'

test_expect_success 'a create from before the cutoff that arrives after the purge goes too' '
	THRUM_TEST_NOW=$OLD THRUM_NAME=bob \
		thrum_in bob send "late old from bob" --to @alice >/dev/null &&
	sync_round alice bob
'

test_expect_success 'the other clone: agent, old messages, sessions gone; group renamed' '
	answers bob after &&
	cat >expect <<-\EOF &&
	new from alice
	alice
	bob
	carol
	chiefs: (no members)  # the chiefs
	EOF
	test_cmp expect after &&
	thrum_in bob team >team &&
	! grep "^carol " team &&
	grep "^bob " team
'

test_expect_success 'this clone gives the same answers' '
	answers alice here &&
	test_cmp after here
'

test_expect_success 'the log keeps every line' '
	# the cleanup, the purge, the group update and the late message
	test $(log_lines alice) = $(($(cat log_before) + 4)) &&
	test $(log_lines bob) = $(log_lines alice) &&
	git -C bob show a-sync:messages/alice.jsonl >a &&
	grep "old from alice" a &&
	git -C bob show a-sync:messages/helper.jsonl >h &&
	grep "from helper" h
'

test_expect_success 'rebuild gives the same answers' '
	thrum_in bob rebuild >/dev/null &&
	answers bob rebuilt &&
	test_cmp after rebuilt &&
	thrum_in alice rebuild >/dev/null &&
	answers alice rebuilt-here &&
	test_cmp after rebuilt-here
'

test_done

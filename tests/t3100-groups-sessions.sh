#!/bin/sh
test_description='groups as audiences, sessions, team'
. ./lib-thrum.sh

test_expect_success 'setup: four agents' '
	thrum_repo repo &&
	(
		cd repo &&
		git thrum quickstart --name alice --role impl --module a &&
		git thrum quickstart --name bob --role review --module b &&
		git thrum quickstart --name carol --role review --module c &&
		git thrum quickstart --name dave --role ops --module d
	) >/dev/null
'

test_expect_success 'group create, add agents and roles, list' '
	as alice group create leads --description "the leads" >out &&
	grep -x "created group '\''leads'\'' (grp_[0-9A-Z]\{26\})" out &&
	as alice group add leads @dave role:review >/dev/null &&
	as alice group list >list &&
	echo "leads: @dave role:review  # the leads" >expect &&
	test_cmp expect list &&
	as alice group list --json >g.json &&
	test "$(json_get g.json "$.groups[0].name")" = leads &&
	test "$(json_get g.json "$.groups[0].members[1]")" = role:review
'

test_expect_success '--to @group reaches members, agents and roles alike' '
	as alice send "for the leads" --to @leads >/dev/null &&
	for who in bob carol dave
	do
		as $who inbox --no-mark-read >in.$who &&
		grep "for the leads" in.$who || return 1
	done &&
	as alice inbox --no-mark-read >in.alice &&
	! grep "for the leads" in.alice
'

test_expect_success 'remove a member: they stop receiving' '
	as alice group remove leads role:review >/dev/null &&
	as alice send "leads, take two" --to @leads >/dev/null &&
	as bob inbox --no-mark-read >in.bob &&
	! grep "take two" in.bob &&
	as dave inbox --no-mark-read >in.dave &&
	grep "take two" in.dave
'

test_expect_success 'a group of everyone' '
	as alice group create all-hands >/dev/null &&
	as alice group add all-hands "*" >/dev/null &&
	as dave send "hello all hands" --to @all-hands >/dev/null &&
	as bob inbox --no-mark-read >in.bob &&
	grep "hello all hands" in.bob
'

test_expect_success 'group errors: nothing is written' '
	ev="$(sync_dir repo)/events.jsonl" &&
	before=$(count_lines "$ev") &&
	test_must_fail as alice group create leads 2>err &&
	echo "error: '\''leads'\'' names a group already" >expect &&
	test_cmp expect err &&
	test_must_fail as alice group create bob 2>err &&
	echo "error: '\''bob'\'' names an agent already" >expect &&
	test_cmp expect err &&
	test_must_fail as alice group create Bad 2>err &&
	echo "error: invalid group name '\''Bad'\'': the name must start with a-z or 0-9" >expect &&
	test_cmp expect err &&
	test_must_fail as alice group add nosuch @bob 2>err &&
	echo "error: no group '\''nosuch'\''" >expect &&
	test_cmp expect err &&
	test_must_fail as alice group add leads @bob @nobody 2>err &&
	echo "error: unknown member '\''@nobody'\'': no agent or role of that name" >expect &&
	test_cmp expect err &&
	test "$(count_lines "$ev")" = "$before" &&
	test_expect_code 129 as alice group add leads 2>err
'

test_expect_success 'group delete: gone from list and from addressing' '
	as alice group delete leads >/dev/null &&
	as alice group list >list &&
	echo "all-hands: *" >expect &&
	test_cmp expect list &&
	test_must_fail as alice send "x" --to @leads 2>err &&
	echo "error: unknown recipient @leads: no agent, group or role of that name" >expect &&
	test_cmp expect err
'

test_expect_success 'session end and start, team shows who is active' '
	as dave session end --reason "done for today" >out &&
	echo "session ended" >expect &&
	test_cmp expect out &&
	as alice team >team &&
	cat >expect <<-EOF &&
	alice  impl    a       active    <age>
	bob    review  b       active    <age>
	carol  review  c       active    <age>
	EOF
	without_age team >actual &&
	test_cmp expect actual &&
	as alice agent list >agents &&
	grep -x "dave   ops     d       inactive  [0-9]* [a-z]* ago" agents &&
	grep "\"reason\":\"done for today\"" "$(sync_dir repo)/events.jsonl" &&
	test_must_fail as dave session end 2>err &&
	echo "error: no open session for '\''dave'\''" >expect &&
	test_cmp expect err &&
	as dave session start --intent "on call" >out &&
	grep -x "session ses_[0-9A-Z]\{26\} started" out &&
	as alice team >team &&
	grep -x "dave   ops     d       active    [0-9]* [a-z]* ago  on call" team &&
	as dave whoami --json >w.json &&
	test "$(json_get w.json "$.intent")" = "on call"
'

test_expect_success 'session start with one open ends it first' '
	old=$(json_get w.json "$.session_id") &&
	as dave session start >/dev/null &&
	grep "\"session_id\":\"$old\"" "$(sync_dir repo)/events.jsonl" |
		grep agent.session.end
'

# team shows "last seen" relative to now: both reads at one pinned instant
test_expect_success 'groups and sessions survive a rebuild' '
	as alice group list >before &&
	(THRUM_TEST_NOW=2030-01-01T00:00:00Z && export THRUM_TEST_NOW &&
	 as alice team) >team.before &&
	as alice rebuild >/dev/null &&
	as alice group list >after &&
	(THRUM_TEST_NOW=2030-01-01T00:00:00Z && export THRUM_TEST_NOW &&
	 as alice team) >team.after &&
	test_cmp before after &&
	test_cmp team.before team.after
'

test_done

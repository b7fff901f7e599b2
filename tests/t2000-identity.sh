#!/bin/sh
test_description='quickstart, whoami and choosing an identity'
. ./lib-thrum.sh

test_expect_success 'setup' '
	thrum_repo repo
'

test_expect_success 'quickstart registers and starts a session' '
	(cd repo && git thrum quickstart --name alice --role impl \
		--module core --intent "build the thing" >../out) &&
	grep "Registered agent .alice." out &&
	test_path_is_file repo/.thrum/identities/alice.json &&
	test "$(stat -c %a repo/.thrum/identities/alice.json)" = 600 &&
	ev="$(sync_dir repo)/events.jsonl" &&
	grep "\"type\":\"agent.register\"" "$ev" &&
	grep "\"type\":\"agent.session.start\"" "$ev" &&
	grep "\"intent\":\"build the thing\"" "$ev"
'

test_expect_success 'whoami' '
	(cd repo && git thrum whoami >../out && git thrum whoami --json \
		>../who.json) &&
	grep "^alice (role impl, module core)" out &&
	json_valid who.json &&
	test "$(json_get who.json "$.name")" = alice &&
	test "$(json_get who.json "$.intent")" = "build the thing"
'

test_expect_success 'quickstart again: new session, old one ended' '
	old=$(json_get who.json "$.session_id") &&
	(cd repo && git thrum quickstart --name alice --role impl \
		--module core >../out) &&
	grep "Updated agent" out &&
	ev="$(sync_dir repo)/events.jsonl" &&
	grep "agent.session.end" "$ev" >ended &&
	grep "$old" ended &&
	test "$(grep -c agent.register "$ev")" = 1
'

test_expect_success 'team and agent list show the agent' '
	(cd repo && git thrum team >../team && git thrum agent list --json \
		>../agents.json) &&
	grep "^alice  *impl  *core  *active" team &&
	test "$(json_get agents.json "$.agents[0].name")" = alice &&
	test "$(json_get agents.json "$.agents[0].intent")" = "build the thing"
'

for bad in Alice -x "a b" daemon everyone all "$(printf "%070d" 0)"
do
	test_expect_success "invalid name '$bad' is a usage error" "
		(cd repo && test_expect_code 129 git thrum quickstart \
			--name '$bad' --role impl --module core 2>../err) &&
		grep 'invalid agent name' err &&
		test_path_is_missing 'repo/.thrum/identities/$bad.json'
	"
done

test_expect_success 'missing options are a usage error' '
	(cd repo && test_expect_code 129 git thrum quickstart --name bob \
		2>../err) &&
	grep "are required" err
'

test_expect_success 'two identities without THRUM_NAME: the candidates' '
	(cd repo && git thrum quickstart --name bob --role review \
		--module ui >/dev/null &&
	 test_must_fail git thrum whoami 2>../err) &&
	grep "several identities here (alice, bob)" err &&
	grep THRUM_NAME err &&
	test_line_count = 1 err
'

test_expect_success 'THRUM_NAME chooses' '
	(cd repo && THRUM_NAME=bob git thrum whoami >../out) &&
	grep "^bob " out
'

test_expect_success 'THRUM_NAME naming nobody, or garbage' '
	(cd repo && THRUM_NAME=carol test_must_fail git thrum whoami \
		2>../err) &&
	grep "no identity .carol." err &&
	(cd repo && THRUM_NAME=../x test_must_fail git thrum whoami \
		2>../err) &&
	grep "invalid THRUM_NAME" err
'

test_expect_success 'a corrupt identity file is named' '
	echo "{ not json" >repo/.thrum/identities/bob.json &&
	(cd repo && THRUM_NAME=bob test_must_fail git thrum send hi \
		2>../err) &&
	grep "corrupt identity file .*bob.json" err &&
	(cd repo && THRUM_NAME=alice git thrum inbox --all --no-mark-read \
		>../inbox) &&
	! grep "^\* .* from bob" inbox
'

test_expect_success 'identities are per work tree, not committed' '
	git -C repo status --porcelain --ignored >status &&
	grep "!! .thrum/" status
'

test_done

#!/bin/sh
test_description='quickstart, whoami and choosing an identity'
. ./lib-thrum.sh

test_expect_success 'setup' '
	thrum_repo repo
'

test_expect_success 'quickstart registers and starts a session' '
	(cd repo && git thrum quickstart --name alice --role impl \
		--module core --intent "build the thing" >../out) &&
	grep -x "Registered agent '\''alice'\'' (role impl, module core), session ses_[0-9A-Z]\{26\}" out &&
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
	json_valid who.json &&
	cat >expect <<-EOF &&
	alice (role impl, module core)
	  agent id: alice
	  session:  $(json_get who.json "$.session_id")
	  intent:   build the thing
	EOF
	test_cmp expect out &&
	test "$(json_get who.json "$.name")" = alice &&
	test "$(json_get who.json "$.intent")" = "build the thing"
'

test_expect_success 'quickstart again: new session, old one ended' '
	old=$(json_get who.json "$.session_id") &&
	(cd repo && git thrum quickstart --name alice --role impl \
		--module core >../out) &&
	grep -x "Updated agent '\''alice'\'' (role impl, module core), session ses_[0-9A-Z]\{26\}" out &&
	ev="$(sync_dir repo)/events.jsonl" &&
	grep "agent.session.end" "$ev" >ended &&
	grep "$old" ended &&
	test "$(grep -c agent.register "$ev")" = 1
'

test_expect_success 'team and agent list show the agent' '
	(cd repo && git thrum team >../team && git thrum agent list --json \
		>../agents.json) &&
	echo "alice  impl  core    active    <age>  build the thing" >expect &&
	without_age team >actual &&
	test_cmp expect actual &&
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
	echo "error: several identities here (alice, bob): set THRUM_NAME to choose one" >expect &&
	test_cmp expect err
'

test_expect_success 'THRUM_NAME chooses' '
	(cd repo && THRUM_NAME=bob git thrum whoami >../out &&
	 THRUM_NAME=bob git thrum whoami --json >../who.json) &&
	cat >expect <<-EOF &&
	bob (role review, module ui)
	  agent id: bob
	  session:  $(json_get who.json "$.session_id")
	EOF
	test_cmp expect out
'

test_expect_success 'THRUM_NAME naming nobody, or garbage' '
	(cd repo && THRUM_NAME=carol test_must_fail git thrum whoami \
		2>../err) &&
	echo "error: no identity '\''carol'\'' in this work tree (THRUM_NAME); create it with '\''git thrum quickstart --name carol --role R --module M'\''" >expect &&
	test_cmp expect err &&
	(cd repo && THRUM_NAME=../x test_must_fail git thrum whoami \
		2>../err) &&
	echo "error: invalid THRUM_NAME '\''../x'\'': the name must start with a-z or 0-9" >expect &&
	test_cmp expect err
'

test_expect_success 'a corrupt identity file is named' '
	echo "{ not json" >repo/.thrum/identities/bob.json &&
	(cd repo && THRUM_NAME=bob test_must_fail git thrum send hi \
		2>../err) &&
	echo "error: corrupt identity file '\''$(pwd)/repo/.thrum/identities/bob.json'\'': not valid JSON" >expect &&
	test_cmp expect err &&
	(cd repo && THRUM_NAME=alice git thrum inbox --all --no-mark-read \
		>../inbox) &&
	! grep "^\* .* from bob" inbox
'

test_expect_success 'identities are per work tree, not committed' '
	git -C repo status --porcelain --ignored >status &&
	grep "!! .thrum/" status
'

test_done

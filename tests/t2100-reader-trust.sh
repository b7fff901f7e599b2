#!/bin/sh
test_description='reading with no identity, quickstart with no name, and nothing taken from tracked files'
. ./lib-thrum.sh

test_expect_success 'setup: alice sends on one clone; bob, a human, has nobody registered' '
	setup_pair &&
	thrum_in alice send "for everyone" >/dev/null &&
	thrum_in alice send "for bob only" --to @bob >/dev/null &&
	sync_round alice bob &&
	git clone -q remote.git carol &&
	git -C carol config thrum.localOnly false &&
	git -C carol config user.name "Carol Q. Human" &&
	(cd carol && git thrum init >/dev/null)
'

test_expect_success 'inbox with no identity: the human user reads the broadcasts' '
	(cd carol && git thrum inbox >../inbox) &&
	grep "for everyone" inbox &&
	! grep "for bob only" inbox &&
	(cd carol && git thrum inbox --json --no-mark-read >../inbox.json) &&
	test "$(json_get inbox.json "$.messages[0].is_read")" = 1
'

test_expect_success 'the human user'"'"'s read marks stay in this clone' '
	(cd carol && git thrum inbox --unread >../unread) &&
	grep -x "no messages" unread &&
	! grep -r "message.receipt" "$(sync_dir carol)" &&
	grep "\"agent_id\":\"user:carol-q-human\"" carol/.thrum/var/local.jsonl &&
	grep "\"type\":\"message.receipt\"" carol/.thrum/var/local.jsonl &&
	(cd carol && git thrum sync force >/dev/null) &&
	git -C remote.git show a-sync:messages/alice.jsonl >log &&
	! grep "user:carol" log
'

test_expect_success 'the read marks survive a rebuild' '
	(cd carol && git thrum rebuild >/dev/null &&
	 git thrum inbox --unread >../unread) &&
	grep -x "no messages" unread
'

test_expect_success 'message show, wait, team and agent list work with no identity' '
	id=$(cd carol && git thrum inbox --all --no-mark-read --json |
		sed -n "s/.*\"message_id\":\"\\(msg_[0-9A-Z]*\\)\".*/\\1/p" |
		head -n 1) &&
	(cd carol && git thrum message show "$id" --no-mark-read >../show) &&
	cat >expect <<-EOF &&
	  $id  from alice to @everyone  <age>
	    for everyone
	    key SHA256:<fingerprint>
	EOF
	without_age show >aged &&
	sed "s|key SHA256:[A-Za-z0-9+/]\{43\}\$|key SHA256:<fingerprint>|" \
		aged >actual &&
	test_cmp expect actual &&
	(cd carol && git thrum team >../team && git thrum agent list >../agents) &&
	grep "^alice " team &&
	grep "^bob " agents &&
	(cd carol && test_expect_code 1 git thrum wait --timeout 0 2>../wait.err) &&
	echo "no message within 0 seconds" >expect &&
	test_cmp expect wait.err
'

test_expect_success 'send with no identity says how to make one, writes nothing' '
	before=$(cat "$(sync_dir carol)"/messages/*.jsonl | wc -l) &&
	(cd carol && test_must_fail git thrum send "hello" 2>../err) &&
	echo "error: no identity in this work tree; create one with '\''git thrum quickstart --role R --module M'\'' (--name N to choose the name)" >expect &&
	test_cmp expect err &&
	test "$(cat "$(sync_dir carol)"/messages/*.jsonl | wc -l)" = "$before"
'

test_expect_success 'quickstart with no name: the original'"'"'s <role>_<10 base32>, stable' '
	(cd carol && git thrum quickstart --role implementer --module api \
		--intent "Working on API changes" >../qs) &&
	sed -n "s/^Registered agent .\\([a-z0-9_]*\\). .*/\\1/p" qs >name &&
	grep -x "implementer_[0-9a-hjkmnp-tv-z]\\{10\\}" name &&
	(cd carol && git thrum quickstart --role implementer --module api \
		>../qs2) &&
	grep -x "Updated agent '\''$(cat name)'\'' (role implementer, module api), session ses_[0-9A-Z]\{26\}" qs2 &&
	(cd carol && git thrum whoami --json >../who.json) &&
	test "$(json_get who.json "$.intent")" = "Working on API changes" &&
	test "$(json_get who.json "$.name")" = "$(cat name)"
'

test_expect_success 'the name is the one the original makes for that origin, role and module' '
	git init -q named &&
	git -C named commit -q --allow-empty -m i &&
	git -C named remote add origin https://github.com/leonletto/thrum.git &&
	(cd named && git thrum init >/dev/null &&
	 git thrum quickstart --role implementer --module api >../qs) &&
	grep -x "Registered agent '\''implementer_csbn3cd94c'\'' (role implementer, module api), session ses_[0-9A-Z]\{26\}" qs &&
	git init -q unnamed &&
	git -C unnamed commit -q --allow-empty -m i &&
	(cd unnamed && git thrum init >/dev/null &&
	 git thrum quickstart --role implementer --module api >../qs 2>../err) &&
	grep -x "Registered agent '\''implementer_c2ehxt4m7g'\'' (role implementer, module api), session ses_[0-9A-Z]\{26\}" qs &&
	test_must_be_empty err
'

# a project that commits thrum files must not configure or impersonate
test_expect_success 'setup: a project that commits .thrum/config and an identity' '
	git init -q --bare planted.git &&
	new_repo planter &&
	mkdir -p planter/.thrum/identities &&
	printf "[thrum]\\nlocalOnly = false\\n" >planter/.thrum/config &&
	echo "{\"agent_id\":\"mallory\",\"kind\":\"agent\",\"module\":\"m\",\"name\":\"mallory\",\"role\":\"r\"}" \
		>planter/.thrum/identities/mallory.json &&
	git -C planter add -f .thrum &&
	git -C planter commit -q -m "commit thrum files" &&
	git -C planter push -q ../planted.git HEAD:main &&
	git clone -q planted.git victim &&
	test_path_is_file victim/.thrum/config &&
	(cd victim && git thrum init >/dev/null 2>../init.err)
'

test_expect_success 'a tracked .thrum/config is ignored, with a warning' '
	(cd victim && git thrum config >../config 2>../config.err) &&
	grep -x "thrum.localOnly=true	(default)" config &&
	echo "warning: ignoring '\''$(pwd)/victim/.thrum/config'\'': git tracks it, and thrum takes no configuration from tracked files (use '\''git config thrum.<key>'\'')" >expect &&
	test_cmp expect config.err
'

test_expect_success 'a tracked identity is never used' '
	(cd victim && test_must_fail git thrum whoami 2>../who.err) &&
	cat >expect <<-EOF &&
	warning: ignoring the identity '\''$(pwd)/victim/.thrum/identities/mallory.json'\'': git tracks it, and thrum takes no identity from tracked files
	error: no identity in this work tree; create one with '\''git thrum quickstart --role R --module M'\'' (--name N to choose the name)
	EOF
	test_cmp expect who.err &&
	(cd victim && test_must_fail git thrum send "as mallory" 2>/dev/null) &&
	! grep -r "as mallory" "$(sync_dir victim)"
'

test_expect_success 'an identity thrum wrote is used, one that changed behind its back is asked about' '
	(cd victim && git thrum quickstart --name real --role r --module m \
		>/dev/null 2>&1 && git thrum whoami >../who) &&
	grep -x "real (role r, module m)" who &&
	cp victim/.thrum/identities/real.json real.json &&
	rm victim/.thrum/identities/real.json &&
	cp real.json victim/.thrum/identities/real.json &&
	(cd victim && git thrum whoami >../who 2>../who.err) &&
	grep -x "real (role r, module m)" who
'

test_done

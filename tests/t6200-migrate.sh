#!/bin/sh
test_description='git thrum migrate: a log tracked on the main branch moves to a-sync'
. ./lib-thrum.sh

E=01JKM4T2YQ8M3E5X6Z7A9B0C

test_expect_success 'setup: a repository in the old layout' '
	new_repo old &&
	mkdir -p old/.thrum/messages &&
	cat >old/.thrum/events.jsonl <<-EOF &&
	{"agent_id":"furiosa","event_id":"evt_${E}01","kind":"agent","module":"auth","name":"furiosa","origin_daemon":"d_${E}99","role":"implementer","sequence":1,"timestamp":"2026-02-03T10:00:00.123Z","type":"agent.register","v":1}
	{"agent_id":"nux","event_id":"evt_${E}02","kind":"agent","module":"ui","name":"nux","origin_daemon":"d_${E}99","role":"reviewer","sequence":2,"timestamp":"2026-02-03T10:00:00.2Z","type":"agent.register","v":1}
	EOF
	cat >old/.thrum/messages/furiosa.jsonl <<-EOF &&
	{"agent_id":"furiosa","body":{"content":"from the old layout \u003cok\u003e","format":"markdown"},"event_id":"evt_${E}03","message_id":"msg_${E}03","origin_daemon":"d_${E}99","recipients":["nux"],"refs":[{"type":"mention","value":"nux"}],"sequence":3,"session_id":"ses_${E}01","timestamp":"2026-02-03T10:01:00.5Z","type":"message.create","v":1}
	EOF
	git -C old add .thrum &&
	git -C old commit -q -m "old thrum layout" &&
	cp old/.thrum/events.jsonl events.orig &&
	cp old/.thrum/messages/furiosa.jsonl furiosa.orig
'

test_expect_success 'a dirty work tree is refused' '
	echo change >old/file &&
	git -C old add file &&
	(cd old && test_must_fail git thrum migrate 2>../err) &&
	grep "uncommitted changes" err &&
	git -C old commit -q -m file
'

test_expect_success 'migrate moves every line, byte for byte' '
	before=$(git -C old rev-parse HEAD) &&
	(cd old && git thrum migrate >../out) &&
	grep "^migrated 2 files to a-sync" out &&
	sd=$(sync_dir old) &&
	test_cmp events.orig "$sd/events.jsonl" &&
	test_cmp furiosa.orig "$sd/messages/furiosa.jsonl"
'

test_expect_success 'the main branch lets go of the files in one commit' '
	test "$(git -C old rev-parse HEAD^)" = "$before" &&
	git -C old show --stat --format=%s HEAD >commit &&
	grep "^thrum: move the event log to branch a-sync" commit &&
	git -C old ls-files .thrum >tracked &&
	test_must_be_empty tracked &&
	grep -x ".thrum/" old/.gitignore &&
	git -C old status --porcelain >st &&
	test_must_be_empty st
'

test_expect_success 'the old messages show' '
	(cd old && git thrum quickstart --name nux --role reviewer --module ui \
		>/dev/null && git thrum inbox --no-mark-read >../inbox) &&
	grep "from the old layout <ok>" inbox
'

test_expect_success 'migrate again: nothing to do' '
	(cd old && git thrum migrate >../out) &&
	grep "^nothing to migrate" out
'

test_expect_success 'migrating into an a-sync that holds some of it already' '
	new_repo both &&
	mkdir -p both/.thrum/messages &&
	cp furiosa.orig both/.thrum/messages/furiosa.jsonl &&
	git -C both add -f .thrum &&
	git -C both commit -q -m old &&
	(cd both && git thrum init >/dev/null) &&
	sd=$(sync_dir both) &&
	mkdir -p "$sd/messages" &&
	cp furiosa.orig "$sd/messages/furiosa.jsonl" &&
	git -C both status --porcelain --untracked-files=no >st &&
	test_must_be_empty st &&
	(cd both && git thrum migrate >/dev/null) &&
	test_cmp furiosa.orig "$sd/messages/furiosa.jsonl"
'

test_done

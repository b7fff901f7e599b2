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
	echo "error: the work tree has uncommitted changes; commit or stash them first" >expect &&
	test_cmp expect err &&
	git -C old commit -q -m file
'

test_expect_success 'migrate moves every line, byte for byte' '
	before=$(git -C old rev-parse HEAD) &&
	(cd old && git thrum migrate >../out) &&
	echo "migrated 3 events from 2 files to a-sync; the main branch no longer tracks them" >expect &&
	test_cmp expect out &&
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
	grep -x ".thrum/" old/.git/info/exclude &&
	test_path_is_missing old/.gitignore &&
	test_path_is_missing old/.thrum/messages &&
	git -C old status --porcelain >st &&
	test_must_be_empty st
'

test_expect_success 'migrate is the whole step: hooks, and the log committed on a-sync' '
	(cd old && git thrum hooks status >../hooks) &&
	grep reference-transaction hooks &&
	git -C old show a-sync:events.jsonl >committed &&
	test_cmp events.orig committed &&
	git -C old show a-sync:messages/furiosa.jsonl >committed &&
	test_cmp furiosa.orig committed
'

test_expect_success 'the old messages show' '
	(cd old && git thrum quickstart --name nux --role reviewer --module ui \
		>/dev/null && git thrum inbox --no-mark-read >../inbox) &&
	grep "from the old layout <ok>" inbox
'

test_expect_success 'migrate again: nothing to do' '
	(cd old && git thrum migrate >../out) &&
	echo "nothing to migrate: no log is tracked on the current branch" >expect &&
	test_cmp expect out
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

test_expect_success 'a mostly unreadable old log is refused, nothing written' '
	new_repo junk &&
	mkdir -p junk/.thrum/messages &&
	printf "not json\n{\"half\":\n" >junk/.thrum/events.jsonl &&
	cp furiosa.orig junk/.thrum/messages/furiosa.jsonl &&
	git -C junk add -f .thrum &&
	git -C junk commit -q -m old &&
	head=$(git -C junk rev-parse HEAD) &&
	(cd junk && test_must_fail git thrum migrate 2>../err) &&
	cat >expect <<-EOF &&
	error: 2 of the 3 lines of the old log cannot be read; nothing was migrated. The first:
	  .thrum/events.jsonl:1: not valid JSON
	  .thrum/events.jsonl:2: not valid JSON
	EOF
	test_cmp expect err &&
	test "$(git -C junk rev-parse HEAD)" = "$head" &&
	test_path_is_missing junk/.thrum/var &&
	test_must_fail git -C junk rev-parse -q --verify refs/heads/a-sync
'

test_expect_success 'unreadable lines in a readable log are moved and counted' '
	new_repo some &&
	mkdir -p some/.thrum/messages &&
	{ cat events.orig && echo "not json"; } >some/.thrum/events.jsonl &&
	git -C some add -f .thrum &&
	git -C some commit -q -m old &&
	(cd some && git thrum migrate >../out) &&
	echo "migrated 2 events from 1 file to a-sync (1 line could not be read, kept as they were; see '\''git thrum fsck'\''); the main branch no longer tracks them" >expect &&
	test_cmp expect out &&
	grep -x "not json" "$(sync_dir some)/events.jsonl"
'

# what the original's own tooling produces: the old tracked layout, ids
# that are counters (evt_00000362, msg_00000041, ses_000099, grp_0000),
# no origin_daemon or sequence, trimmed timestamps
test_expect_success 'setup: a generated old-layout repository (50 agents, 20 groups, 3000 messages)' '
	git init -q --bare big.git &&
	new_repo big &&
	mkdir -p big/.thrum/messages &&
	awk -v dir=big/.thrum "BEGIN {
		e = 0
		for (a = 0; a < 50; a++) {
			printf \"{\\\"agent_id\\\":\\\"agent_%02d\\\",\\\"event_id\\\":\\\"evt_%08d\\\",\\\"kind\\\":\\\"agent\\\",\\\"module\\\":\\\"mod%d\\\",\\\"name\\\":\\\"agent_%02d\\\",\\\"role\\\":\\\"role%d\\\",\\\"timestamp\\\":\\\"2026-02-03T09:00:%02d.5Z\\\",\\\"type\\\":\\\"agent.register\\\",\\\"v\\\":1}\\n\", a, ++e, a % 7, a, a % 5, a % 60 > dir \"/events.jsonl\"
			printf \"{\\\"agent_id\\\":\\\"agent_%02d\\\",\\\"event_id\\\":\\\"evt_%08d\\\",\\\"session_id\\\":\\\"ses_%06d\\\",\\\"timestamp\\\":\\\"2026-02-03T09:01:%02dZ\\\",\\\"type\\\":\\\"agent.session.start\\\",\\\"v\\\":1}\\n\", a, ++e, a, a % 60 > dir \"/events.jsonl\"
		}
		for (g = 0; g < 20; g++) {
			printf \"{\\\"created_by\\\":\\\"agent_00\\\",\\\"event_id\\\":\\\"evt_%08d\\\",\\\"group_id\\\":\\\"grp_%04d\\\",\\\"name\\\":\\\"group%02d\\\",\\\"timestamp\\\":\\\"2026-02-03T09:02:%02dZ\\\",\\\"type\\\":\\\"group.create\\\",\\\"v\\\":1}\\n\", ++e, g, g, g > dir \"/events.jsonl\"
			printf \"{\\\"added_by\\\":\\\"agent_00\\\",\\\"event_id\\\":\\\"evt_%08d\\\",\\\"group_id\\\":\\\"grp_%04d\\\",\\\"member_type\\\":\\\"role\\\",\\\"member_value\\\":\\\"role%d\\\",\\\"timestamp\\\":\\\"2026-02-03T09:03:%02dZ\\\",\\\"type\\\":\\\"group.member.add\\\",\\\"v\\\":1}\\n\", ++e, g, g % 5, g > dir \"/events.jsonl\"
			printf \"{\\\"added_by\\\":\\\"agent_00\\\",\\\"event_id\\\":\\\"evt_%08d\\\",\\\"group_id\\\":\\\"grp_%04d\\\",\\\"member_type\\\":\\\"agent\\\",\\\"member_value\\\":\\\"agent_%02d\\\",\\\"timestamp\\\":\\\"2026-02-03T09:04:%02dZ\\\",\\\"type\\\":\\\"group.member.add\\\",\\\"v\\\":1}\\n\", ++e, g, 49 - g, g > dir \"/events.jsonl\"
		}
		for (m = 1; m <= 3000; m++) {
			a = m % 50
			ref = m > 1 && m % 3 == 0 ? sprintf(\",\\\"refs\\\":[{\\\"type\\\":\\\"reply_to\\\",\\\"value\\\":\\\"msg_%08d\\\"}],\\\"thread_id\\\":\\\"thr_%06d\\\"\", m - 1, m) : sprintf(\",\\\"scopes\\\":[{\\\"type\\\":\\\"broadcast\\\",\\\"value\\\":\\\"everyone\\\"}]\")
			printf \"{\\\"agent_id\\\":\\\"agent_%02d\\\",\\\"body\\\":{\\\"content\\\":\\\"message %d\\\",\\\"format\\\":\\\"markdown\\\"},\\\"event_id\\\":\\\"evt_%08d\\\",\\\"message_id\\\":\\\"msg_%08d\\\"%s,\\\"session_id\\\":\\\"ses_%06d\\\",\\\"timestamp\\\":\\\"2026-02-03T%02d:%02d:%02d.%dZ\\\",\\\"type\\\":\\\"message.create\\\",\\\"v\\\":1}\\n\", a, m, ++e, m, ref, a, 10 + int(m / 3600), int(m / 60) % 60, m % 60, m % 9 + 1 > dir \"/messages/agent_\" sprintf(\"%02d\", a) \".jsonl\"
		}
	}" &&
	test "$(cat big/.thrum/events.jsonl big/.thrum/messages/*.jsonl | wc -l)" = 3160 &&
	git -C big add -f .thrum &&
	git -C big commit -q -m "the old layout, as the original wrote it" &&
	git -C big remote add origin "file://$(pwd)/big.git" &&
	git -C big push -q origin HEAD:main &&
	git -C big config thrum.localOnly false
'

test_expect_success 'migrate reads every line of it and pushes a-sync' '
	(cd big && git thrum migrate >../out 2>../err) &&
	echo "migrated 3160 events from 51 files to a-sync; the main branch no longer tracks them" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	git -C big.git rev-parse --verify -q refs/heads/a-sync &&
	(cd big && git thrum fsck >../fsck 2>&1) &&
	grep "^ok: no errors" fsck &&
	! grep -i "skip\|unparse\|cannot\|conflict" fsck
'

# json_count <file> <path>: the length of a JSON array
json_count() {
	sqlite3 :memory: "SELECT json_array_length(readfile('$1'), '$2');"
}

test_expect_success 'a fresh clone shows every message, agent, group and member' '
	git clone -q big.git fresh-clone &&
	(cd fresh-clone && git thrum init >/dev/null &&
	 git thrum inbox --all --no-mark-read --json >../inbox.json &&
	 git thrum agent list --json >../agents.json &&
	 git thrum group list --json >../groups.json) &&
	test "$(json_count inbox.json "\$.messages")" = 3000 &&
	test "$(json_count agents.json "\$.agents")" = 50 &&
	test "$(json_count groups.json "\$.groups")" = 20 &&
	sqlite3 :memory: "SELECT SUM(json_array_length(value, '"'"'\$.members'"'"'))
		FROM json_each(readfile('"'"'groups.json'"'"'), '"'"'\$.groups'"'"');" >members &&
	echo 40 >expect &&
	test_cmp expect members &&
	test "$(json_get inbox.json "\$.messages[0].message_id")" = msg_00003000 &&
	test "$(json_get inbox.json "\$.messages[0].reply_to")" = msg_00002999 &&
	(cd fresh-clone && git thrum message show msg_00000041 --no-mark-read >../one) &&
	grep "message 41" one
'

test_done

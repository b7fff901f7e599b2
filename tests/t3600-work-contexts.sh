#!/bin/sh
test_description='work contexts: published by session, merged by session, who-has, team, overview'
. ./lib-thrum.sh

# pinned instants from now on, whole seconds: ahead of every real event
# of this script but less than a day (the projection orders an event
# from further ahead at the day's end)
at() {
	date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ
}

updates() {
	grep -c "\"type\":\"agent.update\"" "$(sync_dir "$1")/events.jsonl"
}

# more_updates <repo> <n>: it holds more than n agent.update lines
more_updates() {
	test $(updates "$1") -gt "$2"
}

test_expect_success 'setup: two synced clones; alice works on a branch' '
	setup_pair &&
	(
		cd alice &&
		git checkout -q -b topic &&
		echo one >feature.c &&
		git add feature.c &&
		git commit -q -m feature &&
		echo two >notes.txt
	) &&
	alice_sid=$(thrum_in alice whoami --json | jq -r .session_id) &&
	test -n "$alice_sid"
'

test_expect_success 'who-has answers live from this machine at once' '
	cat >expect <<-\EOF &&
	alice: uncommitted, on topic: 2 changes (this machine, now)
	EOF
	thrum_in alice who-has notes.txt >actual &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	alice: committed, on topic: 2 changes (this machine, now)
	EOF
	thrum_in alice who-has feature.c >actual &&
	test_cmp expect actual &&
	echo "nobody is editing README" >expect &&
	thrum_in alice who-has README >actual &&
	test_cmp expect actual &&
	test 0 = $(updates alice)
'

test_expect_success 'who-has takes paths from the current directory' '
	mkdir -p alice/sub &&
	echo x >alice/sub/deep.c &&
	(cd alice/sub && git thrum who-has deep.c) >actual &&
	echo "alice: uncommitted, on topic: 3 changes (this machine, now)" \
		>expect &&
	test_cmp expect actual &&
	(cd alice/sub && git thrum who-has "$(pwd)/deep.c") >actual &&
	test_cmp expect actual &&
	rm -r alice/sub &&
	test_expect_code 1 thrum_in alice who-has ../elsewhere 2>err &&
	grep "is not a file in this work tree" err &&
	test_expect_code 129 thrum_in alice who-has 2>err
'

test_expect_success 'the other clone sees nothing before it is published' '
	echo "nobody is editing notes.txt" >expect &&
	thrum_in bob who-has notes.txt >actual &&
	test_cmp expect actual
'

test_expect_success 'heartbeat publishes the context in the original shape' '
	echo "work context published" >expect &&
	thrum_in alice session heartbeat >actual &&
	test_cmp expect actual &&
	test 1 = $(updates alice) &&
	grep "\"type\":\"agent.update\"" "$(sync_dir alice)/events.jsonl" |
		jq -c ".work_contexts[0] | del(.git_updated_at)" >actual &&
	printf "%s\n" "{\"branch\":\"topic\",\"changed_files\":[\"feature.c\"],\"session_id\":\"$alice_sid\",\"uncommitted_files\":[\"notes.txt\"],\"worktree_path\":\"$(pwd)/alice\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'after sync the other clone has it: who-has, --json' '
	sync_round alice bob &&
	echo "alice: uncommitted, on topic: 2 changes" >expect &&
	thrum_in bob who-has notes.txt >actual &&
	test_cmp expect actual &&
	thrum_in bob who-has notes.txt --json >out &&
	jq -c "{path, agents: [.agents[] | {agent_id, name, session_id,
		branch, worktree_path, uncommitted, committed, live}]}" \
		out >actual &&
	printf "%s\n" "{\"path\":\"notes.txt\",\"agents\":[{\"agent_id\":\"alice\",\"name\":\"alice\",\"session_id\":\"$alice_sid\",\"branch\":\"topic\",\"worktree_path\":\"$(pwd)/alice\",\"uncommitted\":true,\"committed\":false,\"live\":false}]}" >expect &&
	test_cmp expect actual &&
	jq -e ".agents[0].updated_at | test(\"^[0-9-]+T[0-9:]+Z\$\")" out &&
	echo "alice: uncommitted, on topic: 2 changes (this machine, now)" \
		>expect &&
	thrum_in alice who-has notes.txt >actual &&
	test_cmp expect actual
'

test_expect_success 'team shows each agent branch and change count' '
	cat >expect <<-\EOF &&
	alice  alice-role  m       active    <age>
	  on topic: 2 changes
	bob    bob-role    m       active    <age>
	EOF
	thrum_in bob team >out &&
	without_age out >actual &&
	test_cmp expect actual &&
	thrum_in bob team --json >out &&
	jq -c "[.agents[] | {name, w: [.work_contexts[] | {branch, changes,
		changed_files, uncommitted_files}]}]" out >actual &&
	cat >expect <<-\EOF &&
	[{"name":"alice","w":[{"branch":"topic","changes":2,"changed_files":["feature.c"],"uncommitted_files":["notes.txt"]}]},{"name":"bob","w":[]}]
	EOF
	test_cmp expect actual
'

test_expect_success 'work contexts merge by session from two machines' '
	# the same agent on a second machine carries its key along (its
	# lines signed by another key would not count)
	mkdir -p bob/.thrum/identities &&
	cp alice/.thrum/identities/alice.key bob/.thrum/identities/ &&
	chmod 600 bob/.thrum/identities/alice.key &&
	(
		cd bob &&
		git thrum quickstart --name alice --role alice-role \
			--module m >/dev/null &&
		echo three >bob-side.c
	) &&
	bob_alice_sid=$(THRUM_NAME=alice thrum_in bob whoami --json |
		jq -r .session_id) &&
	test "$bob_alice_sid" != "$alice_sid" &&
	echo "work context published" >expect &&
	THRUM_NAME=alice thrum_in bob session heartbeat >actual &&
	test_cmp expect actual &&
	sync_round bob alice &&
	for r in alice bob
	do
		thrum_in $r team --json >out &&
		jq -r ".agents[] | select(.name == \"alice\") |
			.work_contexts[] | \"\(.session_id) \(.branch) \(.changes)\"" \
			out | sort >actual &&
		printf "%s\n" "$alice_sid topic 2" "$bob_alice_sid main 1" |
			sort >expect &&
		test_cmp expect actual || return 1
	done
'

test_expect_success 'a newer context replaces its own session only' '
	rm alice/notes.txt &&
	echo four >alice/more.c &&
	echo "work context published" >expect &&
	THRUM_TEST_NOW=$(at 120) thrum_in alice session heartbeat >actual &&
	test_cmp expect actual &&
	sync_round alice bob &&
	thrum_in bob team --json >out &&
	jq -r ".agents[] | select(.name == \"alice\") |
		.work_contexts[] | \"\(.session_id) \(.branch) \(.changes)\"" \
		out | sort >actual &&
	printf "%s\n" "$alice_sid topic 2" "$bob_alice_sid main 1" |
		sort >expect &&
	test_cmp expect actual &&
	echo "alice: uncommitted, on topic: 2 changes" >expect &&
	thrum_in bob who-has more.c >actual &&
	test_cmp expect actual &&
	echo "nobody is editing notes.txt" >expect &&
	thrum_in bob who-has notes.txt >actual &&
	test_cmp expect actual
'

test_expect_success 'rebuild gives the same contexts as the incremental projection' '
	thrum_in bob team --json | jq -c "[.agents[] | .work_contexts]" \
		>before &&
	thrum_in bob rebuild >/dev/null &&
	thrum_in bob team --json | jq -c "[.agents[] | .work_contexts]" \
		>after &&
	test_cmp before after &&
	grep -q topic after
'

test_expect_success 'an older context arriving later does not replace a newer one' '
	sid=$alice_sid &&
	printf "%s\n" "{\"agent_id\":\"alice\",\"event_id\":\"evt_0000old\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"type\":\"agent.update\",\"v\":1,\"work_contexts\":[{\"branch\":\"stale\",\"session_id\":\"$sid\",\"uncommitted_files\":[\"x.c\"]}]}" \
		>>"$(sync_dir bob)/events.jsonl" &&
	thrum_in bob team >out &&
	grep "^  on topic: 2 changes\$" out &&
	! grep stale out &&
	echo "nobody is editing x.c" >expect &&
	thrum_in bob who-has x.c >actual &&
	test_cmp expect actual
'

test_expect_success 'a context for a session its agent did not start is not shown' '
	printf "%s\n" "{\"agent_id\":\"bob\",\"event_id\":\"evt_0000forged\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"type\":\"agent.update\",\"v\":1,\"work_contexts\":[{\"branch\":\"forged\",\"session_id\":\"$alice_sid\",\"uncommitted_files\":[\"forged.c\"]}]}" \
		>>"$(sync_dir bob)/events.jsonl" &&
	echo "nobody is editing forged.c" >expect &&
	thrum_in bob who-has forged.c >actual &&
	test_cmp expect actual
'

test_expect_success 'branch names and paths from the log are escaped' '
	bob_sid=$(THRUM_NAME=bob thrum_in bob whoami --json |
		jq -r .session_id) &&
	printf "%s\n" "{\"agent_id\":\"bob\",\"event_id\":\"evt_0000esc\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"type\":\"agent.update\",\"v\":1,\"work_contexts\":[{\"branch\":\"x\\u001b[31mred\",\"session_id\":\"$bob_sid\",\"uncommitted_files\":[\"e.c\"]}]}" |
		"$SHARNESS_BUILD_DIRECTORY/tests/helper/test-sign" sign \
			bob/.thrum/identities/bob.key \
		>>"$(sync_dir alice)/events.jsonl" &&
	printf "%s\n" "bob: uncommitted, on x\\e[31mred: 1 change" >expect &&
	thrum_in alice who-has e.c >actual &&
	test_cmp expect actual
'

test_expect_success 'an ended session shows no context' '
	thrum_in alice session end >/dev/null &&
	sync_round alice bob &&
	echo "nobody is editing more.c" >expect &&
	thrum_in bob who-has more.c >actual &&
	test_cmp expect actual &&
	thrum_in alice session start >/dev/null
'

test_expect_success 'overview: me, session, unread, sync, team' '
	THRUM_NAME=bob thrum_in bob send "hi" --to @alice >/dev/null &&
	THRUM_NAME=bob THRUM_TEST_NOW=$(at 300) \
		thrum_in bob session heartbeat >/dev/null &&
	sync_round bob alice &&
	sid=$(thrum_in alice whoami --json | jq -r .session_id) &&
	thrum_in alice overview >out &&
	sed -e "s/last [0-9T:-]*Z/last <when>/" out >actual &&
	cat >expect <<-EOF &&
	me:       alice (role alice-role, module m)
	session:  $sid
	unread:   1
	sync:     synced, last <when>, 0 ahead, 0 behind
	daemon:   stopped
	peers:    none
	team:     2 active of 2 agents
	  alice  on main: 1 change
	  bob    on main: 1 change
	EOF
	test_cmp expect actual &&
	thrum_in alice overview --json >out &&
	jq -c "{me: (.me | {name, role, m: .module, session_id}), unread: .unread,
		sync: (.sync | {state, ahead, behind, daemon_running, peers}),
		team: [.team[] | {name, w: [.work_contexts[] | .branch]}]}" \
		out >actual &&
	printf "%s\n" "{\"me\":{\"name\":\"alice\",\"role\":\"alice-role\",\"m\":\"m\",\"session_id\":\"$sid\"},\"unread\":1,\"sync\":{\"state\":\"synced\",\"ahead\":0,\"behind\":0,\"daemon_running\":false,\"peers\":0},\"team\":[{\"name\":\"alice\",\"w\":[\"main\"]},{\"name\":\"bob\",\"w\":[\"main\"]}]}" >expect &&
	test_cmp expect actual
'

test_expect_success 'at most once a minute, and only when it changed' '
	t0=$(at 600) t30=$(at 630) t61=$(at 661) t200=$(at 800) &&
	before=$(updates alice) &&
	THRUM_TEST_NOW=$t0 thrum_in alice session heartbeat >out &&
	test_line_count = 1 out &&
	test $(updates alice) = $((before + 1)) &&
	echo five >alice/later.c &&
	THRUM_TEST_NOW=$t30 thrum_in alice session heartbeat >out &&
	test_must_be_empty out &&
	test $(updates alice) = $((before + 1)) &&
	THRUM_TEST_NOW=$t61 thrum_in alice session heartbeat >out &&
	test_line_count = 1 out &&
	test $(updates alice) = $((before + 2)) &&
	THRUM_TEST_NOW=$t200 thrum_in alice session heartbeat >out &&
	test_must_be_empty out &&
	test $(updates alice) = $((before + 2))
'

test_expect_success 'the daemon publishes the contexts of this repository' '
	before=$(updates alice) &&
	echo six >alice/by-daemon.c &&
	test_when_finished "thrum_in alice daemon stop >/dev/null" &&
	THRUM_TEST_NOW=$(at 1200) thrum_in alice daemon start >/dev/null &&
	wait_for 20 more_updates alice $before &&
	tail -n 1 "$(sync_dir alice)/events.jsonl" >last &&
	grep by-daemon.c last
'

test_done

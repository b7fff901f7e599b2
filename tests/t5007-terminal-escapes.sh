#!/bin/sh
test_description='control and bidi characters from the log are shown escaped; --json keeps them exact'
. ./lib-thrum.sh

E=01JKM4T2YQ8M3E5X6Z7A9B0C
T=2026-02-03T10:00:00Z
export THRUM_TEST_NOW=2026-02-03T10:05:00Z

# what another clone may bring: every string holds escapes
test_expect_success 'setup: alice, and hostile events from bob' '
	thrum_repo repo alice impl &&
	sd=$(sync_dir repo) &&
	mkdir -p "$sd/messages" &&
	{
		printf "%s\n" "{\"agent_id\":\"bob\",\"event_id\":\"evt_${E}A1\",\"kind\":\"agent\",\"module\":\"m\\r\",\"name\":\"bob\\u001b[2J\",\"role\":\"r\\u001b]0;title\\u0007\",\"timestamp\":\"$T\",\"type\":\"agent.register\",\"v\":1}" &&
		printf "%s\n" "{\"agent_id\":\"bob\",\"event_id\":\"evt_${E}A2\",\"timestamp\":\"$T\",\"type\":\"agent.update\",\"v\":1,\"work_contexts\":[{\"intent\":\"i\\u202eevil\"}]}" &&
		printf "%s\n" "{\"agent_id\":\"bob\",\"event_id\":\"evt_${E}S1\",\"session_id\":\"ses_${E}S1\",\"timestamp\":\"$T\",\"type\":\"agent.session.start\",\"v\":1}" &&
		printf "%s\n" "{\"created_by\":\"bob\",\"description\":\"d\\u009b\\u0001\",\"event_id\":\"evt_${E}G1\",\"group_id\":\"grp_${E}G1\",\"name\":\"g\\u001b[5m\",\"timestamp\":\"$T\",\"type\":\"group.create\",\"v\":1}"
	} >>"$sd/events.jsonl" &&
	{
		printf "%s\n" "{\"agent_id\":\"bob\",\"body\":{\"content\":\"red \\u001b[31mtext\\u001b[0m\\nclip \\u001b]52;c;ZXZpbA==\\u0007 link \\u001b]8;;http://x\\u0007\\n\\tcr\\rover \\u202eright c1 \\u009b end\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}M1\",\"message_id\":\"msg_${E}M1\",\"recipients\":[\"alice\"],\"refs\":[{\"type\":\"mention\",\"value\":\"alice\"}],\"timestamp\":\"$T\",\"type\":\"message.create\",\"v\":1}" &&
		printf "%s\n" "{\"agent_id\":\"b\\u001b[1mob\",\"body\":{\"content\":\"x\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}M2\",\"message_id\":\"msg_\\u202eM2\",\"priority\":\"high\\u001b[0m\",\"timestamp\":\"2026-02-03T09:00:00Z\",\"type\":\"message.create\",\"v\":1}" &&
		printf "%s\n" "{\"agent_id\":\"b\\u001b[1mob\",\"body\":{\"content\":\"y\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}M3\",\"message_id\":\"msg_\\u202eM2\",\"timestamp\":\"2026-02-03T09:30:00Z\",\"type\":\"message.create\",\"v\":1}"
	} >"$sd/messages/bob.jsonl"
'

test_expect_success 'inbox and message show' '
	cat >expect <<-\EOF &&
	* msg_01JKM4T2YQ8M3E5X6Z7A9B0CM1  from bob to @alice          5 minutes ago (unverified)
	    red \e[31mtext\e[0m
	    clip \e]52;c;ZXZpbA==\a link \e]8;;http://x\a
	    	cr\rover \u202eright c1 \u009b end

	* msg_\u202eM2  from b\e[1mob to @everyone  65 minutes ago  [high\e[0m] (unverified)
	    x
	EOF
	thrum_in repo inbox --no-mark-read >out &&
	test_cmp expect out &&
	thrum_in repo message show "msg_${E}M1" --no-mark-read >out &&
	head -n 4 expect | sed "s/@alice          5/@alice  5/" >expect.1 &&
	test_cmp expect.1 out
'

test_expect_success '--json keeps the exact strings' '
	thrum_in repo message show "msg_${E}M1" --json >m.json &&
	printf "red \033[31mtext\033[0m\nclip \033]52;c;ZXZpbA==\007 link \033]8;;http://x\007\n\tcr\rover \342\200\256right c1 \302\233 end" >expect &&
	sqlite3 :memory: "SELECT json_extract(readfile(\"m.json\"), \"\$.message.body.content\");" >actual &&
	printf "\n" >>expect &&
	test_cmp expect actual
'

test_expect_success 'team and agent list' '
	cat >expect <<-\EOF &&
	alice     impl           core    active    0 seconds ago
	bob\e[2J  r\e]0;title\a  m\r     active    5 minutes ago  i\u202eevil
	EOF
	thrum_in repo team >out &&
	test_cmp expect out &&
	thrum_in repo agent list >out &&
	test_cmp expect out
'

test_expect_success 'group list' '
	printf "%s\n" "g\e[5m: (no members)  # d\u009b\x01" >expect &&
	thrum_in repo group list >out &&
	test_cmp expect out
'

test_expect_success 'fsck findings' '
	thrum_in repo fsck >out &&
	grep -F "warning: log: msg_\u202eM2: created again at messages/bob.jsonl:3" out &&
	! grep "$(printf "\033")" out &&
	! grep "$(printf "\342\200\256")" out
'

# late <n>: one more message from bob, as a sync would bring it
late() {
	printf "%s\n" "{\"agent_id\":\"bob\",\"body\":{\"content\":\"late \\u001b[31m\",\"format\":\"markdown\"},\"event_id\":\"evt_${E}K$1\",\"message_id\":\"msg_${E}K$1\",\"recipients\":[\"alice\"],\"timestamp\":\"$T\",\"type\":\"message.create\",\"v\":1}" \
		>>"$(sync_dir repo)/messages/bob.jsonl"
}

test_expect_success 'wait' '
	rm -f rc &&
	(thrum_in repo wait --timeout 30 >out; echo $? >rc) &
	wait_for 10 waiting $! &&
	late 1 &&
	wait_for 20 test -s rc &&
	test "$(cat rc)" = 0 &&
	grep -F "    late \e[31m" out &&
	! grep "$(printf "\033")" out
'

test_expect_success 'whoami' '
	thrum_in repo quickstart --name alice --role impl --module core \
		--intent "$(printf "fix \033]0;x\007 it")" >/dev/null &&
	thrum_in repo whoami >out &&
	grep -F "  intent:   fix \e]0;x\a it" out &&
	! grep "$(printf "\033")" out
'

# what a remote (here its helper, as a remote's own words would) says
# reaches sync status escaped
test_expect_success 'sync status quotes the remote without its escapes' '
	mkdir -p bin &&
	printf "#!/bin/sh\nprintf \"no \\\\033[31mway\\\\n\" >&2\nexit 1\n" \
		>bin/git-remote-evil &&
	chmod +x bin/git-remote-evil &&
	git -C repo remote add evil "evil::nowhere" &&
	git -C repo config thrum.remote evil &&
	git -C repo config thrum.localOnly false &&
	(PATH="$(pwd)/bin:$PATH" &&
	 test_might_fail thrum_in repo sync force >out &&
	 thrum_in repo sync status >status) &&
	grep -F "no \e[31mway" out status &&
	! grep "$(printf "\033")" out status
'

test_done

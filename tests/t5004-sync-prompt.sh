#!/bin/sh
test_description='who may prompt: sync force on a terminal does, the hooks and the daemon never'
. ./lib-thrum.sh

command -v script >/dev/null && test_set_prereq SCRIPT

# on_tty <command> [<n>]: run a shell command on a new pseudo-terminal
# (its controlling terminal, the command the foreground job), typing
# "secret" there <n> times (2, or none with 0); its output, stderr too,
# on stdout.  script waits 2 s for typing nobody reads before it ends:
# type no more than the command is meant to read.
on_tty() {
	i=0 &&
	while test $i -lt "${2:-2}"
	do
		echo secret &&
		i=$((i + 1))
	done | script -qfec "$1" /dev/null
}

test_expect_success 'setup: an ssh remote whose key wants a passphrase' '
	setup_pair &&
	# like ssh with a key that has a passphrase and no agent: it asks
	# on the terminal, or fails at once when it has none
	over_ssh alice fake 20 <<-EOF
	#!/bin/sh
	if (: <>/dev/tty) 2>/dev/null
	then
		printf "Enter passphrase for key: " >/dev/tty
		read pass </dev/tty
		echo "prompted: \$pass" >>"$(pwd)/ssh.log"
		test "\$pass" = secret || exit 255
	else
		echo "no terminal" >>"$(pwd)/ssh.log"
		echo "git@fake: Permission denied (publickey)." >&2
		exit 255
	fi
	cd "$(pwd)" && exec sh -c "\$2"
	EOF
'

test_expect_success SCRIPT 'sync force on a terminal lets ssh ask for the passphrase' '
	thrum_in alice send "after a passphrase" >/dev/null &&
	rm -f ssh.log &&
	start=$(date +%s) &&
	on_tty "cd alice && git thrum sync force" >out &&
	test $(( $(date +%s) - start )) -lt 15 &&
	# the prompts end in no newline: the summary follows them
	grep "synced: .*pushed" out &&
	test "$(grep -o "Enter passphrase for key" out | wc -l)" = 2 &&
	test "$(cat ssh.log)" = "prompted: secret
prompted: secret" &&
	git -C remote.git show a-sync:messages/alice.jsonl >log &&
	grep "after a passphrase" log
'

test_expect_success 'sync force without a terminal fails at once, saying why' '
	rm -f ssh.log &&
	thrum_in alice send "no terminal" >/dev/null &&
	test_expect_code 1 thrum_in alice sync force >out &&
	grep "^auth: .*Permission denied (publickey)" out &&
	test "$(sort -u ssh.log)" = "no terminal"
'

test_expect_success SCRIPT 'sync force run by a program (stdin no terminal) never prompts, even with one around' '
	rm -f ssh.log &&
	on_tty "cd alice && git thrum sync force </dev/null; echo exit=\$?" 0 \
		>out &&
	grep "auth: .*Permission denied (publickey).*; nothing prompts without a terminal" out &&
	grep "exit=1" out &&
	test "$(sort -u ssh.log)" = "no terminal"
'

test_expect_success SCRIPT 'the pre-push hook never prompts, and says why at once' '
	rm -f ssh.log &&
	start=$(date +%s) &&
	# one passphrase, typed for the push itself
	on_tty "git -C alice push origin main" 1 >out &&
	test $(( $(date +%s) - start )) -lt 15 &&
	grep "thrum: a-sync not pushed (auth): .*Permission denied" out &&
	grep "the daemon and the hooks never prompt" out &&
	# the user was asked once, for their own push; our cycle never
	test "$(grep -c "^prompted: secret" ssh.log)" = 1 &&
	grep "^no terminal" ssh.log
'

test_expect_success SCRIPT 'a slow fetch on a terminal says what it waits for' '
	over_ssh alice slow 20 <<-EOF &&
	#!/bin/sh
	sleep 0.6
	cd "$(pwd)" && exec sh -c "\$2"
	EOF
	on_tty "cd alice && THRUM_TEST_SLOW_MS=200 git thrum sync force" 0 \
		>out &&
	grep "^thrum: waiting for .origin. (git fetch; at most 20s, thrum.networkTimeout)" out &&
	grep "synced" out &&
	thrum_in alice sync force >out 2>err &&
	! grep "waiting for" err
'

test_expect_success SCRIPT 'the notice, written while git holds the terminal, does not stop us (stty tostop)' '
	thrum_in alice send "slow again" >/dev/null &&
	timeout 30 script -qfec "stty tostop; cd alice &&
		THRUM_TEST_SLOW_MS=200 git thrum sync force" /dev/null \
		</dev/null >out &&
	grep "^thrum: waiting for .origin." out &&
	grep "synced: .*pushed" out
'

test_expect_success 'the daemon never prompts' '
	git -C alice config core.sshCommand "\"$(pwd)/fake-ssh\"" &&
	git -C alice remote set-url origin "ssh://fake.invalid$(pwd)/remote.git" &&
	rm -f ssh.log &&
	test_when_finished "thrum_in alice daemon stop >/dev/null" &&
	thrum_in alice daemon start >/dev/null &&
	wait_for 20 test -s ssh.log &&
	wait_for 20 grep "^state = auth" alice/.thrum/var/sync-status &&
	test "$(sort -u ssh.log)" = "no terminal"
'

test_done

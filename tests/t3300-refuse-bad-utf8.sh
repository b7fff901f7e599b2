#!/bin/sh
test_description='text that is not UTF-8 is refused before anything is written'
. ./lib-thrum.sh

BAD=$(printf 'caf\351')	# Latin-1, not UTF-8

# log_digest: every byte of the log, to show that nothing was written
log_digest() {
	(cd "$(sync_dir repo)" && cat events.jsonl messages/*.jsonl) |
		git hash-object --stdin
}

test_expect_success 'setup' '
	thrum_repo repo alice impl &&
	thrum_in repo send "first" >id &&
	thrum_in repo group create team >/dev/null &&
	log_digest >before
'

# refused <exit> <message> <command...>: exit status, one line, no write
refused() {
	want=$1 msg=$2 &&
	shift 2 &&
	test_expect_code "$want" thrum_in repo "$@" >out 2>err &&
	echo "error: $msg" >expect &&
	head -n 1 err >first &&
	test_cmp expect first &&
	test_must_be_empty out &&
	log_digest >after &&
	test_cmp before after
}

test_expect_success 'send' '
	refused 1 "message body is not valid UTF-8 (byte 4)" send "$BAD"
'

test_expect_success 'send, the body from stdin' '
	printf "ok\nthen caf\351\n" >body &&
	refused 1 "message body is not valid UTF-8 (byte 12)" send - <body
'

test_expect_success 'reply' '
	refused 1 "message body is not valid UTF-8 (byte 4)" \
		reply "$(cat id)" "$BAD"
'

test_expect_success 'message edit' '
	refused 1 "message body is not valid UTF-8 (byte 4)" \
		message edit "$(cat id)" "$BAD"
'

test_expect_success 'message delete --reason' '
	refused 129 "--reason is not valid UTF-8 (byte 4)" \
		message delete "$(cat id)" --reason "$BAD"
'

test_expect_success 'group create --description' '
	refused 129 "--description is not valid UTF-8 (byte 4)" \
		group create other --description "$BAD"
'

test_expect_success 'quickstart --intent and --module' '
	refused 129 "--intent is not valid UTF-8 (byte 4)" \
		quickstart --name alice --role impl --module core \
		--intent "$BAD" &&
	refused 129 "--module is not valid UTF-8 (byte 4)" \
		quickstart --name alice --role impl --module "$BAD"
'

test_expect_success 'session start --intent, session end --reason' '
	refused 129 "--intent is not valid UTF-8 (byte 4)" \
		session start --intent "$BAD" &&
	refused 129 "--reason is not valid UTF-8 (byte 4)" \
		session end --reason "$BAD"
'

test_expect_success 'valid UTF-8 goes through, and fsck finds nothing skipped' '
	thrum_in repo send "caf$(printf "\303\251") ok" >/dev/null &&
	thrum_in repo inbox --all --no-mark-read >inbox &&
	grep "café ok" inbox &&
	thrum_in repo fsck >out &&
	! grep skipped out
'

test_done

#!/bin/sh
test_description='human output: columns, relative times, colour and pager on a terminal only'
. ./lib-thrum.sh

# on_tty <cmd>: run a shell command with stdout on a pseudo-terminal
command -v script >/dev/null && test_set_prereq TTY
on_tty() {
	script -qec "TERM=xterm $1" /dev/null </dev/null | tr -d '\r'
}

esc=$(printf '\033')

test_expect_success 'setup' '
	new_repo r &&
	(cd r && git thrum init --no-daemon >/dev/null &&
	 git thrum quickstart --name alice --role a --module m >/dev/null &&
	 git thrum quickstart --name robert --role b --module m >/dev/null &&
	 THRUM_NAME=alice git thrum send "first" --to @robert >/dev/null &&
	 THRUM_NAME=robert git thrum send "second" --to @alice,@robert \
		>/dev/null &&
	 THRUM_NAME=alice git thrum send "third" --to @everyone >/dev/null)
'

test_expect_success 'relative times, aligned, unread marked' '
	(cd r && THRUM_NAME=robert git thrum inbox --no-mark-read) >out &&
	grep "^\* msg_[0-9A-Z]*  from alice to @robert  *[0-9]* seconds\? ago\$" out &&
	grep "^\* msg_.*from alice to @everyone" out &&
	# the time column starts at the same place on every header
	grep "^\* msg_" out | sed "s/ago\$//; s/[0-9]* seconds\? \$//" |
		awk "{ print length(\$0) }" | sort -u >widths &&
	test_line_count = 1 widths &&
	(cd r && THRUM_NAME=robert git thrum inbox) >/dev/null &&
	(cd r && THRUM_NAME=robert git thrum inbox --no-mark-read) >out &&
	! grep "^\*" out
'

test_expect_success 'no colour and no pager when not a terminal' '
	(cd r && GIT_PAGER="sed s/^/P:/" THRUM_NAME=alice \
		git -c color.ui=always thrum inbox --no-mark-read) >out &&
	! grep "$esc" out &&
	! grep "^P:" out
'

test_expect_success TTY 'colour on a terminal, unless NO_COLOR or color.ui=never' '
	(cd r && on_tty "GIT_PAGER=cat THRUM_NAME=alice git thrum inbox --no-mark-read") >out &&
	grep "$esc\[33mmsg_" out &&
	(cd r && on_tty "NO_COLOR=1 GIT_PAGER=cat THRUM_NAME=alice git thrum inbox --no-mark-read") >out &&
	grep "msg_" out && ! grep "$esc" out &&
	(cd r && on_tty "GIT_PAGER=cat THRUM_NAME=alice git -c color.ui=never thrum inbox --no-mark-read") >out &&
	grep "msg_" out && ! grep "$esc" out &&
	(cd r && on_tty "GIT_PAGER=cat THRUM_NAME=alice git -c color.thrum=false -c color.ui=always thrum inbox --no-mark-read") >out &&
	grep "msg_" out && ! grep "$esc" out
'

test_expect_success TTY 'the pager of GIT_PAGER or core.pager, like git log' '
	(cd r && on_tty "GIT_PAGER=\"sed s/^/P:/\" THRUM_NAME=alice git thrum inbox --no-mark-read") >out &&
	grep "^P:.*msg_" out &&
	! grep -v "^P:" out &&
	(cd r && git config core.pager "sed s/^/Q:/" &&
	 on_tty "THRUM_NAME=alice git thrum inbox --no-mark-read") >out &&
	grep "^Q:.*msg_" out &&
	(cd r && git config --unset core.pager)
'

test_expect_success TTY '--json is the same on a terminal: no colour, no pager' '
	(cd r && THRUM_NAME=alice git thrum inbox --json --no-mark-read) >plain &&
	(cd r && on_tty "GIT_PAGER=\"sed s/^/P:/\" THRUM_NAME=alice git thrum inbox --json --no-mark-read") >tty &&
	test_cmp plain tty
'

test_done

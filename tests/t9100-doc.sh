#!/bin/sh
test_description='the manual and -h agree, and git opens the manual'
. ./lib-thrum.sh

DOC="$SHARNESS_BUILD_DIRECTORY/Documentation"
command -v asciidoctor >/dev/null && command -v man >/dev/null &&
	test_set_prereq MAN

commands() {
	git thrum help | sed -n "s/^   \([a-z-]*\) .*/\1/p" |
		grep -v -x -e hook -e help -e version
}

test_expect_success 'every usage line of -h is in the SYNOPSIS, and back' '
	sed -n "/^\[verse\]/,/^\$/p" "$DOC/git-thrum.adoc" |
		sed "1d;/^\$/d;s/'"'"'//g" | sort >synopsis &&
	test_line_count -gt 20 synopsis &&
	for c in $(commands)
	do
		git thrum $c -h >out 2>&1
		test $? = 129 || return 1
		sed -n "s/^usage: //p;s/^   or: //p" out || return 1
	done | sort >usage &&
	test_cmp synopsis usage
'

test_expect_success 'every command has its entry under COMMANDS' '
	sed -n "/^COMMANDS/,/^CONFIGURATION/p" "$DOC/git-thrum.adoc" |
		sed -n "s/^\([a-z][a-z ,-]*\)::\$/\1/p" | tr "," "\n" |
		sed "s/^ *//; s/ .*//" | sort -u >documented &&
	commands | sort >cmds &&
	test_cmp cmds documented
'

test_expect_success MAN 'git thrum --help, git help thrum, git thrum help: the page' '
	mkdir -p man/man1 man/man5 &&
	asciidoctor -b manpage -o man/man1/git-thrum.1 "$DOC/git-thrum.adoc" &&
	asciidoctor -b manpage -o man/man5/gitthrum-format.5 \
		"$DOC/gitthrum-format.adoc" &&
	new_repo r &&
	(
		cd r &&
		export MANPATH="$(cd .. && pwd)/man" MANPAGER=cat PAGER=cat \
			MANWIDTH=100 &&
		git thrum --help >../help1 2>&1 &&
		git help thrum >../help2 2>&1 &&
		git thrum help send >../help3 2>&1 &&
		man 5 gitthrum-format >../help4 2>&1
	) &&
	grep "^GIT-THRUM(1)" help1 &&
	grep "git thrum send (<body> | -)" help1 &&
	test_cmp help1 help2 &&
	test_cmp help1 help3 &&
	grep "^GITTHRUM-FORMAT(5)" help4 &&
	grep "segment" help4
'

test_done

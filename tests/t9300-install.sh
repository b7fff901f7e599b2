#!/bin/sh
test_description='make install prefix=$HOME/.local: git thrum --help and completion in a new shell'
. ./lib-thrum.sh

test -r /usr/share/bash-completion/bash_completion &&
	command -v man >/dev/null && command -v asciidoctor >/dev/null &&
	test_set_prereq INSTALL

# install what this test run is using (never rebuild another variant)
case "$(cat "$SHARNESS_BUILD_DIRECTORY/build/.current" 2>/dev/null)" in
build/sanitize) variant=SANITIZE=1 ;;
*) variant= ;;
esac

# bash-completion splits $HOME on spaces (and the trash directory has
# one): the new shell gets a home of its own
test_expect_success INSTALL 'make install into a fresh $HOME/.local' '
	newhome=$(mktemp -d /tmp/thrum-install.XXXXXX) &&
	echo "$newhome" >newhome &&
	prefix="$newhome/.local" &&
	# a make of our own: under "make -j" the descriptors of the jobserver
	# named in MAKEFLAGS are not open here
	MAKEFLAGS= MFLAGS= make -s -C "$SHARNESS_BUILD_DIRECTORY" $variant install \
		prefix="$prefix" >install.out 2>&1 &&
	test -x "$prefix/bin/git-thrum" &&
	test -f "$prefix/lib/git-thrum/git-thrum-git2.so" &&
	test -f "$prefix/share/man/man1/git-thrum.1" &&
	test -f "$prefix/share/man/man5/gitthrum-format.5" &&
	test -x "$prefix/share/git-thrum/hooks/reference-transaction" &&
	test -f "$prefix/share/git-thrum/templates/config.sample" &&
	test -f "$prefix/share/bash-completion/completions/git-thrum"
'

# in_new_shell <script>: a login-like environment with only the install
in_new_shell() {
	newhome=$(cat "$SHARNESS_TRASH_DIRECTORY/newhome") &&
	env -i HOME="$newhome" PATH="$newhome/.local/bin:/usr/bin:/bin" \
		TERM=dumb MANPAGER=cat PAGER=cat MANWIDTH=100 \
		GIT_CONFIG_NOSYSTEM=1 bash -c "$1"
}

test_expect_success INSTALL 'the installed binary loads its libgit2 module' '
	new_repo r &&
	(cd r && in_new_shell "git thrum init --no-daemon" >../init.out) &&
	grep -i "a-sync" init.out
'

test_expect_success INSTALL 'git thrum --help and git help thrum open the page' '
	(cd r && in_new_shell "git thrum --help") >help &&
	grep "^GIT-THRUM(1)" help &&
	(cd r && in_new_shell "git help thrum") >help2 &&
	test_cmp help help2
'

test_expect_success INSTALL 'completion in a new shell, loaded on demand' '
	(cd r && in_new_shell "
		. /usr/share/bash-completion/bash_completion
		_completion_loader git
		COMP_WORDS=(git thrum sy); COMP_CWORD=2
		COMP_LINE=\"git thrum sy\"; COMP_POINT=\${#COMP_LINE}
		__git_wrap__git_main
		printf \"%s\n\" \"\${COMPREPLY[@]}\"
	") >actual &&
	echo "sync " >expect &&
	test_cmp expect actual
'

test_expect_success INSTALL 'clean up the new home' '
	rm -rf "$(cat newhome)"
'

test_done

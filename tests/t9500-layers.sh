#!/bin/sh
test_description='the layers of Documentation/technical/architecture.adoc hold in the sources'
. ./lib-thrum.sh

SRC="$SHARNESS_BUILD_DIRECTORY/src"
TOP="$SHARNESS_BUILD_DIRECTORY"

# a module: a file name without .c/.h; a family split by job (sync-net.c,
# daemon-client.c, projection-log.c... beside sync.c, daemon.c,
# projection.c) and its -internal header are one module
module_of() {
	m=${1%.[ch]}
	m=${m%-internal}
	case "$m" in
	*-*) test -f "$SRC/${m%%-*}.c" && m=${m%%-*} ;;
	esac
	echo "$m"
}

# "a b": a file of module a includes a header of module b
modules() {
	for f in "$SRC"/*.c "$SRC"/*.h "$TOP"/git-thrum.c
	do
		m=$(module_of "$(basename "$f")")
		sed -n "s/^#include \"\([a-z0-9-]*\)\.h\"/\1/p" "$f" |
			while read dep
			do
				dep=$(module_of "$dep")
				test "$dep" = "$m" || echo "$m $dep"
			done
	done
}

test_expect_success 'no module includes its way back to itself' '
	modules >pairs &&
	test_line_count -gt 100 pairs &&
	tsort pairs >order 2>loops &&
	test_must_be_empty loops
'

test_expect_success 'no header includes its way back to itself' '
	for h in "$SRC"/*.h
	do
		sed -n "s/^#include \"\([a-z0-9-]*\.h\)\"/\1/p" "$h" |
			sed "s|^|$(basename "$h") |"
	done >headers &&
	tsort headers >order 2>loops &&
	test_must_be_empty loops
'

test_expect_success 'only the command layer knows the command context' '
	grep -l "#include \"cmd.h\"" "$SRC"/*.c | xargs -n1 basename |
		{ grep -v -e "^cmd-" -e "^context\.c\$" -e "^mcp" || :; } >outside &&
	test_must_be_empty outside
'

test_expect_success 'the core never prints, never reads stdin, never exits' '
	for m in core messaging groups session agents
	do
		grep -n -e "printf(" -e "puts(" -e "stdout" -e "stdin" \
			-e "exit(" -e "die(" -e "ctx_" "$SRC/$m.c" || :
	done >found &&
	test_must_be_empty found
'

test_expect_success 'only the projection speaks SQL' '
	grep -l -e "sqlite3_" -e "<sqlite3\.h>" "$SRC"/*.c "$SRC"/*.h |
		xargs -n1 basename >speakers &&
	grep "^projection" speakers &&
	{ grep -v "^projection" speakers || :; } >outside &&
	test_must_be_empty outside
'

test_expect_success 'below the commands nothing dies' '
	grep -l "\<die\(_errno\)\?(" "$SRC"/*.c | xargs -n1 basename | {
		grep -v -e "^cmd-" -e "^context\.c\$" -e "^usage\.c\$" \
			-e "^parse-options\.c\$" -e "^wrapper\.c\$" || :
	} >outside &&
	test_must_be_empty outside
'

test_expect_success 'no source file over 700 lines' '
	wc -l "$SRC"/*.c "$SRC"/*.h "$TOP"/git-thrum.c | grep -v " total\$" |
		awk "\$1 > 700" >big &&
	test_must_be_empty big
'

test_done

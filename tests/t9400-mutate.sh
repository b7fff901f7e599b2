#!/bin/sh
test_description='tools/mutate: the list is checked before anything runs; every mutant of tests/mutants.txt applies'
. ./lib-thrum.sh

mutate="$SHARNESS_BUILD_DIRECTORY/tools/mutate"
# this script may itself run under make mutate
unset MUTANTS MUTANTS_FILE MUTATE_TOP
tab=$(printf '\t')

# list <file> <line>...: a list of mutants, fields separated by " | "
list() {
	out=$1
	shift
	printf '%s\n' "$@" | sed "s/ | /$tab/g" >"$out"
}

# mutate_in <list> [<args>]: tools/mutate on the small project
mutate_in() {
	l=$1
	shift
	MUTATE_TOP="$PWD/proj" MUTANTS_FILE="$PWD/$l" TMPDIR="$PWD/tmp" \
		"$mutate" "$@"
}

test_expect_success 'setup: a small project' '
	mkdir -p proj/src proj/tests/unit tmp &&
	cat >proj/src/f.c <<-\EOF &&
	int f(int x)
	{
		return x > 0;
	}
	int g(int x)
	{
		return x > 0;
	}
	const char *s = "a\b";
	int nl(int c) { return c == '\''\n'\''; }
	EOF
	: >proj/tests/unit/t-f.c &&
	: >proj/tests/t0001-f.sh
'

test_expect_success '--check: mutants that apply (a doubled backslash is one, a lone one is itself)' '
	list ok.txt "# a comment" "" \
		"sign | src/f.c | int f(int x) | int f(int y) | t-f t0001-f.sh" \
		"backslash | src/f.c | \"a\\\\b\" | \"a\" | " \
		"lone | src/f.c | \"a\\b\"; | \"a\"; | t-f" \
		"newline | src/f.c | c == '\''\\n'\'' | c == 0 | t-f" &&
	mutate_in ok.txt --check >out &&
	echo "mutate: 4 mutants apply" >expect &&
	test_cmp expect out
'

test_expect_success 'an old text that occurs twice, or never, is refused; nothing runs' '
	list bad.txt \
		"twice | src/f.c | return x > 0; | return 0; | t-f" \
		"never | src/f.c | return x < 0; | return 0; | t-f" \
		"nofile | src/nope.c | x | y | t-f" \
		"notest | src/f.c | int g | int h | t-nope t9999-nope.sh" &&
	test_must_fail mutate_in bad.txt >out &&
	cat >expect <<-\EOF &&
	NOT APPLIED  twice: the old text occurs 2 times in src/f.c, not once
	NOT APPLIED  never: the old text occurs 0 times in src/f.c, not once
	NOT APPLIED  nofile: no file '\''src/nope.c'\''
	NOT APPLIED  notest: no test named '\''t-nope'\''
	NOT APPLIED  notest: no test named '\''t9999-nope.sh'\''
	mutate: 5 problem(s) in bad.txt; nothing was run
	EOF
	sed "s|$PWD/||" out >out.rel &&
	test_cmp expect out.rel &&
	ls tmp >scratch &&
	test_must_be_empty scratch
'

test_expect_success 'a malformed list stops everything, naming the line' '
	list four.txt "sign | src/f.c | int f(int x) | int f(int y)" &&
	test_must_fail mutate_in four.txt --check 2>err &&
	grep "four.txt:1: 4 fields, not 5" err &&
	list dup.txt "sign | src/f.c | int f | int h | t-f" \
		"sign | src/f.c | int g | int h | t-f" &&
	test_must_fail mutate_in dup.txt --check 2>err &&
	grep "dup.txt:2: mutant .sign. is listed twice" err
'

test_expect_success 'MUTANTS names an unknown mutant: usage error' '
	test_expect_code 129 env MUTANTS=sign,nope \
		MUTATE_TOP="$PWD/proj" MUTANTS_FILE="$PWD/ok.txt" \
		"$mutate" --check 2>err &&
	grep "no mutant named .nope." err &&
	MUTANTS=sign mutate_in ok.txt --check >out &&
	grep "^mutate: 1 mutants apply$" out
'

test_expect_success 'every mutant of tests/mutants.txt applies to the sources' '
	"$mutate" --check >out &&
	grep "^mutate: [0-9]* mutants apply$" out
'

test_done

# Shared set-up of the end-to-end tests: sharness, a private HOME and git
# configuration, the built git-thrum first on PATH, and helpers.
# Every test script starts with:  . ./lib-thrum.sh

# sharness puts the directory above tests/ (the build) first on PATH
SHARNESS_TEST_SRCDIR=$(cd "$(dirname "$0")" && pwd)
# trash directories live outside the project's own repository, so that
# nothing a test does can reach it
: "${THRUM_TEST_ROOT:=${TMPDIR:-/tmp}/git-thrum-tests.$(id -u)}"
mkdir -p "$THRUM_TEST_ROOT" || exit 1
root=$THRUM_TEST_ROOT
. /usr/share/sharness/sharness.sh
GIT_CEILING_DIRECTORIES=$THRUM_TEST_ROOT
export GIT_CEILING_DIRECTORIES

# sharness made HOME the trash directory; keep git away from the user's
# configuration and from the machine's
GIT_CONFIG_NOSYSTEM=1
GIT_AUTHOR_NAME="A U Thor"
GIT_AUTHOR_EMAIL=author@example.com
GIT_COMMITTER_NAME="C O Mitter"
GIT_COMMITTER_EMAIL=committer@example.com
GIT_MERGE_AUTOEDIT=no
export GIT_CONFIG_NOSYSTEM GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
	GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_MERGE_AUTOEDIT
# init starts no daemon unless a test asks for one
THRUM_TEST_NO_DAEMON=1
export THRUM_TEST_NO_DAEMON
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_CONFIG_PARAMETERS \
	THRUM_NAME THRUM_LOCAL_ONLY THRUM_REMOTE THRUM_TEST_NOW
git config --global init.defaultBranch main
git config --global user.name "A U Thor"
git config --global user.email author@example.com

test -x "$SHARNESS_BUILD_DIRECTORY/git-thrum" ||
	error "git-thrum is not built; run make"

# new_repo <dir>: a repository with one commit
new_repo() {
	git init -q "$1" &&
	git -C "$1" commit -q --allow-empty -m initial
}

# thrum_repo <dir> [<agent> <role>]: a repository with thrum initialised
# and, optionally, one agent
thrum_repo() {
	new_repo "$1" &&
	(cd "$1" && git thrum init >/dev/null) &&
	if test -n "$2"
	then
		(cd "$1" && git thrum quickstart --name "$2" --role "$3" \
			--module core >/dev/null)
	fi
}

# sync_dir <repo>: the sync work tree of a repository
sync_dir() {
	echo "$(cd "$1" && cd "$(git rev-parse --git-common-dir)" && pwd)/thrum-sync/a-sync"
}

# commit_sync <repo>: commit the sync work tree by hand (the sync engine
# does this in real use) so that plain git can carry a-sync
commit_sync() {
	git -C "$(sync_dir "$1")" add -A &&
	git -C "$(sync_dir "$1")" -c core.hooksPath=/dev/null \
		commit -q -m "test: commit a-sync"
}

# json_get <file> <path>: one value of a JSON document (SQLite's JSON
# functions, through the sqlite3 command)
json_get() {
	sqlite3 :memory: "SELECT json_extract(readfile('$1'), '$2');"
}

# json_valid <file>: 1 when the file holds one valid JSON value
json_valid() {
	test "$(sqlite3 :memory: "SELECT json_valid(readfile('$1'));")" = 1
}

# count_lines <file>: lines in a file (0 when missing)
count_lines() {
	if test -f "$1"; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

# without_age <file>: human output with each "<n> <unit>s ago" (the age
# of a message, which depends on when the test runs) written "<age>", for
# test_cmp against the exact text
without_age() {
	sed -e "s/  [0-9][0-9]* [a-z]* ago/  <age>/" "$1"
}

# test_inbox <command>...: what the command (thrum_in <repo> inbox ...,
# as <agent> inbox ...) prints for a person, ages written "<age>", is the
# text on stdin
test_inbox() {
	cat >expect.inbox &&
	"$@" >actual.raw &&
	without_age actual.raw >actual.inbox &&
	test_cmp expect.inbox actual.inbox
}

# test_line_count <op> <n> <file>, as in git's test-lib
test_line_count() {
	test $# = 3 || error "bug in the test script: test_line_count needs 3 arguments"
	if ! test "$(wc -l <"$3")" "$1" "$2"
	then
		echo "test_line_count: line count for $3 !$1 $2"
		cat "$3"
		return 1
	fi
}

test_path_is_missing() {
	if test -e "$1"
	then
		echo "path exists unexpectedly: $1"
		return 1
	fi
}

test_path_is_file() {
	if ! test -f "$1"
	then
		echo "file $1 does not exist"
		return 1
	fi
}

# setup_pair [<url>]: a bare remote.git and two clones, alice and bob,
# initialised, one agent each, sync turned on.  With <url>, the clones
# use it instead of the path of remote.git.
setup_pair() {
	url=${1:-"file://$(pwd)/remote.git"}
	git init -q --bare remote.git &&
	new_repo seed &&
	git -C seed push -q "$url" main &&
	for who in alice bob
	do
		git clone -q "$url" $who &&
		git -C $who config thrum.localOnly false &&
		(cd $who && git thrum init >/dev/null &&
		 git thrum quickstart --name $who --role $who-role \
			--module m >/dev/null) || return 1
	done &&
	sync_round alice bob
}

# sync_round <repo>...: one sync cycle in each, then again in the first,
# so that all of them have everything
sync_round() {
	first=$1
	for r in "$@" "$first"
	do
		thrum_in "$r" sync force >/dev/null || return 1
	done
}

# with_messages <base> <tree> [<mktree line>...]: write the tree of
# <base> with messages/ made <tree> and the top-level entries given added,
# in the current repository; print its id
with_messages() {
	git ls-tree "$1" | grep -v "	messages$" >top &&
	printf "040000 tree %s\tmessages\n" "$2" >>top &&
	shift 2 &&
	{
		cat top &&
		for entry in "$@"
		do
			printf "%s\n" "$entry"
		done
	} | git mktree
}

# push_messages_tree <base> <tree> <subject> [<mktree line>...]: in the
# current repository, a plain git clone as an attacker would use, commit
# with_messages on <base> and push that commit as a-sync
push_messages_tree() {
	pm_base=$1 &&
	pm_tree=$2 &&
	pm_subject=$3 &&
	shift 3 &&
	pm_tree=$(with_messages "$pm_base" "$pm_tree" "$@") &&
	commit=$(git commit-tree -p "$pm_base" -m "$pm_subject" "$pm_tree") &&
	git push -q origin "$commit:refs/heads/a-sync"
}

# sync_says <repo> <line>: one sync force in <repo> succeeds and prints
# exactly <line> (its output stays in out)
sync_says() {
	thrum_in "$1" sync force >out &&
	echo "$2" >expect &&
	test_cmp expect out
}

# thrum_in <repo> <args...>: run git thrum in a repository
thrum_in() {
	(repo=$1 && shift && cd "$repo" && git thrum "$@")
}

# as <agent> <args...>: run git thrum as <agent> in the repository "repo"
as() {
	(who=$1 && shift && cd repo && THRUM_NAME=$who git thrum "$@")
}

# over_ssh <repo> <name> <timeout>: <repo> reaches remote.git through
# ssh://<name>.invalid, whose ssh is the script on stdin, written to
# <name>-ssh (ssh.variant simple: $1 is the host, $2 the command); git
# has <timeout> seconds (thrum.networkTimeout)
over_ssh() {
	cat >"$2-ssh" &&
	chmod +x "$2-ssh" &&
	git -C "$1" remote set-url origin "ssh://$2.invalid$(pwd)/remote.git" &&
	git -C "$1" config core.sshCommand "\"$(pwd)/$2-ssh\"" &&
	git -C "$1" config ssh.variant simple &&
	git -C "$1" config thrum.networkTimeout "$3"
}

# a_sync_tree <repo>: the tree of a-sync
a_sync_tree() {
	git -C "$1" rev-parse "a-sync^{tree}"
}

# wait_for <seconds> <command...>: poll until the command succeeds
wait_for() {
	limit=$(( $1 * 10 ))
	shift
	n=0
	until "$@"
	do
		n=$((n + 1))
		test $n -lt $limit || return 1
		sleep 0.1
	done
}

# waiting <pid>: the git thrum wait started in the background as <pid>
# (or below it) has taken its starting point and listens: its git-thrum
# holds an inotify watch on the log, or a connection to the daemon, both
# of which it opens only then.  Poll it: wait_for 10 waiting $pid
waiting() {
	for p in $(ps -e -o pid= -o ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			for (p in parent) {
				q = p
				while (q in parent && q != root && q > 1)
					q = parent[q]
				if (q == root)
					print p
			}
		}')
	do
		test "$(cat /proc/$p/comm 2>/dev/null)" = git-thrum &&
		ls -l /proc/$p/fd 2>/dev/null |
			grep -q -e "anon_inode:inotify" -e "socket:" && return 0
	done
	return 1
}

# rpc <repo> <line>: send one raw line to the daemon, print the answer
rpc() {
	perl -MIO::Socket::UNIX -e '
		my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!";
		print $s $ARGV[1], "\n";
		my $l = <$s>;
		print $l;
	' "$1/.thrum/var/thrum.sock" "$2"
}

#!/bin/sh
test_description='sync rides on plain git push, pull and fetch through hooks'
. ./lib-thrum.sh

hooks_of() {
	echo "$(cd "$1" && git rev-parse --path-format=absolute --git-path hooks)"
}

test_expect_success 'setup: init installs both hooks' '
	setup_pair &&
	thrum_in alice hooks status >st &&
	hooks=$(hooks_of alice) &&
	cat >expect <<-EOF &&
	pre-push: installed ($hooks/pre-push)
	reference-transaction: installed ($hooks/reference-transaction)
	EOF
	test_cmp expect st
'

test_expect_success 'plain git push on A, plain git pull on B' '
	thrum_in alice send "via push and pull" --to @bob >/dev/null &&
	git -C alice commit -q --allow-empty -m work &&
	git -C alice push -q origin main &&
	git -C remote.git show a-sync:messages/alice.jsonl >log &&
	grep "via push and pull" log &&
	git -C bob pull -q --no-rebase &&
	thrum_in bob inbox --no-mark-read >inbox &&
	grep "via push and pull" inbox
'

test_expect_success 'git pull --rebase delivers too' '
	thrum_in alice send "via pull --rebase" --to @bob >/dev/null &&
	git -C alice commit -q --allow-empty -m more &&
	git -C alice push -q origin main &&
	git -C bob commit -q --allow-empty -m local &&
	git -C bob pull -q --rebase &&
	thrum_in bob inbox --no-mark-read >inbox &&
	grep "via pull --rebase" inbox
'

test_expect_success 'plain git fetch alone makes it visible' '
	thrum_in alice send "via fetch" --to @bob >/dev/null &&
	git -C alice push -q origin main &&
	git -C bob fetch -q &&
	thrum_in bob inbox --no-mark-read >inbox &&
	grep "via fetch" inbox
'

test_expect_success 'the hook starts git-thrum only for a-sync' '
	mkdir -p spy &&
	real=$(command -v git-thrum) &&
	printf "#!/bin/sh\necho \"\$*\" >>\"%s/spy.log\"\nexec \"%s\" \"\$@\"\n" \
		"$(pwd)" "$real" >spy/git-thrum &&
	chmod +x spy/git-thrum &&
	: >spy.log &&
	(
		PATH="$(pwd)/spy:$PATH" &&
		git -C bob update-ref refs/heads/scratch HEAD &&
		git -C bob update-ref -d refs/heads/scratch &&
		git -C bob tag t1 &&
		git -C bob tag -d t1 >/dev/null &&
		git -C bob commit -q --allow-empty -m unrelated
	) &&
	test_must_be_empty spy.log &&
	thrum_in alice send "spied" >/dev/null &&
	git -C alice push -q origin main &&
	(PATH="$(pwd)/spy:$PATH" && git -C bob fetch -q) &&
	grep "^hook reference-transaction refs/remotes/origin/a-sync " spy.log
'

test_expect_success 'a replayed ref (pack-refs, gc) is ignored cheaply' '
	tip=$(git -C bob rev-parse refs/remotes/origin/a-sync) &&
	grep "^remote_tip = $tip$" bob/.thrum/var/sync-status &&
	thrum_in bob send "not committed by a replay" >/dev/null &&
	before=$(git -C bob rev-parse a-sync) &&
	cp bob/.thrum/var/sync-status status.before &&
	git -C bob pack-refs --all &&
	thrum_in bob hook reference-transaction refs/remotes/origin/a-sync \
		$tip &&
	test "$(git -C bob rev-parse a-sync)" = "$before" &&
	test_cmp status.before bob/.thrum/var/sync-status
'

test_expect_success 'a user pre-push that rejects blocks ours too' '
	hooks=$(hooks_of alice) &&
	mv "$hooks/pre-push" saved-pre-push &&
	printf "#!/bin/sh\necho rejected-by-user >&2\nexit 1\n" >"$hooks/pre-push" &&
	chmod +x "$hooks/pre-push" &&
	cp "$hooks/pre-push" user-pre-push &&
	thrum_in alice hooks install >/dev/null &&
	test_cmp user-pre-push "$hooks/pre-push.thrum-orig" &&
	thrum_in alice send "must not leave" >/dev/null &&
	before=$(git -C remote.git rev-parse a-sync) &&
	git -C alice commit -q --allow-empty -m blocked &&
	test_must_fail git -C alice push -q origin main 2>err &&
	grep rejected-by-user err &&
	test "$(git -C remote.git rev-parse a-sync)" = "$before"
'

test_expect_success 'uninstall restores the user hook byte for byte' '
	hooks=$(hooks_of alice) &&
	thrum_in alice hooks uninstall >/dev/null &&
	test_cmp user-pre-push "$hooks/pre-push" &&
	test_path_is_missing "$hooks/pre-push.thrum-orig" &&
	test_path_is_missing "$hooks/reference-transaction" &&
	test_expect_code 1 thrum_in alice hooks status >st &&
	cat >expect <<-EOF &&
	pre-push: replaced by another hook ($hooks/pre-push)
	reference-transaction: missing ($hooks/reference-transaction)
	EOF
	test_cmp expect st &&
	rm "$hooks/pre-push" &&
	thrum_in alice hooks install >/dev/null
'

test_expect_success 'user hooks still run, with the same argv and stdin' '
	hooks=$(hooks_of bob) &&
	thrum_in bob hooks uninstall >/dev/null &&
	cat >"$hooks/reference-transaction" <<-\EOF &&
	#!/bin/sh
	echo "$1" >>"$HOME/rt.log"
	cat >>"$HOME/rt.log"
	EOF
	cat >"$hooks/pre-push" <<-\EOF &&
	#!/bin/sh
	echo "args: $*" >>"$HOME/pp.log"
	cat >>"$HOME/pp.log"
	EOF
	chmod +x "$hooks/reference-transaction" "$hooks/pre-push" &&
	thrum_in bob hooks install >/dev/null &&
	: >rt.log &&
	git -C bob update-ref refs/heads/probe HEAD &&
	oid=$(git -C bob rev-parse HEAD) &&
	grep -x prepared rt.log &&
	grep -x committed rt.log &&
	test "$(grep -c "^0\{40\} $oid refs/heads/probe$" rt.log)" = 2 &&
	thrum_in bob send "pushed by bob" >/dev/null &&
	git -C bob push -q origin HEAD:refs/heads/bob-branch &&
	grep "^args: origin " pp.log &&
	grep "refs/heads/bob-branch" pp.log &&
	git -C remote.git show a-sync:messages/bob.jsonl >log &&
	grep "pushed by bob" log
'

test_expect_success 'a user reference-transaction hook that refuses still aborts the update' '
	new_repo refuses &&
	hooks=$(hooks_of refuses) &&
	cat >"$hooks/reference-transaction" <<-\EOF &&
	#!/bin/sh
	cat >/dev/null
	test "$1" != prepared || exit 1
	EOF
	chmod +x "$hooks/reference-transaction" &&
	(cd refuses && git thrum init >/dev/null) &&
	test_path_is_file "$hooks/reference-transaction.thrum-orig" &&
	test_must_fail git -C refuses update-ref refs/heads/refused HEAD \
		2>err &&
	grep "aborted by hook" err &&
	test_must_fail git -C refuses rev-parse -q --verify refs/heads/refused
'

test_expect_success 'an existing <hook>.thrum-orig is never overwritten' '
	new_repo twice &&
	hooks=$(hooks_of twice) &&
	(cd twice && git thrum init --no-hooks >/dev/null) &&
	printf "#!/bin/sh\necho current\n" >"$hooks/pre-push" &&
	printf "#!/bin/sh\necho saved earlier\n" >"$hooks/pre-push.thrum-orig" &&
	chmod +x "$hooks/pre-push" "$hooks/pre-push.thrum-orig" &&
	cp "$hooks/pre-push" expect.current &&
	cp "$hooks/pre-push.thrum-orig" expect.saved &&
	test_must_fail thrum_in twice hooks install 2>err &&
	echo "error: cannot chain '\''$hooks/pre-push'\'': '\''$hooks/pre-push.thrum-orig'\'' exists already" >expect &&
	test_cmp expect err &&
	test_cmp expect.current "$hooks/pre-push" &&
	test_cmp expect.saved "$hooks/pre-push.thrum-orig"
'

test_expect_success 'local-only: a plain push sends no a-sync' '
	git -C alice config thrum.localOnly true &&
	before=$(git -C remote.git rev-parse a-sync) &&
	thrum_in alice send "stays local" >/dev/null &&
	git -C alice commit -q --allow-empty -m local-only &&
	git -C alice push -q origin main &&
	test "$(git -C remote.git rev-parse a-sync)" = "$before" &&
	git -C alice config thrum.localOnly false
'

test_expect_success 'thrum never fails the user push' '
	cat >remote.git/hooks/pre-receive <<-\EOF &&
	#!/bin/sh
	while read old new ref
	do
		test "$ref" != refs/heads/a-sync || exit 1
	done
	EOF
	chmod +x remote.git/hooks/pre-receive &&
	thrum_in alice send "cannot go out" >/dev/null &&
	git -C alice commit -q --allow-empty -m still-pushes &&
	git -C alice push -q origin main 2>err &&
	grep "^thrum: " err &&
	test "$(git -C remote.git rev-parse main)" = \
		"$(git -C alice rev-parse main)" &&
	rm remote.git/hooks/pre-receive
'

test_expect_success 'core.hooksPath into the work tree is never written' '
	new_repo husky &&
	mkdir husky/.husky &&
	printf "#!/bin/sh\necho husky-pre-commit >>\"\$HOME/husky.log\"\n" \
		>husky/.husky/pre-commit &&
	printf "#!/bin/sh\necho husky-pre-push >>\"\$HOME/husky.log\"\n" \
		>husky/.husky/pre-push &&
	chmod +x husky/.husky/* &&
	git -C husky add .husky &&
	git -C husky commit -q -m husky &&
	git -C husky config core.hooksPath .husky &&
	(cd husky && git thrum init >/dev/null) &&
	git -C husky status --porcelain --untracked-files=all -- .husky >st &&
	test_must_be_empty st &&
	ls husky/.husky >files &&
	test_line_count = 2 files &&
	hp=$(git -C husky config core.hooksPath) &&
	case "$hp" in */thrum-hooks) ;; *) false ;; esac &&
	: >husky.log &&
	git -C husky commit -q --allow-empty -m probe &&
	grep husky-pre-commit husky.log &&
	thrum_in husky hooks status >st &&
	cat >expect <<-EOF &&
	pre-push: installed, chains to '\''$(pwd)/husky/.husky/pre-push'\'' ($(pwd)/husky/.git/thrum-hooks/pre-push)
	reference-transaction: installed ($(pwd)/husky/.git/thrum-hooks/reference-transaction)
	EOF
	test_cmp expect st
'

test_expect_success 'a reset of core.hooksPath is detected; uninstall restores' '
	git -C husky config core.hooksPath .husky &&
	test_must_fail thrum_in husky hooks status >st &&
	cat >expect <<-EOF &&
	core.hooksPath: reset to '\''.husky'\'' (run '\''git thrum hooks install'\'')
	pre-push: installed, chains to '\''$(pwd)/husky/.husky/pre-push'\'' ($(pwd)/husky/.git/thrum-hooks/pre-push)
	reference-transaction: installed ($(pwd)/husky/.git/thrum-hooks/reference-transaction)
	EOF
	test_cmp expect st &&
	thrum_in husky hooks install >/dev/null &&
	thrum_in husky hooks uninstall >/dev/null &&
	test "$(git -C husky config core.hooksPath)" = .husky &&
	test_must_fail git -C husky config thrum.hooksPathOrig
'

# git-thrum(1), HOOKS: correctness never depends on hooks
test_expect_success 'without our hooks, the next command merges what git fetch brought' '
	thrum_in bob hooks uninstall >/dev/null &&
	! grep -s "git thrum hook" "$(hooks_of bob)/reference-transaction" &&
	thrum_in alice send "no hook on bob" --to @bob >/dev/null &&
	thrum_in alice sync force >/dev/null &&
	before=$(git -C bob rev-parse a-sync) &&
	git -C bob fetch -q &&
	test "$(git -C bob rev-parse a-sync)" = "$before" &&
	thrum_in bob inbox --no-mark-read >inbox &&
	grep "no hook on bob" inbox &&
	tip=$(git -C bob rev-parse refs/remotes/origin/a-sync) &&
	test "$(git -C bob rev-parse a-sync)" = "$tip" &&
	grep "^remote_tip = $tip$" bob/.thrum/var/sync-status &&
	after=$(git -C bob rev-parse a-sync) &&
	thrum_in bob inbox --no-mark-read >/dev/null &&
	test "$(git -C bob rev-parse a-sync)" = "$after" &&
	thrum_in bob hooks install >/dev/null
'

test_expect_success 'local-only: a fetched a-sync waits for sync' '
	thrum_in bob hooks uninstall >/dev/null &&
	git -C bob config thrum.localOnly true &&
	thrum_in bob sync force >/dev/null &&
	thrum_in alice send "bob is local-only" --to @bob >/dev/null &&
	thrum_in alice sync force >/dev/null &&
	git -C bob fetch -q &&
	thrum_in bob inbox --no-mark-read >inbox &&
	! grep "bob is local-only" inbox &&
	git -C bob config thrum.localOnly false &&
	thrum_in bob sync force >/dev/null &&
	thrum_in bob inbox --no-mark-read >inbox &&
	grep "bob is local-only" inbox &&
	thrum_in bob hooks install >/dev/null
'

test_expect_success 'thrum.fetchHook=false: no reference-transaction hook' '
	new_repo nofetch &&
	git -C nofetch config thrum.fetchHook false &&
	(cd nofetch && git thrum init >/dev/null) &&
	test_path_is_missing "$(hooks_of nofetch)/reference-transaction" &&
	test_path_is_file "$(hooks_of nofetch)/pre-push"
'

test_expect_success 'init --no-hooks installs none' '
	new_repo nohooks &&
	(cd nohooks && git thrum init --no-hooks >/dev/null) &&
	test_path_is_missing "$(hooks_of nohooks)/pre-push"
'

test_expect_success 'a single-branch clone gets the a-sync refspec' '
	git clone -q --single-branch --branch main "file://$(pwd)/remote.git" single &&
	(cd single && git thrum init >/dev/null) &&
	git -C single config --get-all remote.origin.fetch >specs &&
	grep "^+refs/heads/a-sync:refs/remotes/origin/a-sync$" specs
'

test_expect_success 'hooks status --json: each hook, its state and what it chains to' '
	(cd nofetch && git thrum hooks status --json >../hooks.json) &&
	test "$(json_get hooks.json "$.ok")" = 1 &&
	test "$(json_get hooks.json "$.hooks[0].name")" = pre-push &&
	test "$(json_get hooks.json "$.hooks[0].state")" = installed &&
	test "$(json_get hooks.json "$.hooks[1].state")" = not-wanted &&
	rm "$(hooks_of nofetch)/pre-push" &&
	(cd nofetch && test_expect_code 1 git thrum hooks status --json \
		>../hooks.json) &&
	test "$(json_get hooks.json "$.ok")" = 0 &&
	test "$(json_get hooks.json "$.hooks[0].state")" = missing
'

test_done

#!/bin/sh
test_description='git thrum init: branch, sparse sync work tree, repair'
. ./lib-thrum.sh

empty_tree=4b825dc642cb6eb9a060e54bf8d69288fbee4904

# init_says <repo> <what a-sync is>: what init prints there
init_says() {
	cat <<-EOF
	Initialized thrum in $(pwd)/$1
	  a-sync: $2
	  sync work tree: $(sync_dir "$1")
	  hooks: reference-transaction, pre-push
	  daemon: not started
	EOF
}

test_expect_success 'init in a fresh repository' '
	new_repo fresh &&
	(cd fresh && git thrum init >../out) &&
	init_says fresh "new branch, 0 events, 0 messages" >expect &&
	test_cmp expect out &&
	test -d fresh/.thrum/var &&
	test -d fresh/.thrum/identities &&
	grep -x ".thrum/" fresh/.git/info/exclude &&
	test_path_is_missing fresh/.gitignore &&
	git -C fresh rev-parse --verify -q refs/heads/a-sync &&
	test "$(git -C fresh rev-parse "a-sync^{tree}")" = $empty_tree &&
	test_must_fail git -C fresh rev-parse -q --verify "a-sync^"
'

test_expect_success 'the sync work tree is linked, on a-sync, sparse' '
	sd=$(sync_dir fresh) &&
	test -f "$sd/.git" &&
	git -C fresh worktree list --porcelain >list &&
	grep -x "worktree $sd" list &&
	test "$(git -C "$sd" symbolic-ref HEAD)" = refs/heads/a-sync &&
	git -C "$sd" sparse-checkout list >patterns &&
	grep -x "/events.jsonl" patterns &&
	grep -x "/messages/" patterns &&
	grep -x "/messages.jsonl" patterns
'

test_expect_success 'the main branch is untouched' '
	test "$(git -C fresh symbolic-ref HEAD)" = refs/heads/main &&
	git -C fresh status --porcelain >status &&
	test_must_be_empty status
'

test_expect_success 'init again is harmless' '
	(cd fresh && git thrum quickstart --name alice --role impl \
		--module core >/dev/null && git thrum send "kept" >/dev/null &&
		git thrum init >../out2) &&
	init_says fresh "existing branch, 3 events, 1 messages" >expect &&
	test_cmp expect out2 &&
	test "$(grep -c "^.thrum/$" fresh/.git/info/exclude)" = 1 &&
	(cd fresh && git thrum inbox --all --no-mark-read >../inbox) &&
	grep "kept" inbox
'

test_expect_success 'init --stealth (the default now) writes .git/info/exclude' '
	new_repo stealth &&
	(cd stealth && git thrum init --stealth >/dev/null) &&
	grep -x ".thrum/" stealth/.git/info/exclude &&
	test_path_is_missing stealth/.gitignore
'

test_expect_success 'init --gitignore writes the ignore line to .gitignore' '
	new_repo tracked &&
	(cd tracked && git thrum init --gitignore >/dev/null) &&
	grep -x ".thrum/" tracked/.gitignore
'

# an untracked .gitignore of ours used to stop a later pull that brought
# the project its own .gitignore
test_expect_success 'git pull after another clone committed its own .gitignore' '
	git init -q --bare ign.git &&
	new_repo ign-a &&
	git -C ign-a push -q ../ign.git HEAD:main &&
	git clone -q ign.git ign-b &&
	(cd ign-b && git thrum init >/dev/null) &&
	printf "*.o\n" >ign-a/.gitignore &&
	git -C ign-a add .gitignore &&
	git -C ign-a commit -q -m "the project ignores objects" &&
	git -C ign-a push -q ../ign.git HEAD:main &&
	git -C ign-b pull -q origin main &&
	test_cmp ign-a/.gitignore ign-b/.gitignore &&
	git -C ign-b status --porcelain >st &&
	test_must_be_empty st
'

test_expect_success 'init --json' '
	new_repo js &&
	(cd js && git thrum init --json >../init.json) &&
	json_valid init.json &&
	test "$(json_get init.json "$.branch")" = new
'

test_expect_success 'a clone whose a-sync holds history sees all of it' '
	git init -q --bare remote.git &&
	thrum_repo alice alice impl &&
	(
		cd alice &&
		git thrum send "first from alice" >/dev/null &&
		git thrum send "second from alice" >/dev/null
	) &&
	commit_sync alice &&
	git -C alice remote add origin ../remote.git &&
	git -C alice push -q origin main a-sync &&
	git clone -q remote.git bob &&
	(cd bob && git thrum init >../out) &&
	init_says bob "remote branch, 4 events, 2 messages" >expect &&
	test_cmp expect out &&
	(
		cd bob &&
		git thrum quickstart --name bob --role review --module ui \
			>/dev/null &&
		git thrum inbox --no-mark-read >../inbox
	) &&
	grep "first from alice" inbox &&
	grep "second from alice" inbox
'

# a log written by the original: trimmed fractions, sequence numbers,
# receipts in the author file, a line we cannot parse
write_original_history() {
	E=01JKM4T2YQ8M3E5X6Z7A9B0C
	cat >events.jsonl <<-EOF &&
	{"agent_id":"furiosa","agent_pid":42,"event_id":"evt_${E}01","hostname":"mac","kind":"agent","module":"auth","name":"furiosa","origin_daemon":"d_${E}99","role":"implementer","sequence":1,"timestamp":"2026-02-03T10:00:00.123Z","type":"agent.register","v":1,"worktree":"/w"}
	{"agent_id":"nux","event_id":"evt_${E}02","kind":"agent","module":"ui","name":"nux","origin_daemon":"d_${E}99","role":"reviewer","sequence":2,"timestamp":"2026-02-03T10:00:00.2Z","type":"agent.register","v":1}
	EOF
	mkdir -p messages &&
	cat >messages/furiosa.jsonl <<-EOF &&
	{"agent_id":"furiosa","body":{"content":"at :00.5","format":"markdown"},"event_id":"evt_${E}03","message_id":"msg_${E}03","origin_daemon":"d_${E}99","recipients":["nux"],"refs":[{"type":"mention","value":"nux"}],"sequence":3,"session_id":"ses_${E}01","timestamp":"2026-02-03T10:01:00.5Z","type":"message.create","v":1}
	{"agent_id":"furiosa","body":{"content":"at :00 \u003cfirst\u003e","format":"markdown"},"event_id":"evt_${E}04","message_id":"msg_${E}04","origin_daemon":"d_${E}99","recipients":["nux"],"refs":[{"type":"mention","value":"nux"}],"sequence":4,"session_id":"ses_${E}01","timestamp":"2026-02-03T10:01:00Z","type":"message.create","v":1}
	{"body":{"content":"at :00.5 (v2)","format":"markdown"},"event_id":"evt_${E}05","message_id":"msg_${E}03","origin_daemon":"d_${E}99","sequence":5,"timestamp":"2026-02-03T10:02:00Z","type":"message.edit","v":1}
	{"agent_id":"nux","event_id":"evt_${E}06","message_id":"msg_${E}04","origin_daemon":"d_${E}99","receipt_type":"read","sequence":6,"session_id":"ses_${E}02","timestamp":"2026-02-03T10:03:00Z","type":"message.receipt","v":1}
	this line is not JSON
	EOF
	blob_e=$(git hash-object -w events.jsonl) &&
	blob_m=$(git hash-object -w messages/furiosa.jsonl) &&
	sub=$(printf "100644 blob %s\tfuriosa.jsonl\n" $blob_m | git mktree) &&
	tree=$(printf "100644 blob %s\tevents.jsonl\n040000 tree %s\tmessages\n" \
		$blob_e $sub | git mktree) &&
	commit=$(git commit-tree -m "original thrum" $tree) &&
	git update-ref refs/heads/a-sync $commit
}

test_expect_success 'a log written by the original is read' '
	git init -q --bare orig.git &&
	new_repo origsrc &&
	(cd origsrc && write_original_history) &&
	git -C origsrc push -q ../orig.git main a-sync &&
	git clone -q orig.git nux &&
	(
		cd nux &&
		git thrum init >/dev/null &&
		git thrum quickstart --name nux --role reviewer --module ui \
			>/dev/null &&
		git thrum inbox --no-mark-read --json >../orig.json &&
		git thrum rebuild >../rebuild.out
	) &&
	json_valid orig.json &&
	test "$(json_get orig.json "$.messages[0].body.content")" = \
		"at :00.5 (v2)" &&
	test "$(json_get orig.json "$.messages[0].edited")" = 1 &&
	test "$(json_get orig.json "$.messages[0].is_read")" = 0 &&
	test "$(json_get orig.json "$.messages[1].body.content")" = \
		"at :00 <first>" &&
	test "$(json_get orig.json "$.messages[1].is_read")" = 1 &&
	# nux'"'"'s key vouches for nux'"'"'s lines from the original: one more
	E=01JKM4T2YQ8M3E5X6Z7A9B0C &&
	grep -q "\"type\":\"agent.vouch\".*\"vouched\":\[\"[^\"]*:evt_${E}02\",\"[^\"]*:evt_${E}06\"" \
		"$(sync_dir nux)/events.jsonl" &&
	echo "rebuilt: 9 events, 2 messages, 2 agents (1 lines skipped, 0 conflicts)" >expect &&
	test_cmp expect rebuild.out &&
	grep -x "this line is not JSON" "$(sync_dir nux)/messages/furiosa.jsonl"
'

test_expect_success 'a deleted sync work tree: commands refuse, init restores' '
	sd=$(sync_dir alice) &&
	rm -rf "$sd" &&
	(cd alice && test_must_fail git thrum inbox 2>../err) &&
	echo "fatal: the sync work tree is broken ('\''$sd/.git'\'' is not a file); run '\''git thrum init --force'\''" >expect &&
	test_cmp expect err &&
	(cd alice && git thrum init --force >/dev/null &&
	 git thrum inbox --all --no-mark-read >../inbox) &&
	grep "first from alice" inbox &&
	grep "second from alice" inbox
'

test_expect_success 'a broken sync work tree: --force repairs, keeps events' '
	(
		cd alice &&
		git thrum send "not committed yet" >/dev/null &&
		git thrum send "nor this one" >/dev/null
	) &&
	sd=$(sync_dir alice) &&
	before=$(count_lines "$sd/messages/alice.jsonl") &&
	test "$before" -ge 4 &&
	echo "gitdir: /nonexistent" >"$sd/.git" &&
	(cd alice && test_must_fail git thrum init 2>../err) &&
	echo "error: the sync work tree is broken (git does not list '\''$sd'\'' as a work tree); run '\''git thrum init --force'\''" >expect &&
	test_cmp expect err &&
	(cd alice && git thrum init --force >/dev/null) &&
	test -f "$sd/.git" &&
	test "$(count_lines "$sd/messages/alice.jsonl")" = "$before" &&
	(cd alice && git thrum inbox --all --no-mark-read >../inbox) &&
	grep "not committed yet" inbox &&
	grep "nor this one" inbox &&
	grep "first from alice" inbox
'

test_done

#!/bin/sh
test_description='resource faults: disk full, read-only var, hanging and slow remotes, a 10 000-line push'
. ./lib-thrum.sh

# mounting a tmpfs needs root (CI runs as root); skip those tests otherwise
mkdir -p probe && mount -t tmpfs -o size=64k none probe 2>/dev/null &&
	umount probe && test_set_prereq MOUNT

shard_lines() {
	count_lines "$(sync_dir "$1")/messages/$2.jsonl"
}

all_lines_parse() {
	for f in "$(sync_dir "$1")"/events.jsonl "$(sync_dir "$1")"/messages/*.jsonl
	do
		! grep -v "^{.*}$" "$f" || return 1
	done
}

test_expect_success MOUNT 'disk full: send fails cleanly, nothing half-written' '
	mkdir small &&
	mount -t tmpfs -o size=3m none small &&
	test_when_finished "umount small" &&
	(cd small && thrum_repo repo alice impl &&
	 git -C repo config core.fsync none) &&
	thrum_in small/repo send "before the disk filled" >/dev/null &&
	before=$(shard_lines small/repo alice) &&
	{ dd if=/dev/zero of=small/filler bs=64k 2>/dev/null; true; } &&
	body=$(printf "%04000d" 0) &&
	test_must_fail thrum_in small/repo send "$body" 2>err &&
	grep -e "No space left on device" -e "disk is full" err &&
	test_line_count = 1 err &&
	test_path_is_file small/repo/.thrum/var/messages.db &&
	test "$(shard_lines small/repo alice)" = "$before" &&
	all_lines_parse small/repo &&
	rm small/filler &&
	thrum_in small/repo send "after space came back" >/dev/null &&
	thrum_in small/repo inbox --all --no-mark-read >inbox &&
	grep "before the disk filled" inbox &&
	grep "after space came back" inbox &&
	thrum_in small/repo fsck >/dev/null
'

test_expect_success MOUNT 'read-only .thrum/var: one clear line, exit 1' '
	thrum_repo ro alice impl &&
	thrum_in ro send "written before" >/dev/null &&
	before=$(shard_lines ro alice) &&
	cp -a ro/.thrum/var var.saved &&
	mount -t tmpfs none ro/.thrum/var &&
	test_when_finished "umount ro/.thrum/var" &&
	cp -a var.saved/. ro/.thrum/var/ &&
	mount -o remount,ro ro/.thrum/var &&
	test_must_fail thrum_in ro send "cannot be written" 2>err &&
	grep -i -e "read-only file system" -e "readonly database" err &&
	test_line_count = 1 err &&
	test "$(shard_lines ro alice)" = "$before"
'

test_expect_success 'a remote that hangs: timeout after thrum.networkTimeout' '
	setup_pair &&
	over_ssh alice hang 1 <<-EOF &&
	#!/bin/sh
	echo \$\$ >"$(pwd)/hang.pid"
	exec sleep 300
	EOF
	thrum_in alice send "while the remote hangs" >/dev/null &&
	start=$(date +%s) &&
	test_expect_code 1 thrum_in alice sync force >out &&
	test $(( $(date +%s) - start )) -lt 20 &&
	grep "^timeout: " out &&
	grep "did not finish within 1s" out &&
	# this ssh, not any other on the machine; gone (a zombie for an
	# instant, until init reaps it)
	wait_for 5 eval "! kill -0 $(cat hang.pid) 2>/dev/null"
'

test_expect_success 'a slow remote is slow, not offline' '
	over_ssh alice slow 30 <<-EOF &&
	#!/bin/sh
	sleep 1
	cd "$(pwd)" && exec sh -c "\$2"
	EOF
	thrum_in alice sync force >out &&
	grep "^synced.*pushed" out &&
	git -C remote.git show a-sync:messages/alice.jsonl >log &&
	grep "while the remote hangs" log
'

test_expect_success 'one push of 10 000 lines arrives whole' '
	sd=$(sync_dir bob) &&
	mkdir -p "$sd/messages" &&
	# signed by bob: his lines count only so
	awk "BEGIN {
		a = \"0123456789ABCDEFGHJKMNPQRSTVWXYZ\";
		for (i = 0; i < 10000; i++) {
			x = i; s = \"\";
			for (k = 0; k < 6; k++) { s = substr(a, x % 32 + 1, 1) s; x = int(x / 32) }
			printf \"{\\\"agent_id\\\":\\\"bob\\\",\\\"body\\\":{\\\"content\\\":\\\"bulk %d\\\",\\\"format\\\":\\\"markdown\\\"},\\\"event_id\\\":\\\"evt_01JKM4T2YQ8M3E5X6Z7A%s\\\",\\\"message_id\\\":\\\"msg_01JKM4T2YQ8M3E5X6Z7A%s\\\",\\\"scopes\\\":[{\\\"type\\\":\\\"broadcast\\\",\\\"value\\\":\\\"everyone\\\"}],\\\"timestamp\\\":\\\"2026-02-03T10:%02d:%02d.%03dZ\\\",\\\"type\\\":\\\"message.create\\\",\\\"v\\\":1}\\n\", i, s, s, int(i / 600) % 60, int(i / 10) % 60, i % 1000
		}
	}" | "$SHARNESS_BUILD_DIRECTORY/tests/helper/test-sign" sign \
		bob/.thrum/identities/bob.key >>"$sd/messages/bob.jsonl" &&
	thrum_in bob sync force >out &&
	grep "pushed" out &&
	git -C alice config --unset core.sshCommand &&
	git -C alice remote set-url origin "file://$(pwd)/remote.git" &&
	thrum_in alice sync force >out &&
	grep "^synced: 100[0-9][0-9] new events" out &&
	thrum_in alice inbox --no-mark-read --from @bob --json --limit 20000 \
		>bulk.json &&
	test "$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile(\"bulk.json\"), \"$.messages\") WHERE json_extract(value, \"$.body.content\") LIKE \"bulk %\";")" = 10000
'

test_done

#!/bin/sh
test_description='4 processes x 100 sends while sync cycles run: every event exactly once'
. ./lib-thrum.sh

test_expect_success 'setup' '
	setup_pair
'

test_expect_success '400 sends racing sync cycles on both clones' '
	rm -f done &&
	(
		while test ! -f done
		do
			thrum_in alice sync force >/dev/null 2>>sync.err
		done
	) &
	(
		while test ! -f done
		do
			thrum_in bob sync force >/dev/null 2>>sync.err
		done
	) &
	for w in 1 2 3 4
	do
		(
			i=0
			while test $i -lt 100
			do
				i=$((i + 1))
				thrum_in alice send "s$w-$i" --to @bob \
					>/dev/null || exit 1
			done
		) &
	done &&
	# the sync loops stop whatever the senders did
	ret=0
	for job in %3 %4 %5 %6
	do
		wait $job || ret=1
	done
	touch done &&
	wait &&
	test $ret = 0 &&
	sync_round alice bob
'

test_expect_success 'the remote holds every event exactly once' '
	# every segment of alice'"'"'s shard
	for f in $(git -C remote.git ls-tree --name-only a-sync messages/ |
		   grep "^messages/alice\.")
	do
		git -C remote.git show "a-sync:$f" || return 1
	done >remote.log &&
	grep -o "\"content\":\"s[1-4]-[0-9]*\"" remote.log >contents &&
	test_line_count = 400 contents &&
	sort -u contents >unique &&
	test_line_count = 400 unique &&
	sed -n "s/.*\"event_id\":\"\\(evt_[0-9A-Z]*\\)\".*/\\1/p" remote.log |
		sort | uniq -d >dup_ids &&
	test_must_be_empty dup_ids
'

test_expect_success 'the other clone has all 400 in its inbox, once each' '
	thrum_in bob inbox --no-mark-read --json >b.json &&
	n=$(sqlite3 :memory: "SELECT count(DISTINCT json_extract(value, \"$.body.content\")) FROM json_each(readfile(\"b.json\"), \"$.messages\") WHERE json_extract(value, \"$.body.content\") LIKE \"s_-%\";") &&
	test "$n" = 400 &&
	total=$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile(\"b.json\"), \"$.messages\") WHERE json_extract(value, \"$.body.content\") LIKE \"s_-%\";") &&
	test "$total" = 400
'

test_expect_success 'both clones converged, work trees clean, no torn line' '
	test "$(a_sync_tree alice)" = "$(a_sync_tree bob)" &&
	git -C "$(sync_dir alice)" status --porcelain >st &&
	test_must_be_empty st &&
	! grep -v "^{.*}$" "$(sync_dir alice)/messages/alice.jsonl"
'

test_done

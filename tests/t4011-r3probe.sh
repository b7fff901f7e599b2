#!/bin/sh
test_description='review3 probes'
. ./lib-thrum.sh
cache=repo/.thrum/var/directory
test_expect_success 'setup' '
	thrum_repo repo &&
	(
		cd repo &&
		git thrum quickstart --name alice --role impl --module core &&
		git thrum quickstart --name bob --role review --module ui
	) >/dev/null
'
test_expect_success 'probe: db restored by rm + cp' '
	as alice send warm --to @bob >/dev/null &&
	key=$(sed -n "s/.*\"name\":\"alice\".*\"pubkey\":\"\([^\"]*\)\".*/\1/p" \
		"$(sync_dir repo)/events.jsonl" | head -n 1) &&
	printf "alice %s\nbob %s\n" "$key" "$key" >repo/signers &&
	git -C repo config thrum.allowedSigners signers &&
	as alice inbox >/dev/null &&
	sqlite3 repo/.thrum/var/messages.db ".backup saved.db" &&
	git -C repo config --unset thrum.allowedSigners &&
	as alice inbox >/dev/null &&
	as alice send warm --to @bob >/dev/null &&
	grep -x "a bob" $cache &&
	stat -c %i repo/.thrum/var/messages.db &&
	(cd repo/.thrum/var && rm -f messages.db messages.db-wal messages.db-shm &&
	 cp ../../../saved.db messages.db) &&
	stat -c %i repo/.thrum/var/messages.db &&
	test_must_fail as alice send x --to @bob 2>err &&
	cat err
'
test_done

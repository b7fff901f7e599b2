#!/bin/sh
test_description='git thrum setup agents: MCP entries and the AGENTS.md block, idempotent, the user'"'"'s entries byte for byte'
. ./lib-thrum.sh

test_expect_success 'setup: a repository with the user'"'"'s own agent configuration' '
	thrum_repo repo alice impl &&
	cat >repo/.mcp.json <<-\EOF &&
	{
	  "mcpServers": {
	    "other":   {"command": "x", "args": [ "--flag" ]}
	  },
	  "note": "braces { inside } a string"
	}
	EOF
	cp repo/.mcp.json mcp.orig &&
	printf "# How we work\n\nBe kind.\n" >repo/AGENTS.md &&
	cp repo/AGENTS.md agents.orig &&
	mkdir -p repo/.codex &&
	printf "model = \"o3\"\n\n[mcp_servers.other]\ncommand = \"y\"\n" \
		>repo/.codex/config.toml &&
	cp repo/.codex/config.toml codex.orig
'

test_expect_success 'without --apply nothing changes' '
	(cd repo && git thrum setup agents >../plan) &&
	# each file says what it would become, after its status line
	grep -e "^[^ ]*: would " -e "^(nothing" plan >says &&
	cat >expect <<-\EOF &&
	.mcp.json: would update
	CLAUDE.md: would create
	.codex/config.toml: would update
	.cursor/mcp.json: would create
	AGENTS.md: would update
	(nothing was changed; run with --apply to write)
	EOF
	test_cmp expect says &&
	test_cmp mcp.orig repo/.mcp.json &&
	test_cmp agents.orig repo/AGENTS.md &&
	test_cmp codex.orig repo/.codex/config.toml &&
	test_path_is_missing repo/CLAUDE.md &&
	test_path_is_missing repo/.cursor
'

test_expect_success '--apply writes every runtime'"'"'s entry and the block' '
	(cd repo && git thrum setup agents --apply >../applied) &&
	cat >expect <<-\EOF &&
	.mcp.json: updated
	CLAUDE.md: created
	.codex/config.toml: updated
	.cursor/mcp.json: created
	AGENTS.md: updated
	EOF
	test_cmp expect applied &&
	for f in .mcp.json .cursor/mcp.json
	do
		json_valid "repo/$f" &&
		test "$(json_get "repo/$f" "$.mcpServers.thrum.command")" = git &&
		test "$(json_get "repo/$f" "$.mcpServers.thrum.args")" = "[\"thrum\",\"mcp\"]" ||
		return 1
	done &&
	grep -x "\[mcp_servers.thrum\]" repo/.codex/config.toml &&
	grep -x "args = \[\"thrum\", \"mcp\"\]" repo/.codex/config.toml &&
	grep "^<!-- thrum:begin" repo/AGENTS.md &&
	grep "git thrum inbox" repo/CLAUDE.md
'

test_expect_success 'the user'"'"'s entries survive byte for byte' '
	grep -v "\"thrum\": {\"type\": \"stdio\"" repo/.mcp.json >without &&
	test_cmp mcp.orig without &&
	head -n 3 repo/AGENTS.md >head &&
	test_cmp agents.orig head &&
	head -n 4 repo/.codex/config.toml >head &&
	test_cmp codex.orig head &&
	test "$(json_get repo/.mcp.json "$.note")" = "braces { inside } a string"
'

test_expect_success '--apply again changes nothing' '
	(cd repo && md5sum .mcp.json .cursor/mcp.json .codex/config.toml \
		AGENTS.md CLAUDE.md >../sums1 &&
	 git thrum setup agents --apply >../again &&
	 md5sum .mcp.json .cursor/mcp.json .codex/config.toml AGENTS.md \
		CLAUDE.md >../sums2) &&
	test_cmp sums1 sums2 &&
	cat >expect <<-\EOF &&
	.mcp.json: up to date
	CLAUDE.md: up to date
	.codex/config.toml: up to date
	.cursor/mcp.json: up to date
	AGENTS.md: up to date
	EOF
	test_cmp expect again
'

test_expect_success 'an outdated thrum entry is replaced, the rest kept' '
	cat >repo/.cursor/mcp.json <<-\EOF &&
	{"mcpServers": {"a": {"command": "a"},
	  "thrum": {"command": "thrum", "args": ["mcp", "serve"]},
	  "z": {"command": "z"}}}
	EOF
	(cd repo && git thrum setup agents --runtime cursor --apply >/dev/null) &&
	test "$(json_get repo/.cursor/mcp.json "$.mcpServers.thrum.command")" = git &&
	grep -F "{\"mcpServers\": {\"a\": {\"command\": \"a\"}," repo/.cursor/mcp.json &&
	grep -F "  \"z\": {\"command\": \"z\"}}}" repo/.cursor/mcp.json
'

test_expect_success 'a file that is not JSON is left alone, with an error' '
	echo "{ not json" >repo/.cursor/mcp.json &&
	cp repo/.cursor/mcp.json bad.orig &&
	(cd repo && test_must_fail git thrum setup agents --apply 2>../err) &&
	echo "error: '\''.cursor/mcp.json'\'' is not a JSON object; not changing it" >expect &&
	test_cmp expect err &&
	test_cmp bad.orig repo/.cursor/mcp.json
'

test_expect_success 'a bad runtime is a usage error' '
	(cd repo && test_expect_code 129 git thrum setup agents --runtime vim \
		2>../err) &&
	grep "unknown runtime .vim." err
'

test_expect_success '--json says what would be written' '
	(cd repo && git thrum setup agents --runtime claude --json >../plan.json) &&
	json_valid plan.json &&
	test "$(json_get plan.json "$.applied")" = 0 &&
	test "$(json_get plan.json "$.files[0].path")" = .mcp.json &&
	test "$(json_get plan.json "$.files[0].action")" = "up to date"
'

test_done

#!/bin/sh
test_description='git thrum mcp: the MCP server, driven by the official SDK and from a raw pipe'
. ./lib-thrum.sh

if command -v node >/dev/null && command -v npm >/dev/null
then
	test_set_prereq NODE
else
	say "skipping the MCP SDK tests: node and npm are not installed"
fi

test_expect_success 'setup: alice and bob in two clones of one remote' '
	setup_pair &&
	thrum_in alice quickstart --name carol --role helper --module m \
		>/dev/null &&
	sync_round alice bob
'

# the official TypeScript SDK, into a throw-away directory of this run
# (npm's cache is kept in the build tree, and what it holds is taken
# without asking the registry again: a rerun downloads nothing)
test_expect_success NODE 'install @modelcontextprotocol/sdk from npm' '
	mkdir sdk &&
	(cd sdk && echo "{\"name\":\"t\",\"private\":true,\"type\":\"module\"}" \
		>package.json &&
	 npm_config_cache="$SHARNESS_BUILD_DIRECTORY/build/npm-cache" \
		npm install --no-audit --no-fund --silent --prefer-offline \
		@modelcontextprotocol/sdk@1 ajv@8 >../npm.out 2>&1) &&
	test -d sdk/node_modules/@modelcontextprotocol/sdk &&
	cp "$SHARNESS_TEST_SRCDIR/mcp/client.mjs" sdk/
'

test_expect_success NODE 'the SDK client: tools, schemas, send, wait across clones, reply, errors' '
	(cd sdk && node client.mjs "$(cd ../alice && pwd)" \
		"$(cd ../bob && pwd)" ../transcript >../client.out 2>&1) ||
	{ cat client.out; false; } &&
	cat client.out &&
	grep "^all checks passed" client.out &&
	grep "^alice -> send_message" transcript
'

# mcp_session <repo> <agent> <input> <output>: one server on a pipe, its
# input written by the shell, all of it, then closed
mcp_session() {
	(dir=$(pwd) && cd "$1" &&
	 git thrum mcp --agent "$2" <"$dir/$3" >"$dir/$4" 2>"$dir/$4.err")
}

init_line='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}'

test_expect_success 'initialize: the client'"'"'s version when it is one we speak, else ours' '
	echo "$init_line" >in &&
	echo "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"1999-01-01\"}}" >>in &&
	mcp_session alice alice in out &&
	sed -n 1p out >one && json_get one "$.result.protocolVersion" >v &&
	echo 2024-11-05 >expect && test_cmp expect v &&
	sed -n 2p out >two && json_get two "$.result.protocolVersion" >v &&
	echo 2025-06-18 >expect && test_cmp expect v
'

test_expect_success 'bad input from a raw pipe: each answered per JSON-RPC, never a crash' '
	{
		echo "$init_line" &&
		echo "not json at all" &&
		echo "[1,2]" &&
		echo "{\"jsonrpc\":\"1.0\",\"id\":2,\"method\":\"ping\"}" &&
		echo "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"no/such\"}" &&
		echo "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":\"x\"}" &&
		echo "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{}}" &&
		echo "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}" &&
		echo "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"send_message\",\"arguments\":{\"to\":5,\"content\":\"x\"}}}" &&
		echo "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}" &&
		echo "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}"
	} >in &&
	mcp_session alice alice in out &&
	test_line_count = 10 out &&
	sed -n 2p out >l && test "$(json_get l "$.error.code")" = -32700 &&
	sed -n 3p out >l && test "$(json_get l "$.error.code")" = -32700 &&
	sed -n 4p out >l && test "$(json_get l "$.error.code")" = -32600 &&
	sed -n 5p out >l && test "$(json_get l "$.error.code")" = -32601 &&
	sed -n 6p out >l && test "$(json_get l "$.error.code")" = -32602 &&
	sed -n 7p out >l && test "$(json_get l "$.error.code")" = -32602 &&
	sed -n 8p out >l && test "$(json_get l "$.error.code")" = -32602 &&
	sed -n 9p out >l && test "$(json_get l "$.result.isError")" = 1 &&
	sed -n 10p out >l && test "$(json_get l "$.id")" = 8
'

test_expect_success 'a 10 MB line is refused without holding it, and the server goes on' '
	{
		echo "$init_line" &&
		awk "BEGIN { printf \"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"id\\\":1,\\\"method\\\":\\\"ping\\\",\\\"pad\\\":\\\"\"; for (i = 0; i < 10 * 1024 * 1024; i++) printf \"x\"; print \"\\\"}\" }" &&
		echo "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}"
	} >in &&
	test $(wc -c <in) -gt 10000000 &&
	mcp_session alice alice in out &&
	test_line_count = 3 out &&
	sed -n 2p out >l && grep "request too long" l &&
	sed -n 3p out >l && test "$(json_get l "$.id")" = 2
'

test_expect_success 'EOF in the middle of a request: answered, then a clean exit' '
	{ echo "$init_line" && printf "{\"jsonrpc\":\"2.0\",\"id\":9,\"meth"; } >in &&
	mcp_session alice alice in out &&
	test_line_count = 2 out &&
	sed -n 2p out >l && test "$(json_get l "$.error.code")" = -32700
'

# a server whose input stays open: a fifo the test writes into
start_server() {
	rm -f "$1.fifo" && mkfifo "$1.fifo" || return 1
	(cd "$2" && exec git thrum mcp --agent "$3" <"../$1.fifo" \
		>"../$1.out" 2>"../$1.err") &
	echo $! >"$1.pid" &&
	exec 9>"$1.fifo"
}

test_expect_success 'two waits at once, a cancelled one, and a send that wakes them in turn' '
	start_server srv bob bob &&
	{
		echo "$init_line" &&
		echo "{\"jsonrpc\":\"2.0\",\"id\":\"w1\",\"method\":\"tools/call\",\"params\":{\"name\":\"wait_for_message\",\"arguments\":{\"timeout\":30}}}" &&
		echo "{\"jsonrpc\":\"2.0\",\"id\":\"w2\",\"method\":\"tools/call\",\"params\":{\"name\":\"wait_for_message\",\"arguments\":{\"timeout\":30}}}" &&
		echo "{\"jsonrpc\":\"2.0\",\"id\":\"w3\",\"method\":\"tools/call\",\"params\":{\"name\":\"wait_for_message\",\"arguments\":{\"timeout\":30}}}" &&
		echo "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":\"w2\",\"reason\":\"test\"}}" &&
		echo "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}"
	} >&9 &&
	wait_for 10 grep -q "\"id\":\"p\"" srv.out &&
	! grep -q "\"id\":\"w" srv.out &&
	(cd alice && THRUM_NAME=alice git thrum send "first" --to @bob >/dev/null) &&
	thrum_in alice sync force >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	wait_for 10 grep -q "\"id\":\"w1\"" srv.out &&
	(cd alice && THRUM_NAME=alice git thrum send "second" --to @bob >/dev/null) &&
	thrum_in alice sync force >/dev/null &&
	thrum_in bob sync force >/dev/null &&
	wait_for 10 grep -q "\"id\":\"w3\"" srv.out &&
	grep "\"id\":\"w1\"" srv.out | grep -q "first" &&
	grep "\"id\":\"w3\"" srv.out | grep -q "second" &&
	! grep -q "\"id\":\"w2\"" srv.out &&
	exec 9>&- &&
	wait_for 10 eval "! kill -0 $(cat srv.pid) 2>/dev/null"
'

test_done

// A real MCP client, not ours: the official TypeScript SDK drives
// `git thrum mcp` over stdio in two clones synced through a bare remote.
// Usage: node client.mjs <clone-a> <clone-b> <transcript>
// Exits non-zero on the first failed check, saying which.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import Ajv from "ajv";
import { execFileSync } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";

const [cloneA, cloneB, transcript] = process.argv.slice(2);
writeFileSync(transcript, "");
const log = (who, what, data) =>
	appendFileSync(transcript, `${who} ${what} ${JSON.stringify(data)}\n`);

function check(cond, what) {
	if (!cond) {
		console.error(`FAILED: ${what}`);
		process.exit(1);
	}
	console.log(`ok: ${what}`);
}

async function connect(who, cwd, agent) {
	const transport = new StdioClientTransport({
		command: "git",
		args: ["thrum", "mcp", "--agent", agent],
		cwd,
		env: { ...process.env },
		stderr: "pipe",
	});
	const client = new Client({ name: `sdk-${who}`, version: "1.0.0" });
	await client.connect(transport);
	return client;
}

async function call(client, who, name, args, opts) {
	log(who, `-> ${name}`, args);
	const res = await client.callTool({ name, arguments: args }, undefined,
					  opts);
	log(who, `<- ${name}`, res);
	return res;
}

function data(res) {
	return res.structuredContent ?? JSON.parse(res.content[0].text);
}

function sync(repo) {
	execFileSync("git", ["thrum", "sync", "force"], { cwd: repo });
}

const alice = await connect("alice", cloneA, "alice");
const bob = await connect("bob", cloneB, "bob");

// the handshake and the tools, each schema valid JSON Schema
const version = alice.getServerVersion();
check(version?.name === "git-thrum", "serverInfo names git-thrum");
const { tools } = await alice.listTools();
log("alice", "<- tools/list", tools.map((t) => t.name));
const names = tools.map((t) => t.name).sort();
check(JSON.stringify(names) === JSON.stringify(["check_messages",
	"get_message", "list_agents", "reply_message", "send_message",
	"sync_status", "wait_for_message"]), "the seven tools are listed");
const ajv = new Ajv({ strict: false });
for (const t of tools) {
	check(t.inputSchema?.type === "object" && ajv.validateSchema(t.inputSchema),
	      `${t.name} has a valid input schema`);
	ajv.compile(t.inputSchema);
}
const sendSchema = ajv.compile(tools.find((t) => t.name === "send_message").inputSchema);
check(sendSchema({ to: "@bob", content: "x" }) && !sendSchema({ to: "@bob" }),
      "send_message's schema requires content");
await alice.ping();
check(true, "ping answers");

// list_agents sees both agents (synced already)
const agents = data(await call(alice, "alice", "list_agents", {}));
check(agents.count >= 2 && agents.agents.some((a) => a.name === "bob"),
      "list_agents lists bob");

// bob waits; alice sends; the clones sync; bob's wait returns it
const started = Date.now();
const waiting = call(bob, "bob", "wait_for_message", { timeout: 60 });
const sent = data(await call(alice, "alice", "send_message",
			     { to: "@bob", content: "review the parser, please" }));
check(sent.status === "delivered" && /^msg_/.test(sent.message_id),
      "send_message delivers and names the message");
check(sent.resolved_to === 1, "one recipient resolved");
sync(cloneA);
sync(cloneB);
const got = data(await waiting);
check(got.status === "message_received" &&
      got.message.message_id === sent.message_id &&
      got.message.content === "review the parser, please" &&
      got.message.from === "alice",
      `bob's wait returned alice's message (${Date.now() - started} ms, through the remote)`);

// bob reads it again with get_message, replies; alice checks
const one = data(await call(bob, "bob", "get_message",
			    { message_id: sent.message_id }));
check(one.message.content === "review the parser, please", "get_message");
const reply = data(await call(bob, "bob", "reply_message",
			      { message_id: sent.message_id, content: "on it" }));
check(reply.status === "delivered", "reply_message delivers");
sync(cloneB);
sync(cloneA);
const inbox = data(await call(alice, "alice", "check_messages", {}));
check(inbox.status === "messages" &&
      inbox.messages.some((m) => m.content === "on it" &&
			  m.reply_to === sent.message_id),
      "alice's check_messages has bob's reply, in its thread");
const again = data(await call(alice, "alice", "check_messages", {}));
check(again.status === "empty" && again.remaining === 0,
      "what check_messages returned is read now");

// a local wait wakes at once
const t0 = Date.now();
const local = call(alice, "alice", "wait_for_message", { timeout: 30 });
execFileSync("git", ["thrum", "send", "local note", "--to", "@alice"],
	     { cwd: cloneA, env: { ...process.env, THRUM_NAME: "carol" } });
const woke = data(await local);
check(woke.status === "message_received" && woke.message.content === "local note",
      `a local send wakes wait_for_message (${Date.now() - t0} ms)`);

// a wait that times out, and a cancelled one
const timedOut = data(await call(alice, "alice", "wait_for_message", { timeout: 1 }));
check(timedOut.status === "timeout" && !timedOut.message,
      "wait_for_message times out");
const ac = new AbortController();
const cancelled = call(alice, "alice", "wait_for_message", { timeout: 60 },
		       { signal: ac.signal });
setTimeout(() => ac.abort("changed my mind"), 200);
let aborted = false;
try { await cancelled; } catch (e) { aborted = true; }
check(aborted, "a wait is cancelled by the client");
await alice.ping();
check(true, "the server answers after a cancellation");

// bad input: tool errors, nothing written
const bad = await call(alice, "alice", "send_message",
		       { to: "@nobody", content: "lost" });
check(bad.isError === true && /unknown recipient @nobody/.test(bad.content[0].text),
      "an unknown recipient is a tool error");
const missing = await call(alice, "alice", "send_message", { to: "@bob" });
check(missing.isError === true && /missing argument 'content'/.test(missing.content[0].text),
      "a missing argument is a tool error");
const wrong = await call(alice, "alice", "check_messages", { limit: "ten" });
check(wrong.isError === true, "an argument of the wrong type is a tool error");
let unknown = null;
try {
	await alice.callTool({ name: "no_such_tool", arguments: {} });
} catch (e) {
	unknown = e;
}
check(unknown instanceof McpError, "an unknown tool is a JSON-RPC error");
const st = data(await call(alice, "alice", "sync_status", {}));
check(typeof st.state === "string", "sync_status");
const log2 = execFileSync("git", ["thrum", "inbox", "--all", "--no-mark-read"],
			  { cwd: cloneA,
			    env: { ...process.env, THRUM_NAME: "alice" } }).toString();
check(!log2.includes("lost"), "nothing was written for the failed send");

await alice.close();
await bob.close();
console.log("all checks passed");

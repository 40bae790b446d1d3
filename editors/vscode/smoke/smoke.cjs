#!/usr/bin/env node
// End-to-end smoke test: the bundled extension (dist/extension.js) with the real
// vscode-languageclient and the real `samokoder serve` of this checkout (through
// uv), against the fake OpenAI-compatible provider of tests/fakes. VS Code itself
// is replaced by ./vscode-shim.cjs. Needs uv and the project's environment; not
// part of `npm test`. Run: `npm run smoke`.
const Module = require("node:module");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === "vscode"
    ? path.join(__dirname, "vscode-shim.cjs")
    : resolve.call(this, request, ...rest);
};
const vscode = require("vscode");
const ext = require("../dist/extension.js");

const S = vscode.__state;
const repo = path.resolve(__dirname, "../../..");
const REPLY = "    return 'hello ' + name";
const ORIGINAL =
  "import os\n\n\ndef greet(name):\n    return 'hi ' + name\n\n\nprint(greet('x'))\n";
let failures = 0;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(predicate, what, ms = 60000) {
  for (const start = Date.now(); Date.now() - start < ms; await sleep(100)) {
    const value = await predicate();
    if (value) return value;
  }
  throw new Error(`timed out waiting for: ${what}`);
}
function check(ok, what) {
  console.error(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}

function startProvider() {
  const child = spawn(
    "uv",
    [
      "run",
      "--project",
      repo,
      "python",
      "-m",
      "tests.fakes.fake_provider",
      "--port",
      "0",
      "--reply",
      REPLY,
    ],
    { cwd: repo, stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = new Promise((ok, fail) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) ok(out.split("\n")[0].trim());
    });
    child.on("exit", (code) => fail(new Error(`fake provider exited (${code})`)));
  });
  return { child, url };
}

function makeContext() {
  const secrets = new Map([["samokoder.apiKey.openai", "sk-smoke-key"]]);
  const changed = new vscode.EventEmitter();
  const state = new Map([["samokoder.apiKeyProviders", ["openai"]]]);
  return {
    subscriptions: [],
    secrets: {
      get: async (k) => secrets.get(k),
      store: async (k, v) => (secrets.set(k, v), changed.fire({ key: k })),
      delete: async (k) => (secrets.delete(k), changed.fire({ key: k })),
      onDidChange: changed.event,
    },
    globalState: {
      get: (k, d) => (state.has(k) ? state.get(k) : d),
      update: async (k, v) => void state.set(k, v),
      keys: () => [...state.keys()],
    },
  };
}

async function main(ws, apiBase) {
  const file = path.join(ws, "app.py");
  const text = () => fs.readFileSync(file, "utf8");
  S.folders = [{ uri: vscode.Uri.file(ws), name: "ws", index: 0 }];
  S.config = {
    "samokoder.server.command": "uv",
    "samokoder.server.args": ["run", "--project", repo, "samokoder", "serve"],
    "samokoder.model": "openai/fake-model",
    "samokoder.apiBase": apiBase,
    "samokoder.cache": false,
  };
  const ctx = makeContext();
  const api = await ext.activate(ctx);
  check(await api.started, "the server starts under the real language client");
  const ids = await vscode.commands.getCommands();
  check(
    ids.includes("samokoder.review.accept") && ids.includes("samokoder.vscode.acceptAll"),
    "server and extension commands are both registered",
  );

  // Edit selection from the palette; Accept all from the notification.
  let proposed;
  S.answers.input = () => "say hello instead";
  S.answers.info = async (m) => {
    if (!String(m).startsWith("Samokoder proposes")) return undefined;
    proposed = await S.providers
      .get("samokoder-proposal")
      .provideTextDocumentContent(S.diffs.at(-1)[1]);
    return "Accept all";
  };
  vscode.window.activeTextEditor = {
    document: { uri: vscode.Uri.file(file) },
    selection: new vscode.Selection(4, 0, 5, 0),
  };
  await vscode.commands.executeCommand("samokoder.vscode.editSelection");
  await until(() => text() !== ORIGINAL, "the accepted edit on disk");
  check(text().includes(REPLY.trim()), "Accept all wrote the proposal");
  check(
    String(S.diffs[0][0]) === vscode.Uri.file(file).toString() &&
      String(S.diffs[0][1]).startsWith("samokoder-proposal:/app.py?"),
    "the diff is the file against the proposal",
  );
  check(
    proposed?.includes(REPLY.trim()),
    "the proposal's content came from samokoder/proposalFile",
  );
  await until(() => api.runs.list().length === 0, "runFinished");
  check(S.status.text.startsWith("$(hubot) $"), `the status bar shows the cost: ${S.status.text}`);

  // Undo.
  S.answers.info = () => undefined;
  await vscode.commands.executeCommand("samokoder.vscode.undo");
  check(text() === ORIGINAL, "Undo restored the file");

  // The code action's command (no instruction): the server asks; reject with feedback, accept the retry.
  let proposals = 0;
  S.answers.input = (m) =>
    String(m).includes("feedback") ? "use an f-string" : "make it friendlier";
  S.answers.info = (m) => {
    if (!String(m).startsWith("Samokoder proposes")) return undefined;
    proposals++;
    return proposals === 1 ? "Reject…" : "Accept all";
  };
  await vscode.commands.executeCommand("samokoder.editSelection", {
    uri: vscode.Uri.file(file).toString(),
    range: { start: { line: 4, character: 0 }, end: { line: 5, character: 0 } },
  });
  await until(() => proposals >= 2 && text() !== ORIGINAL, "the retry accepted");
  check(
    S.messages.some((x) => x.kind === "input" && x.answer === "make it friendlier"),
    "samokoder/ask was answered with an input box",
  );

  // A proposal that is gone: the server's words.
  await vscode.commands.executeCommand("samokoder.vscode.acceptAll", "no-such-proposal");
  check(
    S.messages.some((x) => x.kind === "error" && x.message.includes("No pending proposal")),
    "accepting a gone proposal shows the server's message",
  );

  // History and usage.
  await vscode.commands.executeCommand("samokoder.vscode.history");
  await vscode.commands.executeCommand("samokoder.vscode.usage");
  check(
    !S.messages.some((x) => x.kind === "error" && /History|Usage/.test(x.message)),
    "history and usage answer",
  );

  // The server dies: reported, then restarted on request.
  process.kill(api.host.client._serverProcess.pid, "SIGKILL");
  await until(
    () => S.messages.some((x) => x.message.includes("stopped unexpectedly")),
    "the crash report",
    15000,
  );
  check(api.host.state === "crashed", "a crash is reported, not silently restarted");
  check(await api.host.restart(), "Restart brings the server back");

  await ext.deactivate();
  ctx.subscriptions.forEach((d) => d.dispose());
}

(async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "samokoder-smoke-"));
  const ws = path.join(tmp, "ws");
  fs.mkdirSync(ws);
  fs.writeFileSync(path.join(ws, "app.py"), ORIGINAL);
  const git = (...args) =>
    execFileSync("git", ["-c", "user.email=s@k", "-c", "user.name=smoke", ...args], { cwd: ws });
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "init");
  for (const key of Object.keys(process.env)) {
    if (/_API_KEY$/.test(key) || key.startsWith("SAMOKODER_")) delete process.env[key]; // keys come from SecretStorage only
  }
  const provider = startProvider();
  let code = 0;
  try {
    await main(ws, await provider.url);
  } catch (error) {
    console.error("ERROR", error);
    code = 2;
  } finally {
    provider.child.kill("SIGTERM");
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.error(failures || code ? `smoke: ${failures} failed` : "smoke: all passed");
  process.exit(code || (failures ? 1 : 0));
})();

import { afterEach, describe, expect, it } from "vitest";
import { describeError } from "../src/errors";
import { Command } from "../src/ids";
import { REPORT_SCHEME } from "../src/reportView";
import { usageReport } from "../src/reports";
import { prepare, settle, start, stop, type FakeContext } from "./helpers";
import { defaultRespond, script } from "./mocks/languageclient";
import { Uri, commands, executedWith, fake, window } from "./mocks/vscode";

let ctx: FakeContext | undefined;
afterEach(async () => {
  await stop(ctx);
  ctx = undefined;
});

const NOT_DEFINED = (command: string) => ({
  code: -32602,
  message: `Invalid Params: Command name '${command}' is not defined`,
});

describe("palette commands", () => {
  it("Edit selection sends the selection's URI, range and instruction", async () => {
    const started = await start();
    ctx = started.ctx;
    window.activeTextEditor = {
      document: { uri: Uri.file("/ws/app/src/app.py") },
      selection: {
        isEmpty: false,
        start: { line: 2, character: 4 },
        end: { line: 5, character: 0 },
      },
    };
    window.showInputBox.mockResolvedValueOnce("use pathlib");
    await commands.executeCommand(Command.editSelection);
    expect(started.client.commandsSent().at(-1)).toEqual({
      command: "samokoder.editSelection",
      arg: {
        uri: "file:///ws/app/src/app.py",
        range: { start: { line: 2, character: 4 }, end: { line: 5, character: 0 } },
        instruction: "use pathlib",
      },
    });
    expect(started.ext.runs.get("run-1")).toMatchObject({ title: "Edit selection: app.py" });
  });

  it("Edit selection without a selection asks for one and sends nothing", async () => {
    const started = await start();
    ctx = started.ctx;
    await commands.executeCommand(Command.editSelection);
    expect(
      started.client.commandsSent().filter((c) => c.command === "samokoder.editSelection"),
    ).toEqual([]);
    expect(window.showInformationMessage).toHaveBeenCalledWith(
      "Samokoder: select the code to edit first.",
    );
  });

  it("Generate app sends the description and folder; a server without it says so plainly", async () => {
    const started = await start();
    ctx = started.ctx;
    script.respond = (method, params) => {
      if (params?.command === "samokoder.generate") {
        throw NOT_DEFINED("samokoder.generate");
      }
      return defaultRespond(method, params);
    };
    window.showInputBox.mockResolvedValueOnce("a todo app");
    await commands.executeCommand(Command.generate);
    expect(started.client.commandsSent().at(-1)).toEqual({
      command: "samokoder.generate",
      arg: { description: "a todo app" },
    });
    expect(window.showErrorMessage).toHaveBeenCalledWith(
      "Samokoder: Generate app is not available in this version of the server " +
        "(it does not define samokoder.generate yet). Update samokoder and restart the server.",
    );
    expect(started.ext.runs.list()).toEqual([]);
  });

  it("Generate app in a multi-root workspace asks which folder", async () => {
    const started = await start(prepare(["/ws/a", "/ws/b"]));
    ctx = started.ctx;
    window.showInputBox.mockResolvedValueOnce("an API");
    window.showWorkspaceFolderPick.mockResolvedValueOnce({
      uri: Uri.file("/ws/b"),
      name: "b",
      index: 1,
    });
    await commands.executeCommand(Command.generate);
    expect(started.client.commandsSent().at(-1)?.arg).toEqual({
      description: "an API",
      folder: "file:///ws/b",
    });
    expect(started.ext.runs.get("run-1")?.folder?.path).toBe("/ws/b");
  });

  it("Implement sends the description and tracks the run", async () => {
    const started = await start();
    ctx = started.ctx;
    window.showInputBox.mockResolvedValueOnce("add pagination");
    await commands.executeCommand(Command.implement);
    expect(started.client.commandsSent().at(-1)).toEqual({
      command: "samokoder.implement",
      arg: { description: "add pagination" },
    });
    expect(started.ext.runs.list().map((r) => r.runId)).toEqual(["run-1"]);
  });

  it("Undo reports the files and offers Redo; a refused undo shows the server's message", async () => {
    const started = await start();
    ctx = started.ctx;
    script.respond = (method, params) =>
      params?.command === "samokoder.undo"
        ? { stepId: "s2", target: "s1", files: ["app.py"] }
        : defaultRespond(method, params);
    window.showInformationMessage.mockResolvedValueOnce("Redo");
    await commands.executeCommand(Command.undo);
    expect(started.client.commandsSent().map((c) => c.command)).toContain("samokoder.undo");
    expect(window.showInformationMessage).toHaveBeenCalledWith(
      "Samokoder: Undone step s1: app.py.",
      "Redo",
    );
    // the Redo offered is for the step just undone, not whatever is last by then
    expect(started.client.commandsSent().at(-1)).toEqual({
      command: "samokoder.redo",
      arg: { stepId: "s1" },
    });

    script.respond = (method, params) => {
      if (params?.command === "samokoder.undo") {
        throw {
          code: -32001,
          message: "Cannot undo step s1 (Edit): app.py changed since",
          data: { files: ["app.py"] },
        };
      }
      return defaultRespond(method, params);
    };
    await commands.executeCommand(Command.undo);
    expect(window.showErrorMessage).toHaveBeenCalledWith(
      "Samokoder: Undo failed: Cannot undo step s1 (Edit): app.py changed since",
    );
  });

  it("History lists the steps and opens a step's file", async () => {
    const started = await start();
    ctx = started.ctx;
    script.respond = (method, params) =>
      params?.command === "samokoder.history"
        ? {
            steps: [
              {
                stepId: "s1",
                kind: "apply",
                agent: "code_monkey",
                summary: "Edit app.py",
                model: "m",
                tokens: 9,
                createdAt: 0,
                files: [{ path: "src/app.py", change: "modify" }],
              },
            ],
          }
        : defaultRespond(method, params);
    window.showQuickPick.mockImplementationOnce(async (items: unknown) => (items as unknown[])[0]);
    await commands.executeCommand(Command.history);
    expect(started.client.commandsSent().at(-1)).toEqual({
      command: "samokoder.history",
      arg: { limit: 50 },
    });
    const [items] = window.showQuickPick.mock.calls[0] as [
      { label: string; description: string }[],
    ];
    expect(items[0].label).toBe("$(git-commit) Edit app.py");
    expect(items[0].description).toBe("code_monkey · m · 9 tokens");
    expect(String(window.showTextDocument.mock.calls[0][0])).toBe("file:///ws/app/src/app.py");
  });

  it("History lists the commands the agents ran; picking one shows its output read-only", async () => {
    const started = await start();
    ctx = started.ctx;
    script.respond = (method, params) =>
      params?.command === "samokoder.history"
        ? {
            steps: [],
            commands: [
              {
                id: 3,
                command: "pytest -q",
                argv: ["pytest", "-q"],
                cwd: ".",
                status: "ran",
                exitCode: 1,
                durationMs: 1500,
                output: "1 failed",
                truncatedBytes: 0,
              },
            ],
          }
        : defaultRespond(method, params);
    window.showQuickPick.mockImplementationOnce(async (items: unknown) =>
      (items as { label: string }[]).find((i) => i.label.includes("pytest")),
    );
    await commands.executeCommand(Command.history);
    const [items] = window.showQuickPick.mock.calls[0] as [
      { label: string; description?: string }[],
    ];
    expect(items.map((i) => i.label)).toEqual(["Commands", "$(terminal) pytest -q"]);
    expect(items[1].description).toBe("ran · exit 1 · 1.5 s");
    const uri = fake.opened.at(-1)?.uri;
    expect(uri?.scheme).toBe(REPORT_SCHEME);
    const text = String(fake.providers.get(REPORT_SCHEME)?.provideTextDocumentContent(uri!));
    expect(text).toContain("$ pytest -q");
    expect(text).toContain("1 failed");
  });

  it("Usage opens a read-only report of samokoder.usage, with plurals right", async () => {
    const started = await start();
    ctx = started.ctx;
    script.respond = (method, params) =>
      params?.command === "samokoder.usage"
        ? { total: { promptTokens: 1, completionTokens: 0, costUsd: 0, requests: 1 } }
        : defaultRespond(method, params);
    await commands.executeCommand(Command.usage);
    expect(started.client.commandsSent().at(-1)).toEqual({ command: "samokoder.usage", arg: {} });
    // a virtual document (no "Untitled" that asks to be saved), named .md for Markdown
    const uri = fake.opened.at(-1)?.uri;
    expect(uri?.scheme).toBe(REPORT_SCHEME);
    expect(uri?.path).toBe("/Samokoder usage.md");
    const text = String(fake.providers.get(REPORT_SCHEME)?.provideTextDocumentContent(uri!));
    expect(text).toContain("Total: **$0.00**, 1 token, 1 request.");
    const report = usageReport({
      total: { promptTokens: 100, completionTokens: 20, costUsd: 0.5, requests: 2 },
      byModel: [
        {
          model: "openai/gpt-4o-mini",
          promptTokens: 100,
          completionTokens: 20,
          costUsd: 0.5,
          requests: 2,
        },
      ],
    });
    expect(report).toContain("Total: **$0.50**, 120 tokens, 2 requests.");
    expect(report).toContain("| openai/gpt-4o-mini | 2 | 100 | 20 | $0.50 |");
  });

  it("a command while the server is down says so instead of throwing", async () => {
    const started = await start();
    ctx = started.ctx;
    await started.ext.host.stop();
    await commands.executeCommand(Command.undo);
    expect(String(window.showErrorMessage.mock.calls[0][0])).toContain("server is not running");
    await settle();
  });

  it("'no model configured' offers the settings", async () => {
    const started = await start();
    ctx = started.ctx;
    script.respond = (method, params) => {
      if (params?.command === "samokoder.implement") {
        throw { code: -32004, message: "No model configured: set samokoder.model" };
      }
      return defaultRespond(method, params);
    };
    window.showInputBox.mockResolvedValueOnce("x");
    window.showErrorMessage.mockResolvedValueOnce("Open settings");
    await commands.executeCommand(Command.implement);
    expect(executedWith("workbench.action.openSettings")).toEqual([["samokoder.model"]]);
  });
});

describe("error text", () => {
  it("a lost connection is not shown as a server message", () => {
    expect(describeError({ code: -32097, message: "Pending response rejected" }, "Accept")).toBe(
      "Samokoder: the server stopped before it answered (Accept).",
    );
    expect(describeError(new Error("boom"), "Usage")).toBe("Samokoder: Usage failed: boom");
  });
});

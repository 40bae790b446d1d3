import { afterEach, describe, expect, it } from "vitest";
import { Command } from "../src/ids";
import { formatCost, runFinishedMessage } from "../src/runs";
import { start, stop, settle, type FakeContext } from "./helpers";
import { defaultRespond, script } from "./mocks/languageclient";
import { REPORT_SCHEME } from "../src/reportView";
import { Uri, commands, fake, statusItem, window } from "./mocks/vscode";

let ctx: FakeContext | undefined;
afterEach(async () => {
  await stop(ctx);
  ctx = undefined;
});

const FINISHED = {
  runId: "run-1",
  status: "succeeded",
  summary: "Edited app.py",
  steps: ["step-1"],
  usage: { promptTokens: 1200, completionTokens: 300, costUsd: 0.0042, requests: 1 },
};

describe("runFinished", () => {
  it("puts the run's cost on the status bar and says how it went", async () => {
    const started = await start();
    ctx = started.ctx;
    const client = started.client;
    await client.notify("samokoder/runFinished", FINISHED);
    expect(statusItem().text).toBe("$(hubot) $0.0042");
    expect(statusItem().tooltip).toContain("Last run: $0.0042, 1,500 tokens, 1 request");
    expect(statusItem().command).toBe(Command.usage);
    expect(window.showInformationMessage).toHaveBeenCalledWith(
      "Samokoder: Edited app.py ($0.0042, 1,500 tokens, 1 request)",
      "Undo",
    );
  });

  it("adds up the session's cost over runs", async () => {
    const started = await start();
    ctx = started.ctx;
    await started.client.notify("samokoder/runFinished", FINISHED);
    await started.client.notify("samokoder/runFinished", {
      ...FINISHED,
      runId: "run-2",
      usage: { ...FINISHED.usage, costUsd: 1.5 },
    });
    expect(statusItem().text).toBe("$(hubot) $1.50");
    expect(statusItem().tooltip).toContain("This session: $1.50");
  });

  it("a failed run is an error with the server's reason", async () => {
    const started = await start();
    ctx = started.ctx;
    await started.client.notify("samokoder/runFinished", {
      runId: "run-1",
      status: "failed",
      summary: "Model call failed",
      error: "AuthenticationError: invalid key",
      usage: { requests: 0 },
    });
    expect(window.showErrorMessage).toHaveBeenCalledWith(
      "Samokoder: the run failed: AuthenticationError: invalid key",
      "Show log",
    );
  });

  it("shows the workspace total from samokoder.usage in the tooltip", async () => {
    const started = await start();
    ctx = started.ctx;
    script.respond = (method, params) =>
      params?.command === "samokoder.usage"
        ? { total: { promptTokens: 10, completionTokens: 5, costUsd: 2.25, requests: 3 } }
        : defaultRespond(method, params);
    await started.client.notify("samokoder/runFinished", FINISHED);
    await settle();
    expect(statusItem().tooltip).toContain(
      "This workspace, all runs: $2.25, 15 tokens, 3 requests",
    );
  });

  it("text answers (explain) open read-only, unless the server's copy is already shown", async () => {
    const started = await start();
    ctx = started.ctx;
    await started.client.notify("samokoder/runFinished", {
      ...FINISHED,
      steps: [],
      text: "It sorts the list.",
    });
    const uri = fake.opened.at(-1)?.uri;
    expect(uri?.scheme).toBe(REPORT_SCHEME);
    expect(uri?.path).toBe("/Explanation run-1.md");
    expect(fake.providers.get(REPORT_SCHEME)?.provideTextDocumentContent(uri!)).toBe(
      "It sorts the list.",
    );

    fake.opened.length = 0;
    window.visibleTextEditors = [
      { document: { uri: Uri.file("/ws/app/.samokoder/explain/run-2.md") } },
    ];
    await started.client.notify("samokoder/runFinished", {
      ...FINISHED,
      runId: "run-2",
      steps: [],
      text: "Again.",
    });
    expect(fake.opened).toEqual([]);
  });

  it("messages for each status", () => {
    expect(
      runFinishedMessage({
        runId: "r",
        status: "cancelled",
        summary: "Cancelled; nothing half-applied was left behind.",
      }),
    ).toEqual({
      level: "warning",
      text: "Samokoder: Cancelled; nothing half-applied was left behind.",
    });
    expect(runFinishedMessage({ runId: "r", status: "rejected", summary: "Rejected" }).level).toBe(
      "info",
    );
    expect(formatCost(0)).toBe("$0.00");
    expect(formatCost(0.00012)).toBe("$0.0001");
    expect(formatCost(12.345)).toBe("$12.35");
  });
});

describe("progress and cancel", () => {
  it("the status bar shows a run in progress; Cancel sends samokoder.cancel for it", async () => {
    const started = await start();
    ctx = started.ctx;
    await commands.executeCommand("samokoder.editSelection", {
      uri: "file:///ws/app/a.py",
      range: {},
    });
    expect(statusItem().text).toBe("$(sync~spin) Samokoder");
    expect(statusItem().command).toBe(Command.cancel);
    await commands.executeCommand(Command.cancel);
    expect(started.client.commandsSent().at(-1)).toEqual({
      command: "samokoder.cancel",
      arg: { runId: "run-1" },
    });
    await started.client.notify("samokoder/runFinished", {
      ...FINISHED,
      status: "cancelled",
      usage: {},
    });
    expect(started.ext.runs.list()).toEqual([]);
    expect(statusItem().text).toBe("$(hubot) $0.00");
  });

  it("with several runs, Cancel asks which", async () => {
    const started = await start();
    ctx = started.ctx;
    started.ext.runs.started("run-a", "Edit selection: a.py");
    started.ext.runs.started("run-b", "Generate app");
    window.showQuickPick.mockImplementationOnce(
      async (items: unknown) => (items as { label: string }[])[1],
    );
    await commands.executeCommand(Command.cancel);
    expect(started.client.commandsSent().at(-1)).toEqual({
      command: "samokoder.cancel",
      arg: { runId: "run-b" },
    });
  });

  it("with no run, Cancel says so and sends nothing", async () => {
    const started = await start();
    ctx = started.ctx;
    await commands.executeCommand(Command.cancel);
    expect(started.client.commandsSent().filter((c) => c.command === "samokoder.cancel")).toEqual(
      [],
    );
    expect(window.showInformationMessage).toHaveBeenCalledWith("Samokoder: no run is in progress.");
  });
});

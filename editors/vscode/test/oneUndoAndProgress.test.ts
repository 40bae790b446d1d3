/**
 * Defects the real VS Code showed (issue 11): one Undo per step, bound to that
 * step; a proposal's notification that outlived its proposal; a progress
 * notification with a working Cancel per run.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Command } from "../src/ids";
import { start, stop, settle, type FakeContext } from "./helpers";
import { defaultRespond, script } from "./mocks/languageclient";
import { ProgressLocation, commands, fake, window } from "./mocks/vscode";

const ONE_FILE = {
  proposalId: "p1",
  runId: "run-1",
  title: "Edit app.py",
  files: [{ path: "app.py", kind: "modify", additions: 1, deletions: 1 }],
};

let ctx: FakeContext | undefined;
afterEach(async () => {
  await stop(ctx);
  ctx = undefined;
});

function undoButtons(): unknown[][] {
  return window.showInformationMessage.mock.calls.filter((c) => c.includes("Undo"));
}

describe("one Undo per step", () => {
  it("the accept's message offers Undo for its step; the run-finished message does not", async () => {
    const started = await start();
    ctx = started.ctx;
    script.respond = (method, params) =>
      params?.command === "samokoder.review.accept"
        ? { applied: ["app.py"], stepId: "step-7" }
        : defaultRespond(method, params);
    await started.client.notify("samokoder/proposal", ONE_FILE);
    window.showInformationMessage.mockImplementation(async (...args: unknown[]) =>
      String(args[0]).startsWith("Samokoder applied") ? "Undo" : undefined,
    );
    await commands.executeCommand(Command.acceptAll, "p1");
    await started.client.notify("samokoder/runFinished", {
      runId: "run-1",
      status: "succeeded",
      summary: "Edited app.py",
      steps: ["step-7"],
    });
    await settle();
    expect(undoButtons().map((c) => c[0])).toEqual(["Samokoder applied 1 file: app.py."]);
    expect(started.client.commandsSent().filter((c) => c.command === "samokoder.undo")).toEqual([
      { command: "samokoder.undo", arg: { stepId: "step-7" } },
    ]);
  });

  it("a run whose single step was not accepted here offers Undo for that step only", async () => {
    const started = await start();
    ctx = started.ctx;
    window.showInformationMessage.mockResolvedValueOnce("Undo");
    await started.client.notify("samokoder/runFinished", {
      runId: "run-9",
      status: "succeeded",
      summary: "Applied",
      steps: ["step-3"],
    });
    expect(started.client.commandsSent().at(-1)).toEqual({
      command: "samokoder.undo",
      arg: { stepId: "step-3" },
    });
    // several steps: no button that would undo only one of them
    window.showInformationMessage.mockClear();
    await started.client.notify("samokoder/runFinished", {
      runId: "run-10",
      status: "succeeded",
      summary: "Generated",
      steps: ["a", "b"],
    });
    expect(window.showInformationMessage.mock.calls[0]).toEqual(["Samokoder: Generated"]);
  });

  it("the palette's Undo still undoes the last step, whatever it is", async () => {
    const started = await start();
    ctx = started.ctx;
    await commands.executeCommand(Command.undo);
    expect(started.client.commandsSent().at(-1)).toEqual({ command: "samokoder.undo", arg: {} });
  });
});

describe("a proposal's notification after the proposal was decided elsewhere", () => {
  it("says what became of it instead of sending a doomed accept", async () => {
    const started = await start();
    ctx = started.ctx;
    let click: (label: string) => void = () => {};
    window.showInformationMessage.mockImplementationOnce(
      () => new Promise<string | undefined>((resolve) => (click = resolve)),
    );
    await started.client.notify("samokoder/proposal", ONE_FILE);
    await commands.executeCommand(Command.acceptAll); // from the diff's title bar
    const accepts = () =>
      started.client.commandsSent().filter((c) => c.command === "samokoder.review.accept");
    expect(accepts()).toHaveLength(1);
    click("Accept all"); // the stale toast
    await settle();
    expect(accepts()).toHaveLength(1);
    expect(window.showInformationMessage).toHaveBeenCalledWith(
      'Samokoder: the proposal "Edit app.py" was already accepted; nothing more to do.',
    );
  });

  it("after the run ended, its buttons say the proposal was withdrawn", async () => {
    const started = await start();
    ctx = started.ctx;
    let click: (label: string) => void = () => {};
    window.showInformationMessage.mockImplementationOnce(
      () => new Promise<string | undefined>((resolve) => (click = resolve)),
    );
    await started.client.notify("samokoder/proposal", ONE_FILE);
    await started.client.notify("samokoder/runFinished", { runId: "run-1", status: "cancelled" });
    click("Reject…");
    await settle();
    expect(window.showInputBox).not.toHaveBeenCalled();
    expect(window.showInformationMessage).toHaveBeenCalledWith(
      'Samokoder: the proposal "Edit app.py" was already withdrawn when its run ended; nothing more to do.',
    );
  });
});

describe("progress notification per run", () => {
  it("opens when a run starts, cancels it from its button, closes when it ends", async () => {
    const started = await start();
    ctx = started.ctx;
    window.showInputBox.mockResolvedValueOnce("add pagination");
    await commands.executeCommand(Command.implement);
    expect(fake.progress).toHaveLength(1);
    const shown = fake.progress[0];
    expect(shown).toMatchObject({
      title: "Samokoder: Implement",
      location: ProgressLocation.Notification,
      cancellable: true,
      done: false,
    });
    shown.cancel();
    await settle();
    expect(started.client.commandsSent().at(-1)).toEqual({
      command: "samokoder.cancel",
      arg: { runId: "run-1" },
    });
    expect(shown.messages.at(-1)).toBe("cancelling…");
    await started.client.notify("samokoder/runFinished", { runId: "run-1", status: "cancelled" });
    await settle();
    expect(shown.done).toBe(true);
    expect(started.ext.progress.ids()).toEqual([]);
  });

  it("says when the run waits for a review, and closes when the server is lost", async () => {
    const started = await start();
    ctx = started.ctx;
    await started.client.notify("samokoder/proposal", ONE_FILE);
    expect(fake.progress.map((p) => p.title)).toEqual(["Samokoder: Edit app.py"]);
    expect(fake.progress[0].messages.at(-1)).toBe("waiting for your review");
    started.ext.runs.serverLost();
    await settle();
    expect(fake.progress[0].done).toBe(true);
  });
});

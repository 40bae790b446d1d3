import { afterEach, describe, expect, it, vi } from "vitest";
import { Command, PROPOSAL_SCHEME } from "../src/ids";
import { parseProposalUri, proposalUri } from "../src/proposalContent";
import { start, stop, settle, type FakeContext } from "./helpers";
import { defaultRespond, script, type LanguageClient } from "./mocks/languageclient";
import {
  TabInputTextDiff,
  Uri,
  commands,
  executedWith,
  fake,
  statusItem,
  window,
  workspace,
} from "./mocks/vscode";

const TWO_FILES = {
  proposalId: "p1",
  runId: "run-1",
  title: "Use pathlib",
  files: [
    { path: "src/app.py", kind: "modify", additions: 3, deletions: 1 },
    { path: "src/new_util.py", kind: "create", additions: 10, deletions: 0 },
  ],
};

let ctx: FakeContext | undefined;
afterEach(async () => {
  await stop(ctx);
  ctx = undefined;
});

async function withProposal(
  proposal: object = TWO_FILES,
): Promise<{ client: LanguageClient; ext: Awaited<ReturnType<typeof start>>["ext"] }> {
  const started = await start();
  ctx = started.ctx;
  fake.files.add("/ws/app/src/app.py");
  await started.client.notify("samokoder/proposal", proposal);
  return { client: started.client, ext: started.ext };
}

function diffCalls(): { left: string; right: string; title: string }[] {
  return executedWith("vscode.diff").map(([left, right, title]) => ({
    left: String(left),
    right: String(right),
    title: String(title),
  }));
}

describe("a proposal opens diffs", () => {
  it("between the current file and the proposed content, per file", async () => {
    await withProposal();
    const calls = diffCalls();
    // Two files, then the first brought back to the front.
    expect(calls).toHaveLength(3);
    expect(calls[0].left).toBe("file:///ws/app/src/app.py");
    expect(calls[0].right).toBe(proposalUri("p1", "src/app.py", "proposed").toString());
    expect(calls[0].right.startsWith(`${PROPOSAL_SCHEME}:/src/app.py?`)).toBe(true);
    // A new file has no current content: the left side is the proposal's (empty) original.
    expect(calls[1].left).toBe(proposalUri("p1", "src/new_util.py", "original").toString());
    expect(calls[1].title).toContain("new file");
    expect(calls[2]).toEqual(calls[0]);
    expect(fake.context.get("samokoder.reviewPending")).toBe(true);
    expect(statusItem().text).toBe("$(diff) Samokoder: review 2 files");
    expect(String(window.showInformationMessage.mock.calls[0][0])).toBe(
      "Samokoder proposes Use pathlib: 2 files, +13 −1",
    );
  });

  it("serves both sides from samokoder/proposalFile, once per file", async () => {
    const { client } = await withProposal();
    const provider = fake.providers.get(PROPOSAL_SCHEME)!;
    const right = proposalUri("p1", "src/app.py", "proposed") as unknown as Uri;
    const left = proposalUri("p1", "src/app.py", "original") as unknown as Uri;
    expect(await provider.provideTextDocumentContent(right)).toBe("new\n");
    expect(await provider.provideTextDocumentContent(left)).toBe("old\n");
    const fetched = client.sent.filter((s) => s.method === "samokoder/proposalFile");
    expect(fetched).toEqual([
      { method: "samokoder/proposalFile", params: { proposalId: "p1", path: "src/app.py" } },
    ]);
  });

  it("a file deleted since the proposal is diffed against the proposal's original", async () => {
    await withProposal({
      ...TWO_FILES,
      files: [{ path: "gone.py", kind: "modify", additions: 1, deletions: 1 }],
    });
    const [call] = diffCalls();
    expect(call.left).toBe(proposalUri("p1", "gone.py", "original").toString());
    expect(call.title).toContain("deleted since the proposal was made");
  });

  it("a file the user closed is diffed from disk; an open one from its document", async () => {
    const started = await start();
    ctx = started.ctx;
    workspace.textDocuments = [{ uri: Uri.file("/ws/app/open.py") }];
    fake.files.add("/ws/app/closed.py");
    await started.client.notify("samokoder/proposal", {
      ...TWO_FILES,
      files: [
        { path: "closed.py", kind: "modify", additions: 1, deletions: 0 },
        { path: "open.py", kind: "modify", additions: 1, deletions: 0 },
      ],
    });
    const calls = diffCalls();
    expect(calls[0].left).toBe("file:///ws/app/closed.py");
    expect(calls[1].left).toBe("file:///ws/app/open.py");
  });

  it("ignores a malformed notification", async () => {
    const { ext } = await withProposal({ proposalId: 3, files: "x" });
    expect(ext.review.list()).toEqual([]);
    expect(diffCalls()).toEqual([]);
  });
});

describe("deciding", () => {
  it("Accept all sends samokoder.review.accept without files and closes the diffs", async () => {
    const { client, ext } = await withProposal();
    await commands.executeCommand(Command.acceptAll);
    expect(client.commandsSent().at(-1)).toEqual({
      command: "samokoder.review.accept",
      arg: { proposalId: "p1" },
    });
    expect(ext.review.list()).toEqual([]);
    expect(fake.tabs).toEqual([]);
    expect(fake.context.get("samokoder.reviewPending")).toBe(false);
  });

  it("Accept all from the proposal notification", async () => {
    const started = await start();
    ctx = started.ctx;
    const client = started.client;
    window.showInformationMessage.mockImplementation(async (message: unknown) =>
      String(message).startsWith("Samokoder proposes") ? "Accept all" : undefined,
    );
    await client.notify("samokoder/proposal", TWO_FILES);
    await vi.waitFor(() =>
      expect(client.commandsSent()).toContainEqual({
        command: "samokoder.review.accept",
        arg: { proposalId: "p1" },
      }),
    );
  });

  it("Accept file from a diff's title accepts that file only, after saying the rest is discarded", async () => {
    const { client } = await withProposal();
    window.showWarningMessage.mockResolvedValueOnce("Accept only src/new_util.py");
    await commands.executeCommand(
      Command.acceptFile,
      proposalUri("p1", "src/new_util.py", "proposed"),
    );
    expect(String(window.showWarningMessage.mock.calls[0][0])).toContain(
      "The other 1 file of this proposal will be discarded",
    );
    expect(client.commandsSent().at(-1)).toEqual({
      command: "samokoder.review.accept",
      arg: { proposalId: "p1", files: ["src/new_util.py"] },
    });
  });

  it("Accept file sends nothing when the user backs out of the warning", async () => {
    const { client } = await withProposal();
    await commands.executeCommand(Command.acceptFile, proposalUri("p1", "src/app.py", "proposed"));
    expect(client.commandsSent().filter((c) => c.command === "samokoder.review.accept")).toEqual(
      [],
    );
  });

  it("Accept file from the palette picks files; the active diff is the default target", async () => {
    const { client } = await withProposal();
    fake.tabs = []; // no diff in front: the palette asks which files
    window.showQuickPick.mockImplementationOnce(async (items: unknown) => [
      (items as { label: string }[])[0],
    ]);
    await commands.executeCommand(Command.acceptFile);
    expect(client.commandsSent().at(-1)).toEqual({
      command: "samokoder.review.accept",
      arg: { proposalId: "p1", files: ["src/app.py"] },
    });
  });

  it("Reject with feedback sends the feedback; Escape sends nothing", async () => {
    const { client, ext } = await withProposal();
    window.showInputBox.mockResolvedValueOnce(undefined);
    await commands.executeCommand(Command.reject);
    expect(client.commandsSent().filter((c) => c.command === "samokoder.review.reject")).toEqual(
      [],
    );
    window.showInputBox.mockResolvedValueOnce("  keep the old names  ");
    await commands.executeCommand(Command.reject);
    expect(client.commandsSent().at(-1)).toEqual({
      command: "samokoder.review.reject",
      arg: { proposalId: "p1", feedback: "keep the old names" },
    });
    expect(ext.review.list()).toEqual([]);
  });

  it("Reject with empty feedback just rejects", async () => {
    const { client } = await withProposal();
    window.showInputBox.mockResolvedValueOnce("");
    await commands.executeCommand(Command.reject, "p1");
    expect(client.commandsSent().at(-1)).toEqual({
      command: "samokoder.review.reject",
      arg: { proposalId: "p1" },
    });
  });

  it("an accept after the run was cancelled shows the server's own message", async () => {
    const { client, ext } = await withProposal();
    await client.notify("samokoder/runFinished", {
      runId: "run-1",
      status: "cancelled",
      summary: "Cancelled; nothing half-applied was left behind.",
      steps: [],
      usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, requests: 0 },
    });
    expect(ext.review.list()).toEqual([]);
    expect(fake.tabs).toEqual([]);
    const refusal =
      "No pending proposal 'p1': it was already accepted, rejected or cancelled, or the server restarted since.";
    script.respond = (method, params) => {
      if (params?.command === "samokoder.review.accept") {
        throw { code: -32602, message: refusal, data: { kind: "NotFoundError" } };
      }
      return defaultRespond(method, params);
    };
    // The stale notification's button (or the diff's title) still asks the server.
    await commands.executeCommand(Command.acceptAll, "p1");
    expect(client.commandsSent().at(-1)).toEqual({
      command: "samokoder.review.accept",
      arg: { proposalId: "p1" },
    });
    expect(window.showErrorMessage).toHaveBeenCalledWith(`Samokoder: Accept failed: ${refusal}`);
  });

  it("a refused accept (file changed) keeps the proposal and shows the server's reason", async () => {
    const { ext } = await withProposal();
    script.respond = (method, params) => {
      if (params?.command === "samokoder.review.accept") {
        throw {
          code: -32002,
          message: "Not applied: src/app.py changed where the proposal edits it",
          data: { files: ["src/app.py"] },
        };
      }
      return defaultRespond(method, params);
    };
    await commands.executeCommand(Command.acceptAll);
    expect(String(window.showErrorMessage.mock.calls[0][0])).toContain(
      "src/app.py changed where the proposal edits it",
    );
    expect(ext.review.list()).toHaveLength(1);
  });

  it("closes exactly the decided proposal's tabs", async () => {
    const { client } = await withProposal();
    fake.tabs.push({ label: "other", input: new TabInputTextDiff(Uri.file("/x"), Uri.file("/y")) });
    await client.notify("samokoder/proposal", { ...TWO_FILES, proposalId: "p2", runId: "run-2" });
    await commands.executeCommand(Command.acceptAll, "p1");
    const left = fake.tabs.map(
      (t) =>
        parseProposalUri((t.input as TabInputTextDiff).modified as never)?.proposalId ?? "other",
    );
    expect(new Set(left)).toEqual(new Set(["other", "p2"]));
  });
});

describe("which proposal", () => {
  it("with two pending, Accept all from the palette asks which", async () => {
    const { client } = await withProposal();
    await client.notify("samokoder/proposal", {
      ...TWO_FILES,
      proposalId: "p2",
      runId: "run-2",
      title: "Other",
    });
    fake.tabs = [];
    window.showQuickPick.mockImplementationOnce(
      async (items: unknown) => (items as { id: string }[])[1],
    );
    await commands.executeCommand(Command.acceptAll);
    expect(client.commandsSent().at(-1)).toEqual({
      command: "samokoder.review.accept",
      arg: { proposalId: "p2" },
    });
  });

  it("Review proposal… lists the files, then the decisions", async () => {
    const { client } = await withProposal();
    window.showQuickPick.mockImplementationOnce(async (items: unknown) =>
      (items as { label: string }[]).find((i) => i.label.includes("Accept all")),
    );
    await commands.executeCommand(Command.review);
    const [items] = window.showQuickPick.mock.calls[0] as [{ label: string }[]];
    expect(items.map((i) => i.label)).toEqual([
      "$(diff) src/app.py",
      "$(diff) src/new_util.py",
      "$(check-all) Accept all",
      "$(check) Accept some files…",
      "$(close) Reject with feedback…",
    ]);
    expect(client.commandsSent().at(-1)).toEqual({
      command: "samokoder.review.accept",
      arg: { proposalId: "p1" },
    });
  });

  it("with nothing pending, the review commands say so and send nothing", async () => {
    const started = await start();
    ctx = started.ctx;
    await commands.executeCommand(Command.acceptAll);
    expect(started.client.commandsSent().map((c) => c.command)).not.toContain(
      "samokoder.review.accept",
    );
    expect(window.showInformationMessage).toHaveBeenCalledWith(
      "Samokoder: no proposal is waiting for review.",
    );
  });
});

describe("code actions through the language client", () => {
  it("Edit selection from a code action is tracked as a run and its proposal lands in its folder", async () => {
    const started = await start((await import("./helpers")).prepare(["/ws/a", "/ws/b"]));
    ctx = started.ctx;
    await commands.executeCommand("samokoder.editSelection", {
      uri: "file:///ws/b/mod.py",
      range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } },
    });
    expect(started.ext.runs.get("run-1")?.folder?.path).toBe("/ws/b");
    fake.files.add("/ws/b/mod.py");
    await started.client.notify("samokoder/proposal", {
      ...TWO_FILES,
      files: [{ path: "mod.py", kind: "modify", additions: 1, deletions: 1 }],
    });
    expect(diffCalls()[0].left).toBe("file:///ws/b/mod.py");
    await settle();
  });
});

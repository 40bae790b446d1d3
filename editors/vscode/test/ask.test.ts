import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { answerAsk } from "../src/ask";
import { start, stop, type FakeContext } from "./helpers";
import { resetVscode, window } from "./mocks/vscode";

beforeEach(() => resetVscode());

describe("samokoder/ask", () => {
  it("a free-text question opens an input box", async () => {
    window.showInputBox.mockResolvedValueOnce("add type hints");
    const reply = await answerAsk({
      question: "What should change in the selection?",
      choices: [],
      freeText: true,
    });
    expect(reply).toEqual({ answer: "add type hints" });
    expect(window.showInputBox.mock.calls[0][0]).toMatchObject({
      prompt: "What should change in the selection?",
      ignoreFocusOut: true,
    });
    expect(window.showQuickPick).not.toHaveBeenCalled();
  });

  it("choices open a quick pick, with 'Other…' when free text is allowed", async () => {
    window.showQuickPick.mockImplementationOnce(
      async (items: unknown) => (items as { label: string }[])[1],
    );
    const reply = await answerAsk({
      question: "Which database?",
      choices: ["SQLite", "PostgreSQL"],
      freeText: true,
    });
    expect(reply).toEqual({ answer: "PostgreSQL" });
    const [items, options] = window.showQuickPick.mock.calls[0] as [
      { label: string }[],
      { placeHolder: string },
    ];
    expect(items.map((i) => i.label)).toEqual(["SQLite", "PostgreSQL", "Other…"]);
    expect(options.placeHolder).toBe("Which database?");
  });

  it("'Other…' asks for the answer in an input box", async () => {
    window.showQuickPick.mockImplementationOnce(async (items: unknown) =>
      (items as { label: string }[]).at(-1),
    );
    window.showInputBox.mockResolvedValueOnce("DuckDB");
    expect(
      await answerAsk({ question: "Which database?", choices: ["SQLite"], freeText: true }),
    ).toEqual({
      answer: "DuckDB",
    });
  });

  it("choices only: no 'Other…'", async () => {
    window.showQuickPick.mockImplementationOnce(
      async (items: unknown) => (items as { label: string }[])[0],
    );
    await answerAsk({ question: "Proceed?", choices: ["Yes", "No"], freeText: false });
    const [items] = window.showQuickPick.mock.calls[0] as [{ label: string }[]];
    expect(items.map((i) => i.label)).toEqual(["Yes", "No"]);
  });

  it("dismissing answers null", async () => {
    expect(await answerAsk({ question: "Q?", choices: ["a"], freeText: false })).toEqual({
      answer: null,
    });
    expect(await answerAsk({ question: "Q?", freeText: true })).toEqual({ answer: null });
    window.showInputBox.mockResolvedValueOnce("   ");
    expect(await answerAsk({ question: "Q?", freeText: true })).toEqual({ answer: null });
  });
});

describe("the client answers the server's request", () => {
  let ctx: FakeContext | undefined;
  afterEach(async () => stop(ctx));

  it("through the handler wired on the language client", async () => {
    const started = await start();
    ctx = started.ctx;
    window.showInputBox.mockResolvedValueOnce("rename x to count");
    const reply = await started.client.request("samokoder/ask", {
      question: "What should change?",
      choices: [],
      freeText: true,
    });
    expect(reply).toEqual({ answer: "rename x to count" });
  });
});

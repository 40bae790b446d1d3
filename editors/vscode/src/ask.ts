/**
 * `samokoder/ask`: the server's questions (an edit instruction, the spec
 * writer's choices) as a quick pick or an input box. Dismissing answers
 * `{answer: null}`; the server then stops or assumes, and says which.
 */
import * as vscode from "vscode";
import type { AskParams, AskResult } from "./protocol";

const OTHER = "Other…";

export async function answerAsk(
  params: AskParams,
  token?: vscode.CancellationToken,
): Promise<AskResult> {
  const question = typeof params.question === "string" ? params.question : "Samokoder asks";
  const choices = Array.isArray(params.choices)
    ? params.choices.filter((c): c is string => typeof c === "string")
    : [];
  const freeText = params.freeText !== false || choices.length === 0;
  if (choices.length === 0) {
    return { answer: (await typed(question, token)) ?? null };
  }
  const items: vscode.QuickPickItem[] = choices.map((label) => ({ label }));
  if (freeText) {
    items.push({ label: OTHER, description: "type your own answer" });
  }
  const picked = await vscode.window.showQuickPick(
    items,
    { title: "Samokoder", placeHolder: question, ignoreFocusOut: true },
    token,
  );
  if (picked === undefined) {
    return { answer: null };
  }
  if (freeText && picked.label === OTHER && !choices.includes(OTHER)) {
    return { answer: (await typed(question, token)) ?? null };
  }
  return { answer: picked.label };
}

async function typed(
  question: string,
  token?: vscode.CancellationToken,
): Promise<string | undefined> {
  const value = await vscode.window.showInputBox(
    { title: "Samokoder", prompt: question, ignoreFocusOut: true },
    token,
  );
  return value === undefined || value.trim() === "" ? undefined : value;
}

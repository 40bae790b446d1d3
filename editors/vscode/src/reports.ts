/**
 * History (`samokoder.history`) as a picker that opens a step's files, and
 * usage (`samokoder.usage`) as a Markdown report of tokens and cost.
 */
import * as vscode from "vscode";
import type { ServerApi } from "./client";
import { showServerError } from "./errors";
import {
  ServerCommand,
  type HistoryStep,
  type Usage,
  type UsageResult,
  type UsageTotals,
} from "./protocol";
import { formatCost } from "./runs";

const KIND_ICONS: Readonly<Record<string, string>> = {
  apply: "$(git-commit)",
  undo: "$(discard)",
  redo: "$(redo)",
};

function when(createdAt: number | string | undefined): string {
  if (createdAt === undefined) {
    return "";
  }
  const date = typeof createdAt === "number" ? new Date(createdAt * 1000) : new Date(createdAt);
  return Number.isNaN(date.getTime()) ? String(createdAt) : date.toLocaleString();
}

export function historyItem(step: HistoryStep): vscode.QuickPickItem {
  const facts = [step.agent, step.model, step.tokens ? `${step.tokens} tokens` : undefined];
  const files = (step.files ?? []).map((f) => `${f.change[0] ?? "?"} ${f.path}`);
  return {
    label: `${KIND_ICONS[step.kind ?? "apply"] ?? "$(git-commit)"} ${step.summary ?? step.stepId}`,
    description: facts.filter(Boolean).join(" · "),
    detail: [when(step.createdAt), files.join(", ")].filter(Boolean).join(" · "),
  };
}

export async function showHistory(server: ServerApi): Promise<void> {
  let steps: HistoryStep[];
  try {
    steps =
      (await server.executeCommand<{ steps?: HistoryStep[] }>(ServerCommand.history, { limit: 50 }))
        ?.steps ?? [];
  } catch (error) {
    await showServerError(error, "History");
    return;
  }
  if (steps.length === 0) {
    void vscode.window.showInformationMessage("Samokoder: no steps yet in this workspace.");
    return;
  }
  const picked = await vscode.window.showQuickPick(
    steps.map((step) => ({ ...historyItem(step), step })),
    {
      title: "Samokoder: history (newest first)",
      placeHolder: "A step to see its files",
      matchOnDetail: true,
    },
  );
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const files = (picked?.step.files ?? []).filter((f) => f.change !== "delete");
  if (picked === undefined || folder === undefined || files.length === 0) {
    return;
  }
  const path =
    files.length === 1
      ? files[0].path
      : await vscode.window.showQuickPick(
          files.map((f) => f.path),
          { placeHolder: "Open which file?" },
        );
  if (path !== undefined) {
    try {
      await vscode.window.showTextDocument(vscode.Uri.joinPath(folder, ...path.split("/")));
    } catch {
      void vscode.window.showWarningMessage(`Samokoder: ${path} no longer exists.`);
    }
  }
}

function row(name: string, u: Usage): string {
  return `| ${name} | ${u.requests ?? 0} | ${u.promptTokens ?? 0} | ${u.completionTokens ?? 0} | ${formatCost(u.costUsd)} |`;
}

function table(title: string, rows: UsageTotals[], name: (u: UsageTotals) => string): string[] {
  if (rows.length === 0) {
    return [];
  }
  return [
    `## ${title}`,
    "",
    "| | requests | prompt tokens | completion tokens | cost |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((u) => row(name(u), u)),
    "",
  ];
}

export function usageReport(usage: UsageResult): string {
  const total = usage.total ?? {};
  const tokens = (total.promptTokens ?? 0) + (total.completionTokens ?? 0);
  return [
    "# Samokoder usage in this workspace",
    "",
    `Total: **${formatCost(total.costUsd)}**, ${tokens} tokens, ${total.requests ?? 0} requests.`,
    "",
    ...table("By model", usage.byModel ?? [], (u) => u.model ?? "?"),
    ...table("By agent", usage.byAgent ?? [], (u) => u.agent ?? "?"),
    ...table(
      "By run (latest 20)",
      (usage.byRun ?? []).slice(-20),
      (u) => u.runId ?? "outside runs",
    ),
  ].join("\n");
}

/** Fetch usage; show it as a report when `show`. Returns the totals for the status bar. */
export async function fetchUsage(server: ServerApi, show: boolean): Promise<Usage | undefined> {
  let usage: UsageResult;
  try {
    usage = (await server.executeCommand<UsageResult>(ServerCommand.usage, {})) ?? {};
  } catch (error) {
    if (show) {
      await showServerError(error, "Usage");
    }
    return undefined;
  }
  if (show) {
    const doc = await vscode.workspace.openTextDocument({
      content: usageReport(usage),
      language: "markdown",
    });
    await vscode.window.showTextDocument(doc, { preview: true });
  }
  return usage.total;
}

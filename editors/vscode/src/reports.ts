/**
 * History (`samokoder.history`) as a picker that opens a step's files or a
 * command's output, and usage (`samokoder.usage`) as a read-only Markdown
 * report of tokens and cost.
 */
import * as vscode from "vscode";
import type { ServerApi } from "./client";
import { showServerError } from "./errors";
import {
  ServerCommand,
  type HistoryCommand,
  type HistoryStep,
  type Usage,
  type UsageResult,
  type UsageTotals,
} from "./protocol";
import { plural } from "./proposals";
import type { ReportDocuments } from "./reportView";
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

export function commandItem(c: HistoryCommand): vscode.QuickPickItem {
  const argv = Array.isArray(c.argv) && c.argv.length ? c.argv.join(" ") : (c.command ?? "?");
  const exit = typeof c.exitCode === "number" ? `exit ${c.exitCode}` : undefined;
  const took =
    typeof c.durationMs === "number" ? `${(c.durationMs / 1000).toFixed(1)} s` : undefined;
  return {
    label: `$(terminal) ${argv}`,
    description: [c.status, exit, took].filter(Boolean).join(" · "),
    detail: [when(c.createdAt), c.cwd, c.message].filter(Boolean).join(" · "),
  };
}

export function commandReport(c: HistoryCommand): string {
  const argv = Array.isArray(c.argv) && c.argv.length ? c.argv.join(" ") : (c.command ?? "?");
  const lines = [
    `$ ${argv}`,
    `# ${[c.status, typeof c.exitCode === "number" ? `exit ${c.exitCode}` : undefined, c.cwd]
      .filter(Boolean)
      .join(", ")}`,
  ];
  if (c.message) {
    lines.push(`# ${c.message}`);
  }
  if (c.truncatedBytes) {
    lines.push(`# (the first ${c.truncatedBytes} bytes of output were not kept)`);
  }
  lines.push("", c.output ?? "");
  return lines.join("\n");
}

type HistoryPick = vscode.QuickPickItem & { step?: HistoryStep; command?: HistoryCommand };

export async function showHistory(server: ServerApi, view: ReportDocuments): Promise<void> {
  let result: { steps?: HistoryStep[]; commands?: HistoryCommand[] };
  try {
    result =
      (await server.executeCommand<{ steps?: HistoryStep[]; commands?: HistoryCommand[] }>(
        ServerCommand.history,
        { limit: 50 },
      )) ?? {};
  } catch (error) {
    await showServerError(error, "History");
    return;
  }
  const steps = result.steps ?? [];
  const ran = result.commands ?? [];
  if (steps.length === 0 && ran.length === 0) {
    void vscode.window.showInformationMessage("Samokoder: no steps yet in this workspace.");
    return;
  }
  const items: HistoryPick[] = steps.map((step) => ({ ...historyItem(step), step }));
  if (ran.length > 0) {
    items.push(
      { label: "Commands", kind: vscode.QuickPickItemKind.Separator },
      ...ran.map((command) => ({ ...commandItem(command), command })),
    );
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: "Samokoder: history (newest first)",
    placeHolder: "A step to see its files, a command to see its output",
    matchOnDetail: true,
  });
  if (picked?.command !== undefined) {
    await view.show(`Command ${picked.command.id ?? ""}.log`, commandReport(picked.command));
    return;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const files = (picked?.step?.files ?? []).filter((f) => f.change !== "delete");
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
    `Total: **${formatCost(total.costUsd)}**, ${plural(tokens, "token")}, ${plural(total.requests ?? 0, "request")}.`,
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

/** Fetch usage; show it as a report when given a view. Returns the totals for the status bar. */
export async function fetchUsage(
  server: ServerApi,
  view?: ReportDocuments,
): Promise<Usage | undefined> {
  const show = view !== undefined;
  let usage: UsageResult;
  try {
    usage = (await server.executeCommand<UsageResult>(ServerCommand.usage, {})) ?? {};
  } catch (error) {
    if (show) {
      await showServerError(error, "Usage");
    }
    return undefined;
  }
  if (view !== undefined) {
    await view.show("Samokoder usage.md", usageReport(usage));
  }
  return usage.total;
}

/**
 * Runs this window knows about: started by a command (its `{runId}` answer) or
 * seen in a proposal, ended by `samokoder/runFinished`. The Cancel command
 * picks from them; the status bar counts them.
 */
import * as vscode from "vscode";
import { Command } from "./ids";
import type { RunFinishedParams, Usage } from "./protocol";

export interface RunInfo {
  runId: string;
  title: string;
  /** The workspace folder the run works in, when known (proposal paths are relative to it). */
  folder?: vscode.Uri;
}

export class RunTracker implements vscode.Disposable {
  private readonly active = new Map<string, RunInfo>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  started(runId: string, title: string, folder?: vscode.Uri): void {
    const known = this.active.get(runId);
    this.active.set(runId, {
      runId,
      title: known?.title ?? title,
      folder: known?.folder ?? folder,
    });
    this.changed.fire();
  }

  finished(runId: string): RunInfo | undefined {
    const info = this.active.get(runId);
    if (this.active.delete(runId)) {
      this.changed.fire();
    }
    return info;
  }

  get(runId: string): RunInfo | undefined {
    return this.active.get(runId);
  }

  list(): RunInfo[] {
    return [...this.active.values()];
  }

  /** The server is gone: every run with it. Returns how many were active. */
  serverLost(): number {
    const count = this.active.size;
    this.active.clear();
    if (count > 0) {
      this.changed.fire();
    }
    return count;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function formatCost(usd: number | undefined): string {
  const value = typeof usd === "number" && Number.isFinite(usd) ? usd : 0;
  // Cents once there are any; small runs need the fraction of a cent to show at all.
  return value >= 0.01 || value === 0 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`;
}

export function formatUsage(usage: Usage | undefined): string {
  if (!usage) {
    return "";
  }
  const tokens = (usage.promptTokens ?? 0) + (usage.completionTokens ?? 0);
  const requests = usage.requests ?? 0;
  return (
    `${formatCost(usage.costUsd)}, ${tokens.toLocaleString("en-US")} token${tokens === 1 ? "" : "s"}, ` +
    `${requests} request${requests === 1 ? "" : "s"}`
  );
}

export interface FinishedMessage {
  level: "info" | "warning" | "error";
  text: string;
}

/** What to tell the user when a run ends. */
export function runFinishedMessage(params: RunFinishedParams): FinishedMessage {
  const usage =
    params.usage && (params.usage.requests ?? 0) > 0 ? ` (${formatUsage(params.usage)})` : "";
  const summary = params.summary?.trim() || `run ${params.status}`;
  switch (params.status) {
    case "failed":
      return {
        level: "error",
        text: `Samokoder: the run failed: ${params.error?.trim() || summary}${usage}`,
      };
    case "cancelled":
      return {
        level: "warning",
        text: `Samokoder: ${params.summary?.trim() || "run cancelled"}${usage}`,
      };
    default:
      return { level: "info", text: `Samokoder: ${summary}${usage}` };
  }
}

/**
 * Show the end of a run. `undoStep` is the step this message may offer to
 * undo (none when the run's steps were already offered elsewhere, or when
 * there are several: one Undo per step, and the palette undoes the rest).
 */
export async function showRunFinished(
  params: RunFinishedParams,
  undoStep: string | undefined,
): Promise<void> {
  const { level, text } = runFinishedMessage(params);
  if (level === "error") {
    const log = "Show log";
    if ((await vscode.window.showErrorMessage(text, log)) === log) {
      await vscode.commands.executeCommand(Command.showLog);
    }
    return;
  }
  if (level === "warning") {
    await vscode.window.showWarningMessage(text);
    return;
  }
  const undo = "Undo";
  const actions = params.status === "succeeded" && undoStep !== undefined ? [undo] : [];
  if ((await vscode.window.showInformationMessage(text, ...actions)) === undo) {
    await vscode.commands.executeCommand(Command.undo, undoStep);
  }
}

/** The run's single step, when it has exactly one. */
export function onlyStep(params: RunFinishedParams): string | undefined {
  const steps = Array.isArray(params.steps) ? params.steps : [];
  return steps.length === 1 && typeof steps[0] === "string" ? steps[0] : undefined;
}

/** True when an editor already shows the server's copy of this run's text (`window/showDocument`). */
export function textAlreadyShown(runId: string): boolean {
  const name = `/.samokoder/explain/${runId}.md`;
  return vscode.window.visibleTextEditors.some((e) => e.document.uri.path.endsWith(name));
}

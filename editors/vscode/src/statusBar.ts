/**
 * One status bar item: the server's state, a run in progress or a proposal
 * waiting for review, and otherwise the cost of the last run (from
 * `runFinished.usage.costUsd`) with the session and workspace totals.
 */
import * as vscode from "vscode";
import type { ServerState } from "./client";
import { Command } from "./ids";
import type { Usage } from "./protocol";
import { formatCost, formatUsage } from "./runs";

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private serverState: ServerState = "stopped";
  private activeRuns = 0;
  private pendingFiles = 0;
  private lastRun: Usage | undefined;
  private sessionCost = 0;
  private workspaceTotal: Usage | undefined;

  constructor() {
    this.item = vscode.window.createStatusBarItem(
      "samokoder.status",
      vscode.StatusBarAlignment.Right,
      100,
    );
    this.item.name = "Samokoder";
    this.render();
    this.item.show();
  }

  /** What the item shows now (tests read it; so can a curious user via the tooltip). */
  get text(): string {
    return this.item.text;
  }

  get tooltip(): string {
    return typeof this.item.tooltip === "string" ? this.item.tooltip : "";
  }

  setServerState(state: ServerState): void {
    this.serverState = state;
    this.render();
  }

  setActiveRuns(count: number): void {
    this.activeRuns = count;
    this.render();
  }

  setPendingReview(files: number): void {
    this.pendingFiles = files;
    this.render();
  }

  runFinished(usage: Usage | undefined): void {
    this.lastRun = usage ?? {};
    this.sessionCost += usage?.costUsd ?? 0;
    this.render();
  }

  setWorkspaceUsage(total: Usage | undefined): void {
    this.workspaceTotal = total;
    this.render();
  }

  dispose(): void {
    this.item.dispose();
  }

  private render(): void {
    const item = this.item;
    item.backgroundColor = undefined;
    if (this.serverState === "failed" || this.serverState === "crashed") {
      item.text = "$(error) Samokoder";
      item.tooltip = "The Samokoder server is not running. Click to restart it.";
      item.command = Command.restartServer;
      item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
      return;
    }
    if (this.serverState === "stopped") {
      item.text = "$(circle-slash) Samokoder";
      item.tooltip = "The Samokoder server is stopped. Click to start it.";
      item.command = Command.restartServer;
      return;
    }
    if (this.serverState === "starting") {
      item.text = "$(loading~spin) Samokoder";
      item.tooltip = "Starting the Samokoder server…";
      item.command = Command.showLog;
      return;
    }
    if (this.pendingFiles > 0) {
      const files = `${this.pendingFiles} file${this.pendingFiles === 1 ? "" : "s"}`;
      item.text = `$(diff) Samokoder: review ${files}`;
      item.tooltip = "A proposal waits for your review. Click to accept or reject it.";
      item.command = Command.review;
      item.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
      return;
    }
    if (this.activeRuns > 0) {
      item.text = `$(sync~spin) Samokoder${this.activeRuns > 1 ? ` (${this.activeRuns} runs)` : ""}`;
      item.tooltip = "Samokoder is working. Click to cancel the run.";
      item.command = Command.cancel;
      return;
    }
    item.text =
      this.lastRun === undefined
        ? "$(hubot) Samokoder"
        : `$(hubot) ${formatCost(this.lastRun.costUsd)}`;
    const lines = ["Samokoder"];
    if (this.lastRun !== undefined) {
      lines.push(`Last run: ${formatUsage(this.lastRun)}`);
      lines.push(`This session: ${formatCost(this.sessionCost)}`);
    }
    if (this.workspaceTotal !== undefined) {
      lines.push(`This workspace, all runs: ${formatUsage(this.workspaceTotal)}`);
    }
    lines.push("Click for usage by run, agent and model.");
    item.tooltip = lines.join("\n");
    item.command = Command.usage;
  }
}

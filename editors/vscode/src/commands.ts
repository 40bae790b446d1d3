/**
 * The palette commands that talk to the server: start a run (Generate app…,
 * Implement…, Edit selection…), cancel it, undo / redo, history and usage.
 *
 * Commands the language client runs from its own registrations (the server's
 * code actions) come through `fromClient`, so their runs are tracked and their
 * errors shown the same way.
 */
import * as vscode from "vscode";
import type { ServerApi } from "./client";
import { showServerError } from "./errors";
import { Command } from "./ids";
import { RUN_COMMANDS, ServerCommand, isRunStarted, type StepResult } from "./protocol";
import type { RunTracker } from "./runs";

const LABELS: Readonly<Record<string, string>> = {
  [ServerCommand.generate]: "Generate app",
  [ServerCommand.implement]: "Implement",
  [ServerCommand.editSelection]: "Edit selection",
  [ServerCommand.fixDiagnostics]: "Fix with Samokoder",
  [ServerCommand.writeTests]: "Write tests",
  [ServerCommand.explain]: "Explain",
  [ServerCommand.accept]: "Accept",
  [ServerCommand.reject]: "Reject",
  [ServerCommand.cancel]: "Cancel",
  [ServerCommand.undo]: "Undo",
  [ServerCommand.redo]: "Redo",
  [ServerCommand.history]: "History",
  [ServerCommand.usage]: "Usage",
};

export function labelOf(command: string): string {
  return LABELS[command] ?? command;
}

function uriOf(arg: object): vscode.Uri | undefined {
  const uri = (arg as { uri?: unknown }).uri;
  if (typeof uri !== "string") {
    return undefined;
  }
  try {
    return vscode.Uri.parse(uri, true);
  } catch {
    return undefined;
  }
}

function basename(uri: vscode.Uri): string {
  return uri.path.split("/").pop() ?? uri.path;
}

export class ServerCommands {
  constructor(
    private readonly server: ServerApi,
    private readonly runs: RunTracker,
  ) {}

  /** Start a run; its id is tracked for Cancel. Errors are shown, never thrown. */
  async startRun(command: string, arg: object, folder?: vscode.Uri): Promise<string | undefined> {
    const label = labelOf(command);
    let result: unknown;
    try {
      result = await this.server.executeCommand<unknown>(command, arg);
    } catch (error) {
      await showServerError(error, label);
      return undefined;
    }
    if (!isRunStarted(result)) {
      return undefined;
    }
    const uri = uriOf(arg);
    const where = folder ?? (uri ? vscode.workspace.getWorkspaceFolder(uri)?.uri : undefined);
    this.runs.started(result.runId, uri ? `${label}: ${basename(uri)}` : label, where);
    return result.runId;
  }

  /** Middleware for commands run by the language client itself (code actions). */
  async fromClient(command: string, args: unknown[]): Promise<unknown> {
    const arg = typeof args[0] === "object" && args[0] !== null ? (args[0] as object) : {};
    if (RUN_COMMANDS.has(command)) {
      const runId = await this.startRun(command, arg);
      return runId === undefined ? undefined : { runId };
    }
    try {
      return await this.server.executeCommand<unknown>(command, arg);
    } catch (error) {
      await showServerError(error, labelOf(command));
      return undefined;
    }
  }

  async generate(): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) {
      void vscode.window.showErrorMessage(
        "Samokoder: open a folder first; the app is generated into it.",
      );
      return;
    }
    const description = await vscode.window.showInputBox({
      title: "Samokoder: Generate app",
      prompt: "Describe the application to build",
      placeHolder: "e.g. a Flask todo app with SQLite, a REST API and tests",
      ignoreFocusOut: true,
    });
    if (!description?.trim()) {
      return;
    }
    const folder =
      folders.length === 1
        ? folders[0]
        : await vscode.window.showWorkspaceFolderPick({
            placeHolder: "Folder to generate the app in",
          });
    if (folder === undefined) {
      return;
    }
    // The server's default is the first folder; another root goes by its URI.
    const arg =
      folder.index === 0
        ? { description: description.trim() }
        : { description: description.trim(), folder: folder.uri.toString() };
    await this.startRun(ServerCommand.generate, arg, folder.uri);
  }

  async implement(): Promise<void> {
    const description = await vscode.window.showInputBox({
      title: "Samokoder: Implement",
      prompt: "Describe the feature or change to implement in this codebase",
      placeHolder: "e.g. add pagination to the /items endpoint",
      ignoreFocusOut: true,
    });
    if (!description?.trim()) {
      return;
    }
    // The server implements in the first workspace folder; its proposal paths are relative to it.
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    await this.startRun(ServerCommand.implement, { description: description.trim() }, folder);
  }

  async editSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined || editor.selection.isEmpty) {
      void vscode.window.showInformationMessage("Samokoder: select the code to edit first.");
      return;
    }
    const uri = editor.document.uri;
    if (uri.scheme !== "file") {
      void vscode.window.showInformationMessage(
        "Samokoder: only files on disk can be edited; save this one into the workspace first.",
      );
      return;
    }
    const instruction = await vscode.window.showInputBox({
      title: `Samokoder: Edit selection in ${basename(uri)}`,
      prompt: "What should change in the selected code?",
      placeHolder: "e.g. handle the empty list; add type hints",
      ignoreFocusOut: true,
    });
    if (!instruction?.trim()) {
      return;
    }
    const { start, end } = editor.selection;
    await this.startRun(ServerCommand.editSelection, {
      uri: uri.toString(),
      range: {
        start: { line: start.line, character: start.character },
        end: { line: end.line, character: end.character },
      },
      instruction: instruction.trim(),
    });
  }

  async cancel(): Promise<void> {
    const active = this.runs.list();
    if (active.length === 0) {
      void vscode.window.showInformationMessage("Samokoder: no run is in progress.");
      return;
    }
    const run =
      active.length === 1
        ? active[0]
        : (
            await vscode.window.showQuickPick(
              active.map((r) => ({ label: r.title, description: r.runId, run: r })),
              { placeHolder: "Which run to cancel?" },
            )
          )?.run;
    if (run !== undefined) {
      await this.cancelRun(run.runId);
    }
  }

  async cancelRun(runId: string): Promise<void> {
    try {
      await this.server.executeCommand(ServerCommand.cancel, { runId });
    } catch (error) {
      await showServerError(error, "Cancel");
    }
  }

  /**
   * Undo the last step; with `stepId` (an Undo button offered for that step)
   * only that step: the server refuses, saying why, once it is not the last.
   */
  async undo(stepId?: string): Promise<void> {
    await this.step(ServerCommand.undo, stepId, "Undone", Command.redo, "Redo");
  }

  async redo(stepId?: string): Promise<void> {
    await this.step(ServerCommand.redo, stepId, "Redone", Command.undo, "Undo");
  }

  private async step(
    command: string,
    stepId: string | undefined,
    done: string,
    next: string,
    nextLabel: string,
  ): Promise<void> {
    let result: StepResult;
    try {
      result =
        (await this.server.executeCommand<StepResult>(command, stepId ? { stepId } : {})) ?? {};
    } catch (error) {
      await showServerError(error, labelOf(command));
      return;
    }
    const files = result.files ?? [];
    // The offer is for this step only: Redo what was just undone, Undo what was just redone.
    const choice = await vscode.window.showInformationMessage(
      `Samokoder: ${done} step ${result.target ?? ""}: ${files.length ? files.join(", ") : "no files"}.`,
      nextLabel,
    );
    if (choice === nextLabel) {
      await vscode.commands.executeCommand(next, result.target);
    }
  }
}

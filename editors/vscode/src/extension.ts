/**
 * Activation: builds the parts (keys, client, review, runs, status bar,
 * commands) and connects them. Each part lives in its own module; this one
 * only wires.
 */
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { answerAsk } from "./ask";
import { ClientHost, reportCrash, type ClientHooks } from "./client";
import { ServerCommands } from "./commands";
import { Command, PROPOSAL_SCHEME, type CommandId } from "./ids";
import { Method, type AskParams, type RunFinishedParams } from "./protocol";
import { ProposalContentProvider } from "./proposalContent";
import { RunProgress } from "./progress";
import { fetchUsage, showHistory } from "./reports";
import { REPORT_SCHEME, ReportDocuments } from "./reportView";
import { ReviewController } from "./review";
import { RunTracker, onlyStep, showRunFinished, textAlreadyShown } from "./runs";
import { ApiKeys, promptRemoveApiKey, promptSetApiKey } from "./secrets";
import { StatusBar } from "./statusBar";

export interface SamokoderExtension {
  host: ClientHost;
  review: ReviewController;
  runs: RunTracker;
  progress: RunProgress;
  reports: ReportDocuments;
  status: StatusBar;
  keys: ApiKeys;
  /** Resolves once the first start attempt has ended (true: the server answered). */
  started: Promise<boolean>;
}

let active: ClientHost | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<SamokoderExtension> {
  const output = vscode.window.createOutputChannel("Samokoder");
  const keys = new ApiKeys(context.secrets, context.globalState);
  await keys.load();
  const runs = new RunTracker();
  const status = new StatusBar();

  // The hooks run only once the client exists, after everything below is built.
  const hooks: ClientHooks = {
    wire: (client: LanguageClient) => {
      client.onNotification(Method.proposal, (params: unknown) => guard(review.onProposal(params)));
      client.onNotification(Method.runFinished, (params: RunFinishedParams) =>
        guard(runFinished(params)),
      );
      client.onRequest(Method.ask, (params: AskParams, token: vscode.CancellationToken) =>
        answerAsk(params, token),
      );
    },
    executeCommand: (command, args) => commands.fromClient(command, args),
    crashed: () => void reportCrash(runs.serverLost(), review.serverLost()),
    // Usage is not fetched at start: that would open (create) .samokoder/ in
    // every folder, used or not. It comes with the first finished run.
    stateChanged: (state) => status.setServerState(state),
  };
  const host = new ClientHost(output, keys, hooks);
  active = host;
  const content = new ProposalContentProvider(host);
  const commands = new ServerCommands(host, runs);
  const progress = new RunProgress(runs, (runId) => commands.cancelRun(runId));
  const review = new ReviewController(host, content, runs, progress);
  const reports = new ReportDocuments();

  /** A handler's failure is logged, never an unhandled rejection. */
  function guard(work: Promise<void>): Promise<void> {
    return work.catch((error: unknown) => output.appendLine(`Samokoder: ${String(error)}`));
  }

  async function refreshUsage(): Promise<void> {
    status.setWorkspaceUsage(await fetchUsage(host));
  }

  async function runFinished(params: RunFinishedParams): Promise<void> {
    if (typeof params?.runId !== "string") {
      return;
    }
    runs.finished(params.runId);
    const undoOffered = await review.onRunFinished(params.runId);
    status.runFinished(params.usage);
    void refreshUsage();
    if (typeof params.text === "string" && params.text.trim() && !textAlreadyShown(params.runId)) {
      await reports.show(`Explanation ${params.runId}.md`, params.text);
    }
    await showRunFinished(params, undoOffered ? undefined : onlyStep(params));
  }

  const handlers: Record<CommandId, (...args: unknown[]) => unknown> = {
    [Command.generate]: () => commands.generate(),
    [Command.implement]: () => commands.implement(),
    [Command.editSelection]: () => commands.editSelection(),
    // A step id comes from an Undo/Redo button offered for that step; the palette passes none.
    [Command.undo]: (stepId) => commands.undo(typeof stepId === "string" ? stepId : undefined),
    [Command.redo]: (stepId) => commands.redo(typeof stepId === "string" ? stepId : undefined),
    [Command.history]: () => showHistory(host, reports),
    [Command.usage]: async () => status.setWorkspaceUsage(await fetchUsage(host, reports)),
    [Command.cancel]: () => commands.cancel(),
    [Command.review]: (target) => review.showReview(target),
    [Command.acceptAll]: (target) => review.acceptAll(target),
    [Command.acceptFile]: (target) => review.acceptFile(target),
    [Command.reject]: (target) => review.reject(target),
    [Command.setApiKey]: () => promptSetApiKey(keys),
    [Command.removeApiKey]: () => promptRemoveApiKey(keys),
    [Command.restartServer]: () => host.restart(),
    [Command.showLog]: () => output.show(true),
  };
  for (const [id, handler] of Object.entries(handlers)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  }

  context.subscriptions.push(
    output,
    keys,
    runs,
    status,
    review,
    progress,
    reports,
    host,
    vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, content),
    vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, reports),
    runs.onDidChange(() => status.setActiveRuns(runs.list().length)),
    review.onDidChange(() => status.setPendingReview(review.pendingFiles())),
    keys.onDidChange(() => void host.pushSettings()),
    vscode.workspace.onDidChangeConfiguration((e) => void configurationChanged(e, host)),
  );

  const started = host.start();
  return { host, review, runs, progress, reports, status, keys, started };
}

async function configurationChanged(
  e: vscode.ConfigurationChangeEvent,
  host: ClientHost,
): Promise<void> {
  if (!e.affectsConfiguration("samokoder")) {
    return;
  }
  await host.pushSettings();
  if (e.affectsConfiguration("samokoder.server")) {
    const restart = "Restart";
    const choice = await vscode.window.showInformationMessage(
      "Samokoder: the server command changed. Restart the server to use it?",
      restart,
    );
    if (choice === restart) {
      await host.restart();
    }
  }
}

export async function deactivate(): Promise<void> {
  const host = active;
  active = undefined;
  await host?.stop();
}

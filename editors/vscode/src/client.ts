/**
 * Starting `samokoder serve` and owning the one language client of the window.
 *
 * One client serves every workspace folder: vscode-languageclient registers
 * each server command as a VS Code command, so a second client (one per
 * folder, or a restart that forgot the first) fails with "command already
 * exists". A crash is not restarted behind the user's back: runs and pending
 * proposals died with the server, so the user is told and offered a restart.
 */
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  type ClientCapabilities,
  type CloseHandlerResult,
  type ErrorHandlerResult,
  type FeatureState,
  type LanguageClientOptions,
  type StaticFeature,
} from "vscode-languageclient/node";
import { Command } from "./ids";
import {
  expandLaunch,
  failedStartMessage,
  findExecutable,
  missingServerMessage,
  showStartProblem,
} from "./launch";
import { CONFIG_SECTION, Method } from "./protocol";
import type { ApiKeys } from "./secrets";
import { configurationMiddleware, serverLaunch, serverSettings } from "./settings";

export type ServerState = "stopped" | "starting" | "running" | "failed" | "crashed";

/** What the rest of the extension needs from the server. */
export interface ServerApi {
  readonly state: ServerState;
  executeCommand<T>(command: string, arg: object): Promise<T>;
  request<T>(method: string, params: object): Promise<T>;
}

export interface ClientHooks {
  /** Install notification and request handlers on a fresh client (before it starts). */
  wire(client: LanguageClient): void;
  /** Commands the client runs from its own registrations (code actions) come here. */
  executeCommand(command: string, args: unknown[]): Promise<unknown>;
  /** The server went away without being asked to. */
  crashed(): void;
  /** The server state changed (status bar). */
  stateChanged(state: ServerState): void;
}

/** Announces the client side of the Samokoder protocol (DESIGN §4, §8). */
export class SamokoderCapabilities implements StaticFeature {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    const experimental =
      typeof capabilities.experimental === "object" && capabilities.experimental !== null
        ? (capabilities.experimental as Record<string, unknown>)
        : {};
    capabilities.experimental = { ...experimental, samokoderReview: true, samokoderAsk: true };
  }
  initialize(): void {}
  getState(): FeatureState {
    return { kind: "static" };
  }
  clear(): void {}
}

export class NotRunningError extends Error {
  constructor() {
    super("the Samokoder server is not running (run 'Samokoder: Restart server')");
  }
}

export class ClientHost implements ServerApi, vscode.Disposable {
  private client: LanguageClient | undefined;
  private _state: ServerState = "stopped";

  constructor(
    private readonly output: vscode.OutputChannel,
    private readonly keys: ApiKeys,
    private readonly hooks: ClientHooks,
  ) {}

  get state(): ServerState {
    return this._state;
  }

  /** Start the server unless it is starting or running; true once it answers. */
  async start(): Promise<boolean> {
    if (this._state === "starting" || this._state === "running") {
      return this._state === "running";
    }
    this.setState("starting");
    await this.disposeClient();
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const launch = expandLaunch(
      serverLaunch(vscode.workspace.getConfiguration(CONFIG_SECTION)),
      folder,
    );
    if (findExecutable(launch.command) === undefined) {
      this.output.appendLine(`Samokoder: '${launch.command}' not found on PATH`);
      this.setState("failed");
      void showStartProblem(missingServerMessage(launch));
      return false;
    }
    const client = new LanguageClient(
      "samokoder",
      "Samokoder",
      { command: launch.command, args: launch.args },
      this.clientOptions(),
    );
    client.registerFeature(new SamokoderCapabilities());
    this.hooks.wire(client);
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      if (this.client !== client) {
        return false; // stopped or restarted meanwhile
      }
      this.setState("failed");
      await this.disposeClient();
      void showStartProblem(failedStartMessage(launch, reasonOf(error)));
      return false;
    }
    if (this.client !== client) {
      return false;
    }
    this.setState("running");
    return true;
  }

  async stop(): Promise<void> {
    await this.disposeClient();
    this.setState("stopped");
  }

  async restart(): Promise<boolean> {
    await this.stop();
    return this.start();
  }

  /** Send the current settings and keys (after a settings or key change). */
  async pushSettings(): Promise<void> {
    if (this._state !== "running" || this.client === undefined) {
      return;
    }
    await this.client.sendNotification(Method.didChangeConfiguration, {
      settings: { [CONFIG_SECTION]: serverSettings(this.keys.current()) },
    });
  }

  async executeCommand<T>(command: string, arg: object): Promise<T> {
    return this.request<T>(Method.executeCommand, { command, arguments: [arg] });
  }

  async request<T>(method: string, params: object): Promise<T> {
    if (this._state !== "running" || this.client === undefined) {
      throw new NotRunningError();
    }
    return this.client.sendRequest<T>(method, params);
  }

  dispose(): void {
    void this.stop();
  }

  private clientOptions(): LanguageClientOptions {
    return {
      documentSelector: [{ scheme: "file" }],
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: () => serverSettings(this.keys.current()),
      errorHandler: {
        error: (_error, _message, count): ErrorHandlerResult => ({
          action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
          handled: true,
        }),
        closed: (): CloseHandlerResult => this.onClosed(),
      },
      middleware: {
        executeCommand: (command, args) => this.hooks.executeCommand(command, args),
        workspace: {
          configuration: configurationMiddleware(() => serverSettings(this.keys.current())),
        },
      },
    };
  }

  private onClosed(): CloseHandlerResult {
    // While starting, start() reports the failure itself.
    if (this._state === "running") {
      this.setState("crashed");
      this.hooks.crashed();
    }
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  private async disposeClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      try {
        await client.dispose(2000);
      } catch (error) {
        this.output.appendLine(`Samokoder: stopping the client: ${reasonOf(error)}`);
      }
    }
  }

  private setState(state: ServerState): void {
    if (this._state !== state) {
      this._state = state;
      this.hooks.stateChanged(state);
    }
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

/** Tell the user the server stopped, what that cost, and offer a restart. */
export async function reportCrash(
  interruptedRuns: number,
  discardedProposals: number,
): Promise<void> {
  const lost: string[] = [];
  if (interruptedRuns > 0) {
    lost.push(`${interruptedRuns} run${interruptedRuns === 1 ? " was" : "s were"} interrupted`);
  }
  if (discardedProposals > 0) {
    lost.push(
      `${discardedProposals} proposal${discardedProposals === 1 ? "" : "s"} waiting for review ` +
        `${discardedProposals === 1 ? "was" : "were"} discarded without applying anything`,
    );
  }
  const detail = lost.length > 0 ? ` ${lost.join("; ")}.` : "";
  const restart = "Restart";
  const log = "Show log";
  const choice = await vscode.window.showErrorMessage(
    `Samokoder: the language server stopped unexpectedly.${detail}`,
    restart,
    log,
  );
  if (choice === restart) {
    await vscode.commands.executeCommand(Command.restartServer);
  } else if (choice === log) {
    await vscode.commands.executeCommand(Command.showLog);
  }
}

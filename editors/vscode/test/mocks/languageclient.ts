/**
 * A stand-in for `vscode-languageclient/node`'s LanguageClient. Like the real
 * one, starting it registers every command the server announces as a VS Code
 * command (through the `executeCommand` middleware), so a second client fails
 * with "command already exists"; requests are recorded and answered by a
 * scripted `respond` function; notifications and requests from the server
 * are delivered with `notify` / `request`.
 */
import { commands, type Disposable } from "./vscode";

export enum ErrorAction {
  Continue = 1,
  Shutdown = 2,
}

export enum CloseAction {
  DoNotRestart = 1,
  Restart = 2,
}

export enum RevealOutputChannelOn {
  Debug = 0,
  Info = 1,
  Warn = 2,
  Error = 3,
  Never = 4,
}

/** What `samokoder serve` announces in `executeCommandProvider.commands` today. */
export const SERVER_ANNOUNCED = [
  "samokoder.editSelection",
  "samokoder.cancel",
  "samokoder.undo",
  "samokoder.redo",
  "samokoder.history",
  "samokoder.usage",
  "samokoder.review.accept",
  "samokoder.review.reject",
];

export interface Sent {
  method: string;
  params: unknown;
}

type Responder = (method: string, params: any) => unknown;

export const created: LanguageClient[] = [];

/** How the next clients behave; reset between tests. */
export const script = {
  startError: undefined as Error | undefined,
  respond: defaultRespond as Responder,
};

export function defaultRespond(method: string, params: any): unknown {
  if (method === "workspace/executeCommand") {
    const command: string = params.command;
    if (
      ["samokoder.editSelection", "samokoder.generate", "samokoder.implement"].includes(command)
    ) {
      return { runId: "run-1" };
    }
    if (command === "samokoder.usage") {
      return { total: { promptTokens: 0, completionTokens: 0, costUsd: 0, requests: 0 } };
    }
    return {};
  }
  if (method === "samokoder/proposalFile") {
    return { original: "old\n", proposed: "new\n", diff: "" };
  }
  return null;
}

export function resetClients(): void {
  created.length = 0;
  script.startError = undefined;
  script.respond = defaultRespond;
}

export function lastClient(): LanguageClient {
  const client = created.at(-1);
  if (!client) {
    throw new Error("no LanguageClient was created");
  }
  return client;
}

export class LanguageClient {
  readonly features: unknown[] = [];
  readonly notificationHandlers = new Map<string, (params: unknown) => unknown>();
  readonly requestHandlers = new Map<string, (params: unknown, token: unknown) => unknown>();
  readonly sent: Sent[] = [];
  readonly notifications: Sent[] = [];
  running = false;
  disposed = false;
  private registrations: Disposable[] = [];

  constructor(
    readonly id: string,
    readonly name: string,
    readonly serverOptions: { command: string; args?: string[] },
    readonly clientOptions: any,
  ) {
    created.push(this);
  }

  registerFeature(feature: unknown): void {
    this.features.push(feature);
  }

  onNotification(method: string, handler: (params: unknown) => unknown): { dispose(): void } {
    this.notificationHandlers.set(method, handler);
    return { dispose: () => this.notificationHandlers.delete(method) };
  }

  onRequest(
    method: string,
    handler: (params: unknown, token: unknown) => unknown,
  ): { dispose(): void } {
    this.requestHandlers.set(method, handler);
    return { dispose: () => this.requestHandlers.delete(method) };
  }

  async start(): Promise<void> {
    if (script.startError) {
      throw script.startError;
    }
    const middleware = this.clientOptions.middleware ?? {};
    for (const id of SERVER_ANNOUNCED) {
      const next = (command: string, args: unknown[]) =>
        this.sendRequest("workspace/executeCommand", { command, arguments: args });
      this.registrations.push(
        commands.registerCommand(id, (...args: unknown[]) =>
          middleware.executeCommand ? middleware.executeCommand(id, args, next) : next(id, args),
        ),
      );
    }
    this.running = true;
  }

  async dispose(): Promise<void> {
    this.stopped();
    this.disposed = true;
  }

  async stop(): Promise<void> {
    this.stopped();
  }

  async sendRequest<R>(method: string, params: unknown): Promise<R> {
    this.sent.push({ method, params });
    return (await script.respond(method, params)) as R;
  }

  async sendNotification(method: string, params: unknown): Promise<void> {
    this.notifications.push({ method, params });
  }

  // -- test helpers -------------------------------------------------------------

  /** The server sends a notification. */
  async notify(method: string, params: unknown): Promise<void> {
    const handler = this.notificationHandlers.get(method);
    if (!handler) {
      throw new Error(`no handler for ${method}`);
    }
    await handler(params);
  }

  /** The server sends a request. */
  async request(method: string, params: unknown): Promise<unknown> {
    const handler = this.requestHandlers.get(method);
    if (!handler) {
      throw new Error(`no handler for ${method}`);
    }
    return handler(params, undefined);
  }

  /** The server process dies: the connection closes unexpectedly. */
  async crash(): Promise<unknown> {
    const result = await this.clientOptions.errorHandler.closed();
    this.stopped();
    return result;
  }

  /** The executeCommand requests sent, as `{command, arg}`. */
  commandsSent(): { command: string; arg: any }[] {
    return this.sent
      .filter((s) => s.method === "workspace/executeCommand")
      .map((s) => {
        const p = s.params as { command: string; arguments: unknown[] };
        return { command: p.command, arg: p.arguments[0] };
      });
  }

  private stopped(): void {
    this.registrations.forEach((r) => r.dispose());
    this.registrations = [];
    this.running = false;
  }
}

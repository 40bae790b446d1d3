/** Activating the extension against the fakes, and the context VS Code would pass. */
import { activate, deactivate, type SamokoderExtension } from "../src/extension";
import { lastClient, resetClients, type LanguageClient } from "./mocks/languageclient";
import { EventEmitter, resetVscode, setConfig, setFolders } from "./mocks/vscode";

export class FakeSecrets {
  readonly store_ = new Map<string, string>();
  private readonly changed = new EventEmitter<{ key: string }>();
  readonly onDidChange = this.changed.event;
  async get(key: string): Promise<string | undefined> {
    return this.store_.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.store_.set(key, value);
    this.changed.fire({ key });
  }
  async delete(key: string): Promise<void> {
    this.store_.delete(key);
    this.changed.fire({ key });
  }
}

export class FakeMemento {
  readonly values = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  get<T>(key: string, fallback?: T): T | undefined {
    return this.values.has(key) ? (this.values.get(key) as T) : fallback;
  }
  async update(key: string, value: unknown): Promise<void> {
    this.values.set(key, value);
  }
}

export interface FakeContext {
  subscriptions: { dispose(): unknown }[];
  secrets: FakeSecrets;
  globalState: FakeMemento;
}

export function makeContext(): FakeContext {
  return { subscriptions: [], secrets: new FakeSecrets(), globalState: new FakeMemento() };
}

export interface Activated {
  ext: SamokoderExtension;
  ctx: FakeContext;
  client: LanguageClient;
}

/** Fresh fakes, a folder, a server command that exists (node itself), then activate. */
export function prepare(
  folders: string[] = ["/ws/app"],
  config: Record<string, unknown> = {},
): FakeContext {
  resetVscode();
  resetClients();
  setFolders(...folders);
  setConfig({
    "samokoder.server.command": process.execPath,
    "samokoder.server.args": ["serve"],
    ...config,
  });
  return makeContext();
}

export async function start(ctx: FakeContext = prepare()): Promise<Activated> {
  const ext = await activate(ctx as never);
  await ext.started;
  return { ext, ctx, client: lastClient() };
}

export async function stop(ctx: FakeContext | undefined): Promise<void> {
  await deactivate();
  for (const d of ctx?.subscriptions ?? []) {
    d.dispose();
  }
}

/** Let pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

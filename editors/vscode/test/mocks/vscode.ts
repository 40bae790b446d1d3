/**
 * An in-memory stand-in for the `vscode` module (VS Code itself cannot run
 * here). It keeps what the extension's behaviour depends on: duplicate command
 * ids throw "command already exists" as in VS Code, `vscode.diff` opens a tab
 * that `tabGroups.close` can close, configuration is read-only unless
 * `update` is called (a spy, so tests can prove it never is).
 */
import * as posix from "node:path/posix";
import { vi } from "vitest";

type Listener<T> = (e: T) => unknown;

export class Disposable {
  constructor(private readonly fn: () => void = () => {}) {}
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    });
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) {
      l(e);
    }
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query: string,
    readonly fragment: string,
  ) {}
  static from(c: {
    scheme: string;
    authority?: string;
    path?: string;
    query?: string;
    fragment?: string;
  }): Uri {
    return new Uri(c.scheme, c.authority ?? "", c.path ?? "", c.query ?? "", c.fragment ?? "");
  }
  static file(p: string): Uri {
    return new Uri("file", "", p.startsWith("/") ? p : `/${p}`, "", "");
  }
  static parse(value: string): Uri {
    const m = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(value);
    if (!m) {
      throw new Error(`bad URI ${value}`);
    }
    return new Uri(m[1], m[2] ?? "", decodeURIComponent(m[3]), m[4] ?? "", m[5] ?? "");
  }
  static joinPath(base: Uri, ...segments: string[]): Uri {
    return base.with({ path: posix.join(base.path, ...segments) });
  }
  get fsPath(): string {
    return this.path;
  }
  with(c: { scheme?: string; path?: string; query?: string }): Uri {
    return new Uri(
      c.scheme ?? this.scheme,
      this.authority,
      c.path ?? this.path,
      c.query ?? this.query,
      this.fragment,
    );
  }
  toString(): string {
    const auth = this.authority || this.scheme === "file" ? `//${this.authority}` : "";
    return `${this.scheme}:${auth}${encodeURI(this.path)}${this.query ? `?${this.query}` : ""}`;
  }
  toJSON(): string {
    return this.toString();
  }
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

export enum QuickPickItemKind {
  Separator = -1,
  Default = 0,
}

/** A progress notification the extension showed; `cancel` is the user's click. */
export interface FakeProgress {
  title?: string;
  location: ProgressLocation;
  cancellable?: boolean;
  messages: string[];
  done: boolean;
  cancel(): void;
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class TabInputText {
  constructor(readonly uri: Uri) {}
}

export class TabInputTextDiff {
  constructor(
    readonly original: Uri,
    readonly modified: Uri,
  ) {}
}

export interface Tab {
  label: string;
  input: unknown;
}

export interface FakeStatusBarItem {
  id: string;
  name?: string;
  text: string;
  tooltip?: string;
  command?: string;
  backgroundColor?: ThemeColor;
  visible: boolean;
  show(): void;
  hide(): void;
  dispose(): void;
}

/** Everything the fake records, reset between tests. */
export const fake = {
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  executed: [] as { command: string; args: unknown[] }[],
  context: new Map<string, unknown>(),
  config: new Map<string, unknown>(),
  files: new Set<string>(),
  statusItems: [] as FakeStatusBarItem[],
  tabs: [] as Tab[],
  opened: [] as { content?: string; language?: string; uri?: Uri }[],
  progress: [] as FakeProgress[],
  providers: new Map<string, { provideTextDocumentContent(uri: Uri): unknown }>(),
  configListeners: new EventEmitter<{ affectsConfiguration(s: string): boolean }>(),
};

function defaultMessage() {
  return vi.fn(async (..._args: unknown[]): Promise<string | undefined> => undefined);
}

export const window = {
  activeTextEditor: undefined as
    | undefined
    | {
        document: { uri: Uri };
        selection: {
          isEmpty: boolean;
          start: { line: number; character: number };
          end: { line: number; character: number };
        };
      },
  showInformationMessage: defaultMessage(),
  showWarningMessage: defaultMessage(),
  showErrorMessage: defaultMessage(),
  showInputBox: vi.fn(async (..._args: unknown[]): Promise<string | undefined> => undefined),
  showQuickPick: vi.fn(async (..._args: unknown[]): Promise<unknown> => undefined),
  showWorkspaceFolderPick: vi.fn(async (): Promise<unknown> => undefined),
  showTextDocument: vi.fn(async (doc: unknown) => doc),
  visibleTextEditors: [] as { document: { uri: Uri } }[],
  withProgress: vi.fn(
    async (
      options: { title?: string; location: ProgressLocation; cancellable?: boolean },
      task: (
        progress: { report(value: { message?: string }): void },
        token: { isCancellationRequested: boolean; onCancellationRequested: unknown },
      ) => Promise<unknown>,
    ) => {
      const cancelled = new EventEmitter<void>();
      const token = { isCancellationRequested: false, onCancellationRequested: cancelled.event };
      const entry: FakeProgress = {
        ...options,
        messages: [],
        done: false,
        cancel() {
          token.isCancellationRequested = true;
          cancelled.fire();
        },
      };
      fake.progress.push(entry);
      try {
        return await task({ report: (v) => v.message && entry.messages.push(v.message) }, token);
      } finally {
        entry.done = true;
      }
    },
  ),
  createOutputChannel: vi.fn((name: string) => ({
    name,
    lines: [] as string[],
    append(s: string) {
      this.lines.push(s);
    },
    appendLine(s: string) {
      this.lines.push(s);
    },
    show: vi.fn(),
    dispose() {},
  })),
  createStatusBarItem: (id: string): FakeStatusBarItem => {
    const item: FakeStatusBarItem = {
      id,
      text: "",
      visible: false,
      show() {
        this.visible = true;
      },
      hide() {
        this.visible = false;
      },
      dispose() {},
    };
    fake.statusItems.push(item);
    return item;
  },
  tabGroups: {
    get all() {
      return [{ tabs: fake.tabs }];
    },
    get activeTabGroup() {
      return { activeTab: fake.tabs.at(-1) };
    },
    close: vi.fn(async (tabs: Tab[]) => {
      fake.tabs = fake.tabs.filter((t) => !tabs.includes(t));
      return true;
    }),
  },
};

export const commands = {
  registerCommand(id: string, handler: (...args: unknown[]) => unknown): Disposable {
    if (fake.commands.has(id)) {
      throw new Error(`command '${id}' already exists`);
    }
    fake.commands.set(id, handler);
    return new Disposable(() => fake.commands.delete(id));
  },
  executeCommand: vi.fn(async (command: string, ...args: unknown[]): Promise<unknown> => {
    fake.executed.push({ command, args });
    if (command === "setContext") {
      fake.context.set(args[0] as string, args[1]);
      return undefined;
    }
    if (command === "vscode.diff") {
      const [left, right, title] = args as [Uri, Uri, string];
      fake.tabs.push({ label: title, input: new TabInputTextDiff(left, right) });
      return undefined;
    }
    const handler = fake.commands.get(command);
    return handler ? handler(...args) : undefined;
  }),
  async getCommands(): Promise<string[]> {
    return [...fake.commands.keys()];
  },
};

export const workspace = {
  workspaceFolders: undefined as undefined | { uri: Uri; name: string; index: number }[],
  textDocuments: [] as { uri: Uri }[],
  isTrusted: true,
  getConfiguration: vi.fn((section?: string) => ({
    get<T>(key: string, fallback?: T): T | undefined {
      const full = section ? `${section}.${key}` : key;
      return fake.config.has(full) ? (fake.config.get(full) as T) : fallback;
    },
    has: (key: string) => fake.config.has(section ? `${section}.${key}` : key),
    inspect: () => undefined,
    update: configUpdate,
  })),
  getWorkspaceFolder(uri: Uri) {
    return (workspace.workspaceFolders ?? []).find(
      (f) =>
        uri.scheme === "file" && (uri.path === f.uri.path || uri.path.startsWith(`${f.uri.path}/`)),
    );
  },
  onDidChangeConfiguration: fake.configListeners.event,
  registerTextDocumentContentProvider(
    scheme: string,
    provider: { provideTextDocumentContent(uri: Uri): unknown },
  ) {
    fake.providers.set(scheme, provider);
    return new Disposable(() => fake.providers.delete(scheme));
  },
  openTextDocument: vi.fn(async (arg: { content?: string; language?: string } | Uri) => {
    const doc =
      arg instanceof Uri
        ? { uri: arg }
        : { ...arg, uri: Uri.from({ scheme: "untitled", path: "/Untitled" }) };
    fake.opened.push(doc);
    return doc;
  }),
  fs: {
    stat: vi.fn(async (uri: Uri) => {
      if (!fake.files.has(uri.path)) {
        throw new Error(`EntryNotFound (FileSystemError): ${uri.toString()}`);
      }
      return { type: 1, ctime: 0, mtime: 0, size: 0 };
    }),
  },
};

/** A spy: the extension must never write configuration (keys stay out of settings.json). */
export const configUpdate = vi.fn(async () => undefined);

export const version = "1.90.0";

/** Fresh state for each test. */
export function resetVscode(): void {
  fake.commands.clear();
  fake.executed.length = 0;
  fake.context.clear();
  fake.config.clear();
  fake.files.clear();
  fake.statusItems.length = 0;
  fake.tabs = [];
  fake.opened.length = 0;
  fake.progress.length = 0;
  window.visibleTextEditors = [];
  fake.providers.clear();
  fake.configListeners.dispose();
  window.activeTextEditor = undefined;
  workspace.workspaceFolders = undefined;
  workspace.textDocuments = [];
  vi.clearAllMocks();
  for (const fn of [
    window.showInformationMessage,
    window.showWarningMessage,
    window.showErrorMessage,
  ]) {
    fn.mockReset();
    fn.mockImplementation(async () => undefined);
  }
  window.showInputBox.mockReset();
  window.showInputBox.mockImplementation(async () => undefined);
  window.showQuickPick.mockReset();
  window.showQuickPick.mockImplementation(async () => undefined);
  window.showWorkspaceFolderPick.mockReset();
  window.showWorkspaceFolderPick.mockImplementation(async () => undefined);
}

export function setFolders(...paths: string[]): void {
  workspace.workspaceFolders = paths.map((p, index) => ({
    uri: Uri.file(p),
    name: posix.basename(p),
    index,
  }));
}

export function setConfig(values: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(values)) {
    fake.config.set(k, v);
  }
}

/** Change settings the way the user does: values, then the change event. */
export function changeConfig(values: Record<string, unknown>): void {
  setConfig(values);
  const keys = Object.keys(values);
  fake.configListeners.fire({
    affectsConfiguration: (s: string) => keys.some((k) => k === s || k.startsWith(`${s}.`)),
  });
}

export function statusItem(): FakeStatusBarItem {
  const item = fake.statusItems.at(-1);
  if (!item) {
    throw new Error("no status bar item");
  }
  return item;
}

export function executedWith(command: string): unknown[][] {
  return fake.executed.filter((e) => e.command === command).map((e) => e.args);
}

// A small `vscode` for running the bundled extension outside VS Code with the
// real vscode-languageclient: real where the client and the extension depend on
// it (URIs, events, commands, configuration, progress), a no-op proxy elsewhere.
// Dialog answers are scripted through `__state.answers`.
const path = require("node:path");
const log = (...a) => process.stderr.write(`[vscode] ${a.map(String).join(" ")}\n`);

class Disposable {
  constructor(fn = () => {}) {
    this.fn = fn;
  }
  dispose() {
    this.fn();
  }
  static from(...d) {
    return new Disposable(() => d.forEach((x) => x.dispose()));
  }
}
class EventEmitter {
  constructor() {
    this.l = [];
    this.event = (f) => {
      this.l.push(f);
      return new Disposable(() => {
        this.l = this.l.filter((x) => x !== f);
      });
    };
  }
  fire(e) {
    this.l.slice().forEach((f) => f(e));
  }
  dispose() {
    this.l = [];
  }
}
class CancellationTokenSource {
  constructor() {
    const em = new EventEmitter();
    this.token = { isCancellationRequested: false, onCancellationRequested: em.event };
    this.em = em;
  }
  cancel() {
    this.token.isCancellationRequested = true;
    this.em.fire();
  }
  dispose() {}
}
class CancellationError extends Error {}
class Uri {
  constructor(scheme, authority, p, query, fragment) {
    Object.assign(this, { scheme, authority, path: p, query, fragment });
  }
  static from(c) {
    return new Uri(c.scheme, c.authority || "", c.path || "", c.query || "", c.fragment || "");
  }
  static file(p) {
    return new Uri("file", "", p, "", "");
  }
  static parse(s) {
    const m = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(s);
    return new Uri(
      m[1],
      m[2] || "",
      decodeURIComponent(m[3]),
      m[4] ? decodeURIComponent(m[4]) : "",
      m[5] || "",
    );
  }
  static joinPath(b, ...s) {
    return b.with({ path: path.posix.join(b.path, ...s) });
  }
  get fsPath() {
    return this.path;
  }
  with(c) {
    return new Uri(
      c.scheme ?? this.scheme,
      c.authority ?? this.authority,
      c.path ?? this.path,
      c.query ?? this.query,
      c.fragment ?? this.fragment,
    );
  }
  toString() {
    const auth = this.authority || this.scheme === "file" ? "//" + this.authority : "";
    return `${this.scheme}:${auth}${this.path.split("/").map(encodeURIComponent).join("/")}${this.query ? "?" + encodeURIComponent(this.query) : ""}`;
  }
  toJSON() {
    return this.toString();
  }
}
class Position {
  constructor(line, character) {
    this.line = line;
    this.character = character;
  }
}
class Range {
  constructor(a, b, c, d) {
    if (typeof a === "number") {
      this.start = new Position(a, b);
      this.end = new Position(c, d);
    } else {
      this.start = a;
      this.end = b;
    }
  }
  get isEmpty() {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}
class Selection extends Range {}
class TabInputText {
  constructor(uri) {
    this.uri = uri;
  }
}
class TabInputTextDiff {
  constructor(o, m) {
    this.original = o;
    this.modified = m;
  }
}
class ThemeColor {
  constructor(id) {
    this.id = id;
  }
}

const state = {
  commands: new Map(),
  providers: new Map(),
  config: {},
  answers: {},
  tabs: [],
  diffs: [],
  messages: [],
  folders: [],
};

function auto(name) {
  const fn = function () {
    return auto(name + "()");
  };
  return new Proxy(fn, {
    get(t, prop) {
      if (prop === "dispose") return () => {};
      if (prop === "then") return undefined;
      if (prop === Symbol.toPrimitive) return () => name;
      return auto(name + "." + String(prop));
    },
  });
}
function withAuto(obj, name) {
  return new Proxy(obj, {
    get(t, p) {
      return p in t ? t[p] : typeof p === "symbol" ? undefined : auto(name + "." + p);
    },
  });
}

function answer(kind, message, items) {
  const a = state.answers[kind];
  const r = typeof a === "function" ? a(message, items) : undefined;
  state.messages.push({ kind, message: String(message), answer: r });
  log(kind, JSON.stringify(String(message)), "->", JSON.stringify(r));
  return Promise.resolve(r);
}

const window = withAuto(
  {
    activeTextEditor: undefined,
    showInformationMessage: (m, ...i) => answer("info", m, i),
    showWarningMessage: (m, ...i) =>
      answer(
        "warning",
        m,
        i.filter((x) => typeof x === "string"),
      ),
    showErrorMessage: (m, ...i) => answer("error", m, i),
    showInputBox: (o) => answer("input", o?.prompt ?? o?.title, []),
    showQuickPick: (items, o) =>
      Promise.resolve(items).then((it) => answer("pick", o?.placeHolder, it)),
    showWorkspaceFolderPick: () => Promise.resolve(state.folders[0]),
    showTextDocument: (d) => {
      log("showTextDocument", d?.uri ?? d);
      return Promise.resolve(d);
    },
    createOutputChannel: (name) => ({
      name,
      append: (s) => process.stderr.write(`[${name}] ${s}`),
      appendLine: (s) => process.stderr.write(`[${name}] ${s}\n`),
      show() {},
      hide() {},
      clear() {},
      replace() {},
      dispose() {},
    }),
    createStatusBarItem: () => {
      const it = { text: "", show() {}, hide() {}, dispose() {} };
      state.status = it;
      return it;
    },
    withProgress: async (opts, task) => {
      log("progress:", opts.title);
      const src = new CancellationTokenSource();
      state.progress = src;
      return task({ report: (v) => log("progress report:", v.message ?? "") }, src.token);
    },
    tabGroups: {
      get all() {
        return [{ tabs: state.tabs }];
      },
      get activeTabGroup() {
        return { activeTab: state.tabs.at(-1) };
      },
      close: async (tabs) => {
        state.tabs = state.tabs.filter((t) => !tabs.includes(t));
        return true;
      },
    },
  },
  "window",
);

const commands = withAuto(
  {
    registerCommand(id, fn) {
      if (state.commands.has(id)) throw new Error(`command '${id}' already exists`);
      state.commands.set(id, fn);
      return new Disposable(() => state.commands.delete(id));
    },
    async executeCommand(id, ...args) {
      if (id === "setContext") return;
      if (id === "vscode.diff") {
        state.diffs.push(args);
        state.tabs.push({ input: new TabInputTextDiff(args[0], args[1]) });
        log("diff", String(args[0]), "<->", String(args[1]), args[2]);
        return;
      }
      const fn = state.commands.get(id);
      if (!fn) {
        log("executeCommand (unknown)", id);
        return;
      }
      return fn(...args);
    },
    async getCommands() {
      return [...state.commands.keys()];
    },
  },
  "commands",
);

const workspace = withAuto(
  {
    get workspaceFolders() {
      return state.folders;
    },
    textDocuments: [],
    isTrusted: true,
    getConfiguration(section) {
      return {
        get: (k, d) => {
          const full = section ? `${section}.${k}` : k;
          return full in state.config ? state.config[full] : d;
        },
        has: () => false,
        inspect: () => undefined,
        update: () => {
          throw new Error("configuration must not be written");
        },
      };
    },
    getWorkspaceFolder(uri) {
      return state.folders.find((f) => uri.path.startsWith(f.uri.path));
    },
    onDidChangeConfiguration: new EventEmitter().event,
    onDidChangeWorkspaceFolders: new EventEmitter().event,
    onDidOpenTextDocument: new EventEmitter().event,
    onDidCloseTextDocument: new EventEmitter().event,
    onDidChangeTextDocument: new EventEmitter().event,
    onDidSaveTextDocument: new EventEmitter().event,
    onWillSaveTextDocument: new EventEmitter().event,
    registerTextDocumentContentProvider(scheme, p) {
      state.providers.set(scheme, p);
      return new Disposable();
    },
    async openTextDocument(arg) {
      log("openTextDocument", JSON.stringify(arg).slice(0, 200));
      return { uri: Uri.from({ scheme: "untitled", path: "/x" }), getText: () => arg.content };
    },
    fs: { stat: async (uri) => require("node:fs").promises.stat(uri.fsPath) },
  },
  "workspace",
);

module.exports = withAuto(
  {
    version: "1.90.0",
    Uri,
    Disposable,
    EventEmitter,
    CancellationTokenSource,
    CancellationError,
    Position,
    Range,
    Selection,
    TabInputText,
    TabInputTextDiff,
    ThemeColor,
    StatusBarAlignment: { Left: 1, Right: 2 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    window,
    commands,
    workspace,
    languages: withAuto(
      { match: () => 10, createDiagnosticCollection: () => auto("diagnostics") },
      "languages",
    ),
    env: withAuto(
      {
        language: "en",
        appName: "shim",
        machineId: "x",
        sessionId: "y",
        openExternal: async () => true,
      },
      "env",
    ),
    __state: state,
  },
  "vscode",
);

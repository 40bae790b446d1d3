/**
 * API keys in VS Code's SecretStorage (the OS keychain), never in settings.json.
 *
 * SecretStorage cannot list its entries, so the provider names (not the keys)
 * are kept in globalState. Keys are cached in memory because the language
 * client reads `initializationOptions` synchronously when it starts.
 */
import * as vscode from "vscode";

const SECRET_PREFIX = "samokoder.apiKey.";
const PROVIDERS_STATE = "samokoder.apiKeyProviders";

/** Provider names as the server matches them: the prefix of the model string, or `default`. */
export const KNOWN_PROVIDERS = [
  "openai",
  "anthropic",
  "gemini",
  "vertex_ai",
  "azure",
  "mistral",
  "groq",
  "deepseek",
  "openrouter",
  "xai",
  "litellm_proxy",
  "default",
] as const;

const PROVIDER_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export class ApiKeys implements vscode.Disposable {
  private readonly keys = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subscription: vscode.Disposable;
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly state: vscode.Memento,
  ) {
    // Another window may set or remove a key: keep this one's copy current.
    this.subscription = secrets.onDidChange((e) => {
      if (e.key.startsWith(SECRET_PREFIX)) {
        void this.reload(e.key.slice(SECRET_PREFIX.length));
      }
    });
  }

  /** Read every stored key; call once before the client starts. */
  async load(): Promise<void> {
    for (const provider of this.providers()) {
      await this.reload(provider, false);
    }
  }

  /** Provider → key, for `initializationOptions.apiKeys`. */
  current(): Record<string, string> {
    return Object.fromEntries(this.keys);
  }

  providers(): string[] {
    return [...this.state.get<string[]>(PROVIDERS_STATE, [])];
  }

  has(provider: string): boolean {
    return this.keys.has(provider);
  }

  async set(provider: string, key: string): Promise<void> {
    await this.secrets.store(SECRET_PREFIX + provider, key);
    this.keys.set(provider, key);
    if (!this.providers().includes(provider)) {
      await this.state.update(PROVIDERS_STATE, [...this.providers(), provider].sort());
    }
    this.changed.fire();
  }

  async remove(provider: string): Promise<void> {
    await this.secrets.delete(SECRET_PREFIX + provider);
    this.keys.delete(provider);
    await this.state.update(
      PROVIDERS_STATE,
      this.providers().filter((p) => p !== provider),
    );
    this.changed.fire();
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }

  private async reload(provider: string, notify = true): Promise<void> {
    const key = await this.secrets.get(SECRET_PREFIX + provider);
    const before = this.keys.get(provider);
    if (key) {
      this.keys.set(provider, key);
    } else {
      this.keys.delete(provider);
    }
    if (notify && before !== key) {
      this.changed.fire();
    }
  }
}

/** 'Samokoder: Set API key…': pick a provider, type the key (masked). */
export async function promptSetApiKey(keys: ApiKeys): Promise<void> {
  const other = "Other provider…";
  const items: vscode.QuickPickItem[] = [...KNOWN_PROVIDERS, ...keys.providers()]
    .filter((p, i, all) => all.indexOf(p) === i)
    .map((p) => ({
      label: p,
      description: keys.has(p) ? "key stored" : undefined,
      detail:
        p === "default" ? "Used for any model whose provider has no key of its own" : undefined,
    }));
  items.push({ label: other });
  const picked = await vscode.window.showQuickPick(items, {
    title: "Samokoder: Set API key",
    placeHolder: "Provider (the part before '/' in the model name, e.g. openai/gpt-4o-mini)",
    ignoreFocusOut: true,
  });
  if (!picked) {
    return;
  }
  let provider = picked.label;
  if (provider === other) {
    const typed = await vscode.window.showInputBox({
      title: "Samokoder: Set API key",
      prompt: "Provider name, as in the model string (e.g. 'together_ai' for together_ai/…)",
      ignoreFocusOut: true,
      validateInput: (v) =>
        PROVIDER_NAME.test(v.trim()) ? undefined : "Letters, digits, '_', '.', '-' only",
    });
    if (!typed) {
      return;
    }
    provider = typed.trim();
  }
  const key = await vscode.window.showInputBox({
    title: `Samokoder: API key for ${provider}`,
    prompt: "Stored in VS Code's secret storage and sent only to the Samokoder server.",
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : "The key cannot be empty"),
  });
  if (!key) {
    return;
  }
  await keys.set(provider, key.trim());
  void vscode.window.showInformationMessage(
    `Samokoder: the API key for ${provider} is stored in VS Code's secret storage.`,
  );
}

/** 'Samokoder: Remove API key…'. */
export async function promptRemoveApiKey(keys: ApiKeys): Promise<void> {
  const stored = keys.providers();
  if (stored.length === 0) {
    void vscode.window.showInformationMessage("Samokoder: no API key is stored.");
    return;
  }
  const provider = await vscode.window.showQuickPick(stored, {
    title: "Samokoder: Remove API key",
    placeHolder: "Provider whose key to forget",
  });
  if (!provider) {
    return;
  }
  await keys.remove(provider);
  void vscode.window.showInformationMessage(`Samokoder: the API key for ${provider} was removed.`);
}

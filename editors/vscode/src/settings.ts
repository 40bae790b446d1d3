/**
 * Settings: the `samokoder.*` configuration as the server reads it (DESIGN §8).
 *
 * The same object goes out three ways: in `initializationOptions`, as the
 * answer to the server's `workspace/configuration` pull, and pushed in
 * `workspace/didChangeConfiguration` when the user changes something. Unset
 * values are left out so the server's defaults and environment variables
 * (`SAMOKODER_MODEL`, …) apply; API keys are added from SecretStorage, never
 * read from or written to settings.json.
 */
import * as vscode from "vscode";
import type { ConfigurationItem, ConfigurationRequest, LSPAny } from "vscode-languageclient/node";
import { CONFIG_SECTION } from "./protocol";

/** Settings sent to the server, by their camelCase wire name. */
export const WIRE_SETTINGS = [
  "model",
  "apiBase",
  "agentModels",
  "fallbackModels",
  "review",
  "checkpoints",
  "commands",
  "maxParallel",
  "budgetUsd",
  "cache",
  "temperature",
  "requestTimeout",
] as const;

export type WireSettings = Record<string, unknown>;

export interface ConfigurationReader {
  get<T>(section: string): T | undefined;
}

/** `review: "auto"` means "let the server pick by client capability": not sent. */
const UNSET_VALUES: ReadonlySet<unknown> = new Set([undefined, null, "", "auto"]);

export function wireSettings(config: ConfigurationReader): WireSettings {
  const out: WireSettings = {};
  for (const key of WIRE_SETTINGS) {
    const value = config.get<unknown>(key);
    if (!UNSET_VALUES.has(value)) {
      out[key] = value;
    }
  }
  return out;
}

/** The settings plus the API keys: what the server gets. */
export function serverSettings(keys: Readonly<Record<string, string>>): WireSettings {
  return {
    ...wireSettings(vscode.workspace.getConfiguration(CONFIG_SECTION)),
    apiKeys: { ...keys },
  };
}

export interface ServerLaunch {
  command: string;
  args: string[];
}

export const DEFAULT_LAUNCH: ServerLaunch = { command: "samokoder", args: ["serve"] };

export function serverLaunch(config: ConfigurationReader): ServerLaunch {
  const command = config.get<string>("server.command");
  const args = config.get<unknown>("server.args");
  return {
    command:
      typeof command === "string" && command.trim() ? command.trim() : DEFAULT_LAUNCH.command,
    args:
      Array.isArray(args) && args.every((a) => typeof a === "string")
        ? (args as string[])
        : DEFAULT_LAUNCH.args,
  };
}

/**
 * `workspace.configuration` middleware: answers the `samokoder` section with
 * the wire settings (the raw configuration would carry `review: "auto"` and
 * empty strings the server would take as values); other sections go on to
 * the default handler.
 */
export function configurationMiddleware(
  settings: () => WireSettings,
): ConfigurationRequest.MiddlewareSignature {
  const ours = (item: ConfigurationItem): boolean =>
    item.section === CONFIG_SECTION || (item.section ?? "").startsWith(`${CONFIG_SECTION}.`);
  const answer = (item: ConfigurationItem): LSPAny => {
    const all = settings();
    if (item.section === CONFIG_SECTION) {
      return all;
    }
    return all[(item.section ?? "").slice(CONFIG_SECTION.length + 1)] ?? null;
  };
  return async (params, token, next) => {
    if (params.items.every(ours)) {
      return params.items.map(answer);
    }
    const others = await next(params, token);
    if (!Array.isArray(others)) {
      return others;
    }
    return params.items.map((item, i) => (ours(item) ? answer(item) : others[i]));
  };
}

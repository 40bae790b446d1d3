import { afterEach, describe, expect, it } from "vitest";
import { Command } from "../src/ids";
import {
  configurationMiddleware,
  serverLaunch,
  wireSettings,
  WIRE_SETTINGS,
} from "../src/settings";
import { prepare, start, stop, settle, type FakeContext } from "./helpers";
import { created } from "./mocks/languageclient";
import { changeConfig, commands, configUpdate, window } from "./mocks/vscode";
import { readFileSync } from "node:fs";

let ctx: FakeContext | undefined;
afterEach(async () => {
  await stop(ctx);
  ctx = undefined;
});

const USER_SETTINGS = {
  "samokoder.model": "openai/gpt-4o-mini",
  "samokoder.apiBase": "http://127.0.0.1:4000",
  "samokoder.agentModels": { reviewer: "anthropic/claude-sonnet-4-5" },
  "samokoder.fallbackModels": ["ollama_chat/llama3.1"],
  "samokoder.review": "proposal",
  "samokoder.checkpoints": "repo",
  "samokoder.commands": "never",
  "samokoder.maxParallel": 2,
  "samokoder.budgetUsd": 0.5,
  "samokoder.cache": false,
  "samokoder.temperature": 0.2,
  "samokoder.requestTimeout": 60,
};

describe("settings", () => {
  it("mirror every DESIGN §8 setting in package.json", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    const props = Object.keys(manifest.contributes.configuration.properties);
    for (const key of WIRE_SETTINGS) {
      expect(props).toContain(`samokoder.${key}`);
    }
    expect(props).toContain("samokoder.server.command");
    expect(props).toContain("samokoder.server.args");
    expect(props).not.toContain("samokoder.apiKeys");
  });

  it("go to the server in initializationOptions, with the keys from SecretStorage", async () => {
    ctx = prepare(["/ws/app"], USER_SETTINGS);
    await ctx.secrets.store("samokoder.apiKey.openai", "sk-test-openai");
    await ctx.globalState.update("samokoder.apiKeyProviders", ["openai"]);
    const { client } = await start(ctx);
    const options = client.clientOptions.initializationOptions();
    expect(options).toEqual({
      model: "openai/gpt-4o-mini",
      apiBase: "http://127.0.0.1:4000",
      agentModels: { reviewer: "anthropic/claude-sonnet-4-5" },
      fallbackModels: ["ollama_chat/llama3.1"],
      review: "proposal",
      checkpoints: "repo",
      commands: "never",
      maxParallel: 2,
      budgetUsd: 0.5,
      cache: false,
      temperature: 0.2,
      requestTimeout: 60,
      apiKeys: { openai: "sk-test-openai" },
    });
  });

  it("answer the server's pull through the client's middleware, keys included", async () => {
    ctx = prepare(["/ws/app"], {
      "samokoder.model": "openai/gpt-4o-mini",
      "samokoder.review": "auto",
    });
    await ctx.secrets.store("samokoder.apiKey.default", "sk-default");
    await ctx.globalState.update("samokoder.apiKeyProviders", ["default"]);
    const { client } = await start(ctx);
    const configuration = client.clientOptions.middleware.workspace.configuration;
    const answer = await configuration({ items: [{ section: "samokoder" }] }, undefined, () => []);
    expect(answer).toEqual([{ model: "openai/gpt-4o-mini", apiKeys: { default: "sk-default" } }]);
  });

  it("leave unset values out, so the server's defaults and SAMOKODER_MODEL apply", () => {
    const values: Record<string, unknown> = {
      model: "",
      apiBase: "",
      review: "auto",
      budgetUsd: null,
      maxParallel: 4,
      cache: true,
    };
    const settings = wireSettings({ get: <T>(k: string) => values[k] as T });
    expect(settings).toEqual({ maxParallel: 4, cache: true });
  });

  it("answer the server's workspace/configuration pull for the samokoder section", async () => {
    const middleware = configurationMiddleware(() => ({ model: "m", apiKeys: { openai: "k" } }));
    const next = () => {
      throw new Error("not for our section");
    };
    const answer = await middleware(
      { items: [{ section: "samokoder" }] },
      undefined as never,
      next as never,
    );
    expect(answer).toEqual([{ model: "m", apiKeys: { openai: "k" } }]);
    const mixed = await middleware(
      { items: [{ section: "editor" }, { section: "samokoder.model" }] },
      undefined as never,
      (async () => [{ tabSize: 4 }, "raw"]) as never,
    );
    expect(mixed).toEqual([{ tabSize: 4 }, "m"]);
  });

  it("are pushed to the running server when the user changes them", async () => {
    let client;
    ({ ctx, client } = await start());
    changeConfig({ "samokoder.model": "anthropic/claude-sonnet-4-5" });
    await settle();
    expect(client.notifications.at(-1)).toEqual({
      method: "workspace/didChangeConfiguration",
      params: { settings: { samokoder: { model: "anthropic/claude-sonnet-4-5", apiKeys: {} } } },
    });
  });

  it("changing the server command offers a restart", async () => {
    ({ ctx } = await start());
    window.showInformationMessage.mockResolvedValueOnce("Restart");
    changeConfig({ "samokoder.server.args": ["serve", "--log-level", "INFO"] });
    await settle();
    expect(created).toHaveLength(2);
    expect(created[1].serverOptions.args).toEqual(["serve", "--log-level", "INFO"]);
  });

  it("server command and args have defaults and survive junk", () => {
    expect(serverLaunch({ get: () => undefined })).toEqual({
      command: "samokoder",
      args: ["serve"],
    });
    const junk: Record<string, unknown> = { "server.command": "  ", "server.args": [1, 2] };
    expect(serverLaunch({ get: <T>(k: string) => junk[k] as T })).toEqual({
      command: "samokoder",
      args: ["serve"],
    });
  });
});

describe("API keys", () => {
  it("Set API key stores the key in SecretStorage only and sends it to the server", async () => {
    let client;
    ({ ctx, client } = await start());
    window.showQuickPick.mockImplementationOnce(async (items: unknown) =>
      (items as { label: string }[]).find((i) => i.label === "anthropic"),
    );
    window.showInputBox.mockResolvedValueOnce("sk-ant-secret");
    await commands.executeCommand(Command.setApiKey);
    expect(await ctx.secrets.get("samokoder.apiKey.anthropic")).toBe("sk-ant-secret");
    expect(ctx.globalState.get("samokoder.apiKeyProviders")).toEqual(["anthropic"]);
    // Never written to configuration, never in globalState.
    expect(configUpdate).not.toHaveBeenCalled();
    expect(JSON.stringify([...ctx.globalState.values.values()])).not.toContain("sk-ant-secret");
    // The password box masks it.
    expect(window.showInputBox.mock.calls[0][0]).toMatchObject({ password: true });
    // The running server gets it at once.
    await settle();
    expect(client.notifications.at(-1)?.params).toEqual({
      settings: { samokoder: expect.objectContaining({ apiKeys: { anthropic: "sk-ant-secret" } }) },
    });
    // And the next start carries it in initializationOptions.
    expect(client.clientOptions.initializationOptions().apiKeys).toEqual({
      anthropic: "sk-ant-secret",
    });
  });

  it("a custom provider name is asked for and checked", async () => {
    ({ ctx } = await start());
    window.showQuickPick.mockImplementationOnce(async (items: unknown) =>
      (items as { label: string }[]).at(-1),
    );
    window.showInputBox.mockResolvedValueOnce("together_ai").mockResolvedValueOnce("tok");
    await commands.executeCommand(Command.setApiKey);
    expect(await ctx.secrets.get("samokoder.apiKey.together_ai")).toBe("tok");
    const validate = (
      window.showInputBox.mock.calls[0][0] as { validateInput: (v: string) => unknown }
    ).validateInput;
    expect(validate("bad name/")).toBeTruthy();
    expect(validate("together_ai")).toBeUndefined();
  });

  it("Remove API key forgets it and tells the server", async () => {
    ctx = prepare();
    await ctx.secrets.store("samokoder.apiKey.openai", "sk-1");
    await ctx.globalState.update("samokoder.apiKeyProviders", ["openai"]);
    const { client } = await start(ctx);
    window.showQuickPick.mockResolvedValueOnce("openai");
    await commands.executeCommand(Command.removeApiKey);
    expect(await ctx.secrets.get("samokoder.apiKey.openai")).toBeUndefined();
    expect(ctx.globalState.get("samokoder.apiKeyProviders")).toEqual([]);
    await settle();
    expect(client.notifications.at(-1)?.params).toEqual({
      settings: { samokoder: expect.objectContaining({ apiKeys: {} }) },
    });
  });

  it("a key set in another window reaches this window's server", async () => {
    ctx = prepare();
    await ctx.globalState.update("samokoder.apiKeyProviders", ["openai"]);
    const { client, ext } = await start(ctx);
    await ctx.secrets.store("samokoder.apiKey.openai", "sk-from-elsewhere");
    await settle();
    expect(ext.keys.current()).toEqual({ openai: "sk-from-elsewhere" });
    expect(client.notifications.at(-1)?.params).toEqual({
      settings: {
        samokoder: expect.objectContaining({ apiKeys: { openai: "sk-from-elsewhere" } }),
      },
    });
  });
});

import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { SamokoderCapabilities } from "../src/client";
import { activate } from "../src/extension";
import { Command } from "../src/ids";
import { SERVER_COMMAND_IDS } from "../src/protocol";
import { prepare, settle, start, stop, type FakeContext } from "./helpers";
import { SERVER_ANNOUNCED, created, lastClient, script } from "./mocks/languageclient";
import { commands, fake, statusItem, window } from "./mocks/vscode";

interface Manifest {
  activationEvents: string[];
  contributes: {
    commands: { command: string; title: string; category: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    configuration: { properties: Record<string, { scope?: string }> };
  };
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
}

const manifest = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
) as Manifest;
const contributed = manifest.contributes.commands.map((c) => c.command);

let ctx: FakeContext | undefined;
afterEach(async () => {
  await stop(ctx);
  ctx = undefined;
});

describe("command registration", () => {
  it("registers exactly the commands package.json contributes", async () => {
    ({ ctx } = await start());
    const registered = (await commands.getCommands()).filter(
      (id) => !SERVER_ANNOUNCED.includes(id),
    );
    expect(new Set(registered)).toEqual(new Set(contributed));
    expect(new Set(Object.values(Command))).toEqual(new Set(contributed));
    expect(manifest.contributes.commands.every((c) => c.category === "Samokoder")).toBe(true);
  });

  it("never uses an id the server registers through the language client", () => {
    for (const id of contributed) {
      expect(SERVER_COMMAND_IDS).not.toContain(id);
      expect(SERVER_ANNOUNCED).not.toContain(id);
    }
  });

  it("has menus that name contributed commands only", () => {
    for (const entries of Object.values(manifest.contributes.menus)) {
      for (const entry of entries) {
        expect(contributed).toContain(entry.command);
      }
    }
    const context = manifest.contributes.menus["editor/context"];
    expect(context).toContainEqual(expect.objectContaining({ command: Command.editSelection }));
    expect(context[0].when).toContain("editorHasSelection");
  });

  it("starts one client for the whole window, whatever the number of folders", async () => {
    ({ ctx } = await start(prepare(["/ws/a", "/ws/b", "/ws/c"])));
    expect(created).toHaveLength(1);
    expect(lastClient().clientOptions.documentSelector).toEqual([{ scheme: "file" }]);
    // The server's commands are registered once, by that client.
    for (const id of SERVER_ANNOUNCED) {
      expect(fake.commands.has(id)).toBe(true);
    }
  });

  it("sends no command at start (a command would create .samokoder/ in the folder)", async () => {
    let client;
    ({ ctx, client } = await start());
    await settle();
    expect(client.commandsSent()).toEqual([]);
  });

  it("a second start while running creates no second client", async () => {
    let ext;
    ({ ctx, ext } = await start());
    expect(await ext.host.start()).toBe(true);
    expect(await Promise.all([ext.host.start(), ext.host.start()])).toEqual([true, true]);
    expect(created).toHaveLength(1);
  });

  it("restart replaces the client instead of adding one (no 'command already exists')", async () => {
    let ext;
    ({ ctx, ext } = await start());
    expect(await ext.host.restart()).toBe(true);
    expect(created).toHaveLength(2);
    expect(created[0].disposed).toBe(true);
    expect(created[1].running).toBe(true);
    expect(ext.host.state).toBe("running");
  });

  it("announces the review and ask capabilities", () => {
    const caps: { experimental?: unknown } = { experimental: { other: 1 } };
    new SamokoderCapabilities().fillClientCapabilities(caps as never);
    expect(caps.experimental).toEqual({ other: 1, samokoderReview: true, samokoderAsk: true });
  });

  it("registers the capability feature on the client it starts", async () => {
    let client;
    ({ ctx, client } = await start());
    expect(client.features.some((f) => f instanceof SamokoderCapabilities)).toBe(true);
  });

  it("keeps the server command out of untrusted workspaces' settings", () => {
    const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
    expect(restricted).toEqual(
      expect.arrayContaining([
        "samokoder.server.command",
        "samokoder.server.args",
        "samokoder.apiBase",
      ]),
    );
  });
});

describe("a server that is missing or fails", () => {
  it("says how to install it when the command is not found, and starts no client", async () => {
    ctx = prepare(["/ws/app"], { "samokoder.server.command": "samokoder-not-installed-anywhere" });
    const ext = await activate(ctx as never);
    expect(await ext.started).toBe(false);
    await settle();
    expect(created).toHaveLength(0);
    const message = String(window.showErrorMessage.mock.calls[0][0]);
    expect(message).toContain("'samokoder-not-installed-anywhere' was not found");
    expect(message).toContain("pip install uv");
    expect(message).toContain('"run", "--project", "<path-to-samokoder>", "samokoder", "serve"');
    expect(message).toContain("samokoder.server.command");
    expect(statusItem().text).toContain("$(error)");
    expect(statusItem().command).toBe(Command.restartServer);
  });

  it("reports a server that exits at start with the reason and the settings to check", async () => {
    ctx = prepare();
    script.startError = new Error("Pending response rejected since connection got disposed");
    const activated = await activate(ctx as never);
    expect(await activated.started).toBe(false);
    await settle();
    const message = String(window.showErrorMessage.mock.calls[0][0]);
    expect(message).toContain("did not start");
    expect(message).toContain("connection got disposed");
    expect(message).toContain("samokoder.server.args");
    expect(activated.host.state).toBe("failed");
    // The failed client was disposed, so a retry registers the server's commands afresh.
    script.startError = undefined;
    expect(await activated.host.restart()).toBe(true);
  });

  it("a crash mid-run says so, drops the pending proposal and offers a restart", async () => {
    let client, ext;
    ({ ctx, client, ext } = await start());
    await commands.executeCommand("samokoder.editSelection", {
      uri: "file:///ws/app/a.py",
      range: {},
    });
    await client.notify("samokoder/proposal", {
      proposalId: "p1",
      runId: "run-1",
      title: "Rename",
      files: [{ path: "a.py", kind: "modify", additions: 1, deletions: 1 }],
    });
    window.showErrorMessage.mockResolvedValueOnce("Restart");
    const result = (await client.crash()) as { action: number; handled: boolean };
    expect(result).toEqual({ action: 1, handled: true }); // DoNotRestart: the user decides
    await settle();
    const message = String(window.showErrorMessage.mock.calls[0][0]);
    expect(message).toContain("stopped unexpectedly");
    expect(message).toContain("1 run was interrupted");
    expect(message).toContain("discarded without applying anything");
    expect(ext.review.list()).toEqual([]);
    expect(fake.tabs).toEqual([]);
    // "Restart" was chosen: a fresh client is running.
    expect(created).toHaveLength(2);
    expect(ext.host.state).toBe("running");
  });
});

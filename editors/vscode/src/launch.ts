/**
 * Finding the server executable before starting it, and saying how to install
 * it when it is missing: better than the language client's generic
 * "couldn't create connection to server".
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import { Command } from "./ids";
import type { ServerLaunch } from "./settings";

export const INSTALL_HINT =
  "Install it with `pip install uv`, then either set samokoder.server.command to " +
  '"uv" and samokoder.server.args to ["run", "--project", "<path-to-samokoder>", ' +
  '"samokoder", "serve"] (that is `uv run --project <path-to-samokoder> samokoder serve`), ' +
  "or point samokoder.server.command at a samokoder executable.";

/** `~`, `${userHome}` and `${workspaceFolder}` in the command and its arguments. */
export function expandLaunch(
  launch: ServerLaunch,
  workspaceFolder: string | undefined,
  home: string = os.homedir(),
): ServerLaunch {
  const expand = (s: string): string => {
    let out = s.replace(/\$\{userHome\}/g, home);
    if (workspaceFolder !== undefined) {
      out = out.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
    }
    if (out === "~" || out.startsWith("~/") || out.startsWith("~\\")) {
      out = home + out.slice(1);
    }
    return out;
  };
  return { command: expand(launch.command), args: launch.args.map(expand) };
}

/** The executable `command` resolves to, or undefined when there is none. */
export function findExecutable(
  command: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  const windows = platform === "win32";
  const exts = windows
    ? ["", ...(env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter(Boolean)]
    : [""];
  const candidates = (base: string): string[] => exts.map((ext) => base + ext);
  const hasSeparator = command.includes("/") || (windows && command.includes("\\"));
  if (hasSeparator || path.isAbsolute(command)) {
    return candidates(command).find((c) => isExecutable(c, windows));
  }
  const dirs = (env.PATH ?? env.Path ?? "").split(windows ? ";" : ":").filter(Boolean);
  for (const dir of dirs) {
    const found = candidates(path.join(dir, command)).find((c) => isExecutable(c, windows));
    if (found) {
      return found;
    }
  }
  return undefined;
}

function isExecutable(file: string, windows: boolean): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    if (!windows) {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

export function commandLine(launch: ServerLaunch): string {
  return [launch.command, ...launch.args].map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(" ");
}

export function missingServerMessage(launch: ServerLaunch): string {
  return (
    `Samokoder: cannot start the language server: '${launch.command}' was not found. ` +
    INSTALL_HINT
  );
}

export function failedStartMessage(launch: ServerLaunch, reason: string): string {
  return (
    `Samokoder: the language server did not start (${commandLine(launch)}): ${reason}. ` +
    "See 'Samokoder: Show server log'. " +
    INSTALL_HINT
  );
}

/** Show a start problem with the two ways out: the settings and the log. */
export async function showStartProblem(message: string): Promise<void> {
  const settings = "Open settings";
  const log = "Show log";
  const choice = await vscode.window.showErrorMessage(message, settings, log);
  if (choice === settings) {
    await vscode.commands.executeCommand("workbench.action.openSettings", "samokoder.server");
  } else if (choice === log) {
    await vscode.commands.executeCommand(Command.showLog);
  }
}

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commandLine, expandLaunch, findExecutable } from "../src/launch";

const dir = mkdtempSync(join(tmpdir(), "samokoder-launch-"));
const tool = join(dir, "samokoder");
writeFileSync(tool, "#!/bin/sh\n");
chmodSync(tool, 0o755);
const notExecutable = join(dir, "plain");
writeFileSync(notExecutable, "");
chmodSync(notExecutable, 0o644);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("finding the server", () => {
  it("looks the command up on PATH", () => {
    expect(findExecutable("samokoder", { PATH: `/nonexistent:${dir}` }, "linux")).toBe(tool);
    expect(findExecutable("samokoder", { PATH: "/nonexistent" }, "linux")).toBeUndefined();
  });

  it("takes a path as it is, and refuses a file that cannot run", () => {
    expect(findExecutable(tool, { PATH: "" }, "linux")).toBe(tool);
    expect(findExecutable(notExecutable, { PATH: "" }, "linux")).toBeUndefined();
    expect(findExecutable(dir, { PATH: "" }, "linux")).toBeUndefined();
  });

  it("expands ~, ${userHome} and ${workspaceFolder}", () => {
    const launch = expandLaunch(
      {
        command: "~/bin/uv",
        args: ["run", "--project", "${userHome}/samokoder", "--directory", "${workspaceFolder}"],
      },
      "/ws/app",
      "/home/me",
    );
    expect(launch).toEqual({
      command: "/home/me/bin/uv",
      args: ["run", "--project", "/home/me/samokoder", "--directory", "/ws/app"],
    });
    expect(commandLine({ command: "uv", args: ["run", "a b"] })).toBe('uv run "a b"');
  });
});

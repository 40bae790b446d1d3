// Bundles the extension and vscode-languageclient into dist/extension.js,
// so the .vsix needs no node_modules (`vsce package --no-dependencies`).
import { build } from "esbuild";

const production = !process.argv.includes("--dev");

await build({
  entryPoints: ["src/extension.ts"],
  bundle: true,
  outfile: "dist/extension.js",
  platform: "node",
  format: "cjs",
  target: "node20",
  external: ["vscode"],
  sourcemap: production ? false : "inline",
  minify: production,
  logLevel: "info",
});

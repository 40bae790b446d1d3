import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// VS Code cannot run here: `vscode` and the language client are replaced by
// in-memory fakes that behave like the real ones where the extension relies on it.
export default defineConfig({
  resolve: {
    alias: {
      vscode: fileURLToPath(new URL("./test/mocks/vscode.ts", import.meta.url)),
      "vscode-languageclient/node": fileURLToPath(
        new URL("./test/mocks/languageclient.ts", import.meta.url),
      ),
    },
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    restoreMocks: false,
  },
});

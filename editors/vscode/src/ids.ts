/**
 * The extension's own command ids (package.json `contributes.commands`).
 *
 * vscode-languageclient registers every command the server announces
 * (`samokoder.undo`, `samokoder.review.accept`, …) as a VS Code command, so
 * the extension's ids live under `samokoder.vscode.` to never collide with
 * them: a duplicate id fails with "command already exists".
 */
export const Command = {
  generate: "samokoder.vscode.generate",
  implement: "samokoder.vscode.implement",
  editSelection: "samokoder.vscode.editSelection",
  undo: "samokoder.vscode.undo",
  redo: "samokoder.vscode.redo",
  history: "samokoder.vscode.history",
  usage: "samokoder.vscode.usage",
  cancel: "samokoder.vscode.cancel",
  review: "samokoder.vscode.review",
  acceptAll: "samokoder.vscode.acceptAll",
  acceptFile: "samokoder.vscode.acceptFile",
  reject: "samokoder.vscode.reject",
  setApiKey: "samokoder.vscode.setApiKey",
  removeApiKey: "samokoder.vscode.removeApiKey",
  restartServer: "samokoder.vscode.restartServer",
  showLog: "samokoder.vscode.showLog",
} as const;

export type CommandId = (typeof Command)[keyof typeof Command];

/** Context key set while a proposal waits for review (enables the review commands). */
export const REVIEW_PENDING_CONTEXT = "samokoder.reviewPending";

/** URI scheme of the proposed (and original) file contents shown in diffs. */
export const PROPOSAL_SCHEME = "samokoder-proposal";

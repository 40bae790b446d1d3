/**
 * Read-only documents for what the server reports (usage, an explanation, a
 * command's output). An untitled document would ask to be saved on close and
 * could be edited into a lie; a virtual document is neither.
 */
import * as vscode from "vscode";

export const REPORT_SCHEME = "samokoder-report";
const KEEP = 20;

export class ReportDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return (
      this.texts.get(uri.path) ?? "This report is no longer kept; run the Samokoder command again."
    );
  }

  /** Show `text` under `name` (its extension picks the language, e.g. `.md`). */
  async show(name: string, text: string): Promise<vscode.Uri> {
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${name}` });
    this.texts.delete(uri.path);
    this.texts.set(uri.path, text);
    for (const old of [...this.texts.keys()].slice(0, Math.max(0, this.texts.size - KEEP))) {
      this.texts.delete(old);
    }
    this.changed.fire(uri); // an open one shows the new text
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
    return uri;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

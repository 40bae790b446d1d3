/**
 * One progress notification per run, with a Cancel button.
 *
 * vscode-languageclient shows the server's `$/progress` only as status-bar
 * text, with no way to cancel; a run is long and costs money, so each run the
 * window knows about gets a cancellable notification that closes when
 * `samokoder/runFinished` arrives (or the server is lost).
 */
import * as vscode from "vscode";
import type { RunInfo, RunTracker } from "./runs";

interface Shown {
  report(message: string): void;
  close(): void;
}

export class RunProgress implements vscode.Disposable {
  private readonly shown = new Map<string, Shown>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly runs: RunTracker,
    private readonly cancel: (runId: string) => Promise<void>,
  ) {
    this.subscription = runs.onDidChange(() => this.sync());
  }

  /** Replace the notification's message (e.g. "waiting for your review"). */
  report(runId: string, message: string): void {
    this.shown.get(runId)?.report(message);
  }

  /** Runs shown now (tests read it). */
  ids(): string[] {
    return [...this.shown.keys()];
  }

  dispose(): void {
    this.subscription.dispose();
    for (const shown of this.shown.values()) {
      shown.close();
    }
    this.shown.clear();
  }

  private sync(): void {
    const live = new Set(this.runs.list().map((r) => r.runId));
    for (const [runId, shown] of this.shown) {
      if (!live.has(runId)) {
        this.shown.delete(runId);
        shown.close();
      }
    }
    for (const run of this.runs.list()) {
      if (!this.shown.has(run.runId)) {
        this.show(run);
      }
    }
  }

  private show(run: RunInfo): void {
    let close = (): void => {};
    let report = (_message: string): void => {};
    const ended = new Promise<void>((resolve) => {
      close = resolve;
    });
    this.shown.set(run.runId, { report: (m) => report(m), close: () => close() });
    void vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Samokoder: ${run.title}`,
        cancellable: true,
      },
      async (progress, token) => {
        report = (message) => progress.report({ message });
        report("working…");
        const cancelled = token.onCancellationRequested(() => {
          report("cancelling…");
          void this.cancel(run.runId);
        });
        try {
          await ended;
        } finally {
          cancelled.dispose();
        }
      },
    );
  }
}

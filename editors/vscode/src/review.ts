/**
 * Review before accept (DESIGN §4): a `samokoder/proposal` opens a diff per
 * file; Accept all / Accept file / Reject with feedback answer it with
 * `samokoder.review.accept` / `samokoder.review.reject`.
 *
 * The server is the authority on whether a proposal can still be accepted: the
 * buttons always ask it, and its refusal (cancelled run, stale file) is shown
 * as it words it. Locally a proposal is forgotten once decided, withdrawn (its
 * run ended) or lost with the server; a notification cannot be withdrawn, so
 * its buttons then say what became of the proposal instead of failing.
 */
import * as vscode from "vscode";
import type { ServerApi } from "./client";
import { closeProposalTabs, diffTarget, openDiff, openProposalDiffs } from "./diffs";
import { isProposalGone, showServerError } from "./errors";
import { Command, REVIEW_PENDING_CONTEXT } from "./ids";
import {
  PendingProposals,
  describeProposal,
  isProposal,
  plural,
  type PendingProposal,
} from "./proposals";
import { ServerCommand, type AcceptResult } from "./protocol";
import type { ProposalContentProvider } from "./proposalContent";
import type { RunProgress } from "./progress";
import type { RunTracker } from "./runs";

/** What became of a proposal that is no longer pending (for its stale buttons). */
type Outcome =
  "accepted" | "rejected" | "withdrawn when its run ended" | "discarded with the server";

export class ReviewController implements vscode.Disposable {
  private readonly pending = new PendingProposals();
  private readonly outcomes = new Map<string, Outcome>();
  /** Runs with a proposal accepted from this window: that accept offered the step's Undo. */
  private readonly acceptedRuns = new Set<string>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly server: ServerApi,
    private readonly content: ProposalContentProvider,
    private readonly runs: RunTracker,
    private readonly progress?: RunProgress,
  ) {}

  list(): PendingProposal[] {
    return this.pending.list();
  }

  pendingFiles(): number {
    return this.pending.files();
  }

  /** `samokoder/proposal`: remember it, open its diffs, offer the decisions. */
  async onProposal(params: unknown): Promise<void> {
    if (!isProposal(params)) {
      return;
    }
    const folder =
      this.runs.get(params.runId)?.folder ?? vscode.workspace.workspaceFolders?.[0]?.uri;
    this.runs.started(params.runId, params.title, folder);
    const proposal: PendingProposal = { ...params, folder };
    this.pending.add(proposal);
    this.update();
    this.progress?.report(params.runId, "waiting for your review");
    await openProposalDiffs(proposal, folder);
    void this.announce(proposal);
  }

  /**
   * A run ended: the server withdrew its proposals. True when a proposal of
   * the run was accepted here (its message already offered the Undo).
   */
  async onRunFinished(runId: string): Promise<boolean> {
    for (const p of this.list().filter((p) => p.runId === runId)) {
      await this.forget(p.proposalId, "withdrawn when its run ended");
    }
    return this.acceptedRuns.delete(runId);
  }

  /** The server is gone and its proposals with it; returns how many were pending. */
  serverLost(): number {
    const count = this.pending.size;
    for (const p of this.pending.list()) {
      void this.forget(p.proposalId, "discarded with the server");
    }
    return count;
  }

  async acceptAll(target?: unknown): Promise<void> {
    const proposalId = await this.pending.choose(target);
    if (proposalId !== undefined) {
      await this.accept(proposalId, undefined);
    }
  }

  /**
   * From a diff's title: accept the file shown. From the palette: pick the
   * files. The server closes a proposal once part of it is accepted, so
   * accepting a subset discards the rest; the user is told before.
   */
  async acceptFile(target?: unknown): Promise<void> {
    const shown = this.pending.fileInFront(target);
    if (shown !== undefined) {
      const proposal = this.pending.get(shown.proposalId);
      const others = (proposal?.files.length ?? 1) - 1;
      if (others > 0) {
        const only = `Accept only ${shown.path}`;
        const answer = await vscode.window.showWarningMessage(
          `Accept only ${shown.path}? The other ${plural(others, "file")} of this proposal will be discarded.`,
          { modal: true },
          only,
        );
        if (answer !== only) {
          return;
        }
      }
      await this.accept(shown.proposalId, [shown.path]);
      return;
    }
    const proposalId = await this.pending.choose(undefined);
    const proposal = proposalId === undefined ? undefined : this.pending.get(proposalId);
    if (proposal === undefined) {
      return;
    }
    const picked = await vscode.window.showQuickPick(
      proposal.files.map((f) => ({
        label: f.path,
        description: `${f.kind} +${f.additions} −${f.deletions}`,
        picked: true,
      })),
      {
        title: `Samokoder: accept files of "${proposal.title}"`,
        placeHolder: "Files to accept; the others are discarded",
        canPickMany: true,
        ignoreFocusOut: true,
      },
    );
    if (picked === undefined || picked.length === 0) {
      return;
    }
    const files = picked.length === proposal.files.length ? undefined : picked.map((p) => p.label);
    await this.accept(proposal.proposalId, files);
  }

  async reject(target?: unknown): Promise<void> {
    const proposalId = await this.pending.choose(target);
    if (proposalId === undefined) {
      return;
    }
    const feedback = await vscode.window.showInputBox({
      title: "Samokoder: reject the proposal",
      prompt:
        "What should change? The feedback goes back to the model for another attempt. Leave it empty to just reject.",
      placeHolder: "e.g. keep the public function names; use pathlib",
      ignoreFocusOut: true,
    });
    if (feedback === undefined) {
      return; // Escape: nothing decided
    }
    const text = feedback.trim();
    try {
      await this.server.executeCommand(
        ServerCommand.reject,
        text ? { proposalId, feedback: text } : { proposalId },
      );
    } catch (error) {
      if (isProposalGone(error)) {
        await this.forget(
          proposalId,
          this.outcomes.get(proposalId) ?? "withdrawn when its run ended",
        );
      }
      await showServerError(error, "Reject");
      return;
    }
    await this.forget(proposalId, "rejected");
    void vscode.window.showInformationMessage(
      text
        ? "Samokoder: rejected; trying again with your feedback."
        : "Samokoder: proposal rejected.",
    );
  }

  /** The review picker: every file's diff, and the three decisions. */
  async showReview(target?: unknown): Promise<void> {
    const proposalId = await this.pending.choose(target);
    const proposal = proposalId === undefined ? undefined : this.pending.get(proposalId);
    if (proposal === undefined) {
      return;
    }
    type Item = vscode.QuickPickItem & { run: () => Promise<void> };
    const items: Item[] = proposal.files.map((f) => ({
      label: `$(diff) ${f.path}`,
      description: `${f.kind} +${f.additions} −${f.deletions}`,
      run: async () => openDiff(await diffTarget(proposal, f, proposal.folder)),
    }));
    items.push(
      { label: "$(check-all) Accept all", run: () => this.accept(proposal.proposalId, undefined) },
      { label: "$(check) Accept some files…", run: () => this.acceptFile() },
      { label: "$(close) Reject with feedback…", run: () => this.reject(proposal.proposalId) },
    );
    const picked = await vscode.window.showQuickPick(items, {
      title: `Samokoder: ${describeProposal(proposal)}`,
      placeHolder: "Open a file's diff, or decide",
    });
    await picked?.run();
  }

  dispose(): void {
    this.changed.dispose();
  }

  private async accept(proposalId: string, files: string[] | undefined): Promise<void> {
    const runId = this.pending.get(proposalId)?.runId;
    if (runId !== undefined) {
      this.acceptedRuns.add(runId);
    }
    let result: AcceptResult;
    try {
      result =
        (await this.server.executeCommand<AcceptResult>(
          ServerCommand.accept,
          files === undefined ? { proposalId } : { proposalId, files },
        )) ?? {};
    } catch (error) {
      if (runId !== undefined) {
        this.acceptedRuns.delete(runId);
      }
      if (isProposalGone(error)) {
        await this.forget(
          proposalId,
          this.outcomes.get(proposalId) ?? "withdrawn when its run ended",
        );
      }
      await showServerError(error, "Accept");
      return;
    }
    await this.forget(proposalId, "accepted");
    if (runId !== undefined) {
      this.progress?.report(runId, "working…");
    }
    const applied = result.applied ?? [];
    // The one Undo offered for this step: it undoes this step or, once it is
    // no longer the last, nothing (the server refuses and says why).
    const undo = "Undo";
    const actions = result.stepId ? [undo] : [];
    const choice = await vscode.window.showInformationMessage(
      `Samokoder applied ${plural(applied.length, "file")}: ${applied.join(", ")}.`,
      ...actions,
    );
    if (choice === undo) {
      await vscode.commands.executeCommand(Command.undo, result.stepId);
    }
  }

  /** A button of a proposal's notification, clicked after it was decided elsewhere. */
  private stillPending(p: PendingProposal): boolean {
    if (this.pending.get(p.proposalId) !== undefined) {
      return true;
    }
    const outcome = this.outcomes.get(p.proposalId) ?? "decided";
    void vscode.window.showInformationMessage(
      `Samokoder: the proposal "${p.title}" was already ${outcome}; nothing more to do.`,
    );
    return false;
  }

  private async announce(p: PendingProposal): Promise<void> {
    const all = "Accept all";
    const some = "Accept some…";
    const reject = "Reject…";
    const actions = p.files.length > 1 ? [all, some, reject] : [all, reject];
    const choice = await vscode.window.showInformationMessage(
      `Samokoder proposes ${describeProposal(p)}`,
      ...actions,
    );
    if (choice === undefined || !this.stillPending(p)) {
      return;
    }
    if (choice === all) {
      await this.accept(p.proposalId, undefined);
    } else if (choice === some) {
      await this.showReview(p.proposalId);
    } else if (choice === reject) {
      await this.reject(p.proposalId);
    }
  }

  private async forget(proposalId: string, outcome: Outcome): Promise<void> {
    if (this.pending.get(proposalId) !== undefined || outcome === "accepted") {
      this.outcomes.set(proposalId, outcome);
      // keep the outcomes of the last 100 only
      for (const old of [...this.outcomes.keys()].slice(0, Math.max(0, this.outcomes.size - 100))) {
        this.outcomes.delete(old);
      }
    }
    this.pending.delete(proposalId);
    this.content.forget(proposalId);
    this.update();
    await closeProposalTabs(proposalId);
  }

  private update(): void {
    void vscode.commands.executeCommand(
      "setContext",
      REVIEW_PENDING_CONTEXT,
      this.pending.size > 0,
    );
    this.changed.fire();
  }
}

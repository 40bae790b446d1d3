/**
 * The proposals waiting for review in this window, and which one a command is
 * about (the one given, the one in front, the only one, or the one picked).
 */
import * as vscode from "vscode";
import { activeProposalUri, fileUri } from "./diffs";
import type { ProposalParams } from "./protocol";
import { parseProposalUri } from "./proposalContent";

export interface PendingProposal extends ProposalParams {
  /** The workspace folder its paths are relative to. */
  folder?: vscode.Uri;
}

export function isProposal(value: unknown): value is ProposalParams {
  const p = value as ProposalParams;
  return (
    typeof p === "object" &&
    p !== null &&
    typeof p.proposalId === "string" &&
    typeof p.runId === "string" &&
    Array.isArray(p.files) &&
    p.files.every((f) => typeof f?.path === "string")
  );
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function describeProposal(p: ProposalParams): string {
  const add = p.files.reduce((sum, f) => sum + (f.additions ?? 0), 0);
  const del = p.files.reduce((sum, f) => sum + (f.deletions ?? 0), 0);
  return `${p.title || "a change"}: ${plural(p.files.length, "file")}, +${add} −${del}`;
}

export interface ShownFile {
  proposalId: string;
  path: string;
}

export class PendingProposals {
  private readonly byId = new Map<string, PendingProposal>();

  add(proposal: PendingProposal): void {
    this.byId.set(proposal.proposalId, proposal);
  }

  get(proposalId: string): PendingProposal | undefined {
    return this.byId.get(proposalId);
  }

  delete(proposalId: string): void {
    this.byId.delete(proposalId);
  }

  list(): PendingProposal[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  files(): number {
    return this.list().reduce((sum, p) => sum + p.files.length, 0);
  }

  /** Proposal and path of a proposal URI, or of a workspace file under a pending proposal. */
  fileShownBy(uri: vscode.Uri): ShownFile | undefined {
    const ref = parseProposalUri(uri);
    if (ref !== undefined) {
      return { proposalId: ref.proposalId, path: ref.path };
    }
    for (const p of this.list()) {
      const file = p.files.find((f) => fileUri(p.folder, f.path)?.toString() === uri.toString());
      if (file !== undefined) {
        return { proposalId: p.proposalId, path: file.path };
      }
    }
    return undefined;
  }

  /** The file a command from a diff's title (or the editor in front) is about. */
  fileInFront(target: unknown): ShownFile | undefined {
    const uri = target instanceof vscode.Uri ? target : activeProposalUri();
    return uri === undefined ? undefined : this.fileShownBy(uri);
  }

  /** The proposal a command is about: given, in front, the only one, or picked. */
  async choose(target: unknown): Promise<string | undefined> {
    if (typeof target === "string" && target) {
      return target;
    }
    const shown = this.fileInFront(target);
    if (shown !== undefined) {
      return shown.proposalId;
    }
    const all = this.list();
    if (all.length === 0) {
      void vscode.window.showInformationMessage("Samokoder: no proposal is waiting for review.");
      return undefined;
    }
    if (all.length === 1) {
      return all[0].proposalId;
    }
    const picked = await vscode.window.showQuickPick(
      all.map((p) => ({ label: p.title, description: describeProposal(p), id: p.proposalId })),
      { placeHolder: "Which proposal?" },
    );
    return picked?.id;
  }
}

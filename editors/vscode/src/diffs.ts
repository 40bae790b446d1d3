/**
 * Diff editors for a proposal: the file as it is now (left) against the
 * proposed content (right), and closing them once the proposal is decided.
 */
import * as vscode from "vscode";
import type { ProposalFileSummary, ProposalParams } from "./protocol";
import { parseProposalUri, proposalUri } from "./proposalContent";

/** More files than this and the rest are opened from the review picker. */
export const MAX_OPENED_DIFFS = 8;

export interface DiffTarget {
  left: vscode.Uri;
  right: vscode.Uri;
  title: string;
}

/** The workspace file a proposal path names, when the folder is known. */
export function fileUri(folder: vscode.Uri | undefined, path: string): vscode.Uri | undefined {
  return folder === undefined ? undefined : vscode.Uri.joinPath(folder, ...path.split("/"));
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())) {
    return true;
  }
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/**
 * Left: the live file, so the diff shows what accepting would change now;
 * the proposal's original text when the file is gone (deleted since, or a
 * file the proposal creates). Right: the proposed content.
 */
export async function diffTarget(
  proposal: ProposalParams,
  file: ProposalFileSummary,
  folder: vscode.Uri | undefined,
): Promise<DiffTarget> {
  const right = proposalUri(proposal.proposalId, file.path, "proposed");
  const live = fileUri(folder, file.path);
  const onDisk = live !== undefined && (await exists(live));
  const left = onDisk ? live : proposalUri(proposal.proposalId, file.path, "original");
  let note = "";
  if (file.kind === "create") {
    note = onDisk ? " (new file; it exists now)" : " (new file)";
  } else if (file.kind === "delete") {
    note = " (deleted by the proposal)";
  } else if (!onDisk) {
    note = " (deleted since the proposal was made)";
  }
  return { left, right, title: `${file.path}: current ↔ Samokoder${note}` };
}

export async function openDiff(target: DiffTarget, preserveFocus = false): Promise<void> {
  await vscode.commands.executeCommand("vscode.diff", target.left, target.right, target.title, {
    preview: false,
    preserveFocus,
  });
}

/** Open the first files' diffs, leaving the first one in front. */
export async function openProposalDiffs(
  proposal: ProposalParams,
  folder: vscode.Uri | undefined,
): Promise<DiffTarget[]> {
  const targets: DiffTarget[] = [];
  for (const file of proposal.files.slice(0, MAX_OPENED_DIFFS)) {
    const target = await diffTarget(proposal, file, folder);
    await openDiff(target, targets.length > 0);
    targets.push(target);
  }
  if (targets.length > 1) {
    await openDiff(targets[0]);
  }
  return targets;
}

/** Close every editor showing this proposal's contents. */
export async function closeProposalTabs(proposalId: string): Promise<void> {
  const ours = (uri: vscode.Uri): boolean => parseProposalUri(uri)?.proposalId === proposalId;
  const tabs = vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .filter((tab) => {
      const input = tab.input;
      if (input instanceof vscode.TabInputTextDiff) {
        return ours(input.modified) || ours(input.original);
      }
      if (input instanceof vscode.TabInputText) {
        return ours(input.uri);
      }
      return false;
    });
  if (tabs.length > 0) {
    await vscode.window.tabGroups.close(tabs, true);
  }
}

/** The proposal URI of the editor in front, when it shows a proposal. */
export function activeProposalUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup?.activeTab?.input;
  if (input instanceof vscode.TabInputTextDiff) {
    if (parseProposalUri(input.modified)) {
      return input.modified;
    }
    if (parseProposalUri(input.original)) {
      return input.original;
    }
  }
  const uri = vscode.window.activeTextEditor?.document.uri;
  return uri !== undefined && parseProposalUri(uri) ? uri : undefined;
}

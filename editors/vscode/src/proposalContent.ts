/**
 * The contents a proposal diff shows, served from `samokoder/proposalFile`.
 *
 * URIs look like `samokoder-proposal:/src/app.py?proposal=<id>&side=proposed`:
 * the path keeps the file name (so the diff gets the right language), the
 * query says which proposal and which side. A proposal's files never change,
 * so each is fetched once.
 */
import * as vscode from "vscode";
import type { ServerApi } from "./client";
import { describeError } from "./errors";
import { PROPOSAL_SCHEME } from "./ids";
import { Method, type ProposalFileResult } from "./protocol";

export type Side = "original" | "proposed";

export interface ProposalRef {
  proposalId: string;
  path: string;
  side: Side;
}

export function proposalUri(proposalId: string, path: string, side: Side): vscode.Uri {
  return vscode.Uri.from({
    scheme: PROPOSAL_SCHEME,
    path: `/${path.replace(/^\/+/, "")}`,
    query: new URLSearchParams({ proposal: proposalId, side }).toString(),
  });
}

export function parseProposalUri(uri: vscode.Uri): ProposalRef | undefined {
  if (uri.scheme !== PROPOSAL_SCHEME) {
    return undefined;
  }
  const query = new URLSearchParams(uri.query);
  const proposalId = query.get("proposal");
  const side = query.get("side");
  if (!proposalId || (side !== "original" && side !== "proposed")) {
    return undefined;
  }
  return { proposalId, path: uri.path.replace(/^\/+/, ""), side };
}

export class ProposalContentProvider implements vscode.TextDocumentContentProvider {
  private readonly files = new Map<string, Promise<ProposalFileResult>>();

  constructor(private readonly server: ServerApi) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const ref = parseProposalUri(uri);
    if (ref === undefined) {
      throw new Error(`Samokoder: not a proposal URI: ${uri.toString()}`);
    }
    const file = await this.fetch(ref.proposalId, ref.path);
    return ref.side === "original" ? file.original : file.proposed;
  }

  fetch(proposalId: string, path: string): Promise<ProposalFileResult> {
    const key = `${proposalId}\u0000${path}`;
    let file = this.files.get(key);
    if (file === undefined) {
      file = this.server
        .request<ProposalFileResult>(Method.proposalFile, { proposalId, path })
        .then(
          (result) => ({
            original: result?.original ?? "",
            proposed: result?.proposed ?? "",
            diff: result?.diff ?? "",
          }),
          (error: unknown) => {
            this.files.delete(key); // let a later look try again
            throw new Error(describeError(error, `showing the proposed ${path}`));
          },
        );
      this.files.set(key, file);
    }
    return file;
  }

  /** A decided proposal's contents are not needed any more. */
  forget(proposalId: string): void {
    for (const key of [...this.files.keys()]) {
      if (key.startsWith(`${proposalId}\u0000`)) {
        this.files.delete(key);
      }
    }
  }
}

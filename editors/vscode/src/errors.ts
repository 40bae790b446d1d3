/**
 * Turning JSON-RPC errors into messages a person can act on.
 *
 * The server already words its errors for people (docs/protocol.md, Errors);
 * this module keeps that text, names what was being done, and adds a button
 * where one helps (settings for "no model", a key for a failed model call).
 */
import * as vscode from "vscode";
import { Command } from "./ids";

export const ErrorCode = {
  invalidParams: -32602,
  internal: -32603,
  checkpointConflict: -32001,
  staleProposal: -32002,
  modelFailed: -32003,
  noModel: -32004,
  budget: -32005,
  /** vscode-jsonrpc: the connection closed while a request waited for its answer. */
  pendingResponseRejected: -32097,
  /** vscode-jsonrpc: the connection is not (or no longer) open. */
  connectionInactive: -32096,
} as const;

export interface RpcError {
  code?: number;
  message: string;
  data?: unknown;
}

export function asRpcError(error: unknown): RpcError {
  if (typeof error === "object" && error !== null && "message" in error) {
    const e = error as { code?: unknown; message?: unknown; data?: unknown };
    return {
      code: typeof e.code === "number" ? e.code : undefined,
      message: String(e.message),
      data: e.data,
    };
  }
  return { message: String(error) };
}

const NOT_DEFINED = /Command name '([^']+)' is not defined/;

/** True when the server does not know the command (an older server, a planned command). */
export function isUnknownCommand(error: unknown): boolean {
  const e = asRpcError(error);
  return e.code === ErrorCode.invalidParams && NOT_DEFINED.test(e.message);
}

/** True when the server has no pending proposal with that id any more. */
export function isProposalGone(error: unknown): boolean {
  const e = asRpcError(error);
  return e.code === ErrorCode.invalidParams && /No pending proposal/.test(e.message);
}

export function isConnectionLost(error: unknown): boolean {
  const code = asRpcError(error).code;
  return code === ErrorCode.pendingResponseRejected || code === ErrorCode.connectionInactive;
}

/** One sentence for the user: what failed (`action`) and why. */
export function describeError(error: unknown, action: string): string {
  const e = asRpcError(error);
  const unknown = NOT_DEFINED.exec(e.message);
  if (e.code === ErrorCode.invalidParams && unknown) {
    return (
      `Samokoder: ${action} is not available in this version of the server ` +
      `(it does not define ${unknown[1]} yet). Update samokoder and restart the server.`
    );
  }
  if (isConnectionLost(error)) {
    return `Samokoder: the server stopped before it answered (${action}).`;
  }
  return `Samokoder: ${action} failed: ${e.message}`;
}

/** Show an error from the server, with a button where there is an obvious next step. */
export async function showServerError(error: unknown, action: string): Promise<void> {
  const code = asRpcError(error).code;
  const message = describeError(error, action);
  if (code === ErrorCode.noModel) {
    const open = "Open settings";
    if ((await vscode.window.showErrorMessage(message, open)) === open) {
      await vscode.commands.executeCommand("workbench.action.openSettings", "samokoder.model");
    }
    return;
  }
  if (code === ErrorCode.modelFailed) {
    const setKey = "Set API key…";
    if ((await vscode.window.showErrorMessage(message, setKey)) === setKey) {
      await vscode.commands.executeCommand(Command.setApiKey);
    }
    return;
  }
  await vscode.window.showErrorMessage(message);
}

/**
 * The Samokoder protocol as this extension speaks it (docs/protocol.md).
 * Names live here once so a renamed method is a one-line change.
 */

/** Commands the server answers through `workspace/executeCommand`. */
export const ServerCommand = {
  generate: "samokoder.generate",
  implement: "samokoder.implement",
  editSelection: "samokoder.editSelection",
  fixDiagnostics: "samokoder.fixDiagnostics",
  writeTests: "samokoder.writeTests",
  explain: "samokoder.explain",
  accept: "samokoder.review.accept",
  reject: "samokoder.review.reject",
  cancel: "samokoder.cancel",
  undo: "samokoder.undo",
  redo: "samokoder.redo",
  history: "samokoder.history",
  usage: "samokoder.usage",
} as const;

export const SERVER_COMMAND_IDS: readonly string[] = Object.values(ServerCommand);

/** Commands that start a run and answer `{runId}` at once. */
export const RUN_COMMANDS: ReadonlySet<string> = new Set([
  ServerCommand.generate,
  ServerCommand.implement,
  ServerCommand.editSelection,
  ServerCommand.fixDiagnostics,
  ServerCommand.writeTests,
  ServerCommand.explain,
]);

export const Method = {
  proposal: "samokoder/proposal",
  proposalFile: "samokoder/proposalFile",
  runFinished: "samokoder/runFinished",
  ask: "samokoder/ask",
  executeCommand: "workspace/executeCommand",
  didChangeConfiguration: "workspace/didChangeConfiguration",
} as const;

/** The configuration section the server pulls. */
export const CONFIG_SECTION = "samokoder";

export type FileKind = "create" | "modify" | "delete";

export interface ProposalFileSummary {
  path: string;
  kind: FileKind;
  additions: number;
  deletions: number;
}

export interface ProposalParams {
  proposalId: string;
  runId: string;
  title: string;
  files: ProposalFileSummary[];
}

export interface ProposalFileResult {
  original: string;
  proposed: string;
  diff: string;
}

export interface Usage {
  promptTokens?: number;
  completionTokens?: number;
  costUsd?: number;
  requests?: number;
}

export type RunStatus = "succeeded" | "failed" | "rejected" | "cancelled";

export interface RunFinishedParams {
  runId: string;
  status: RunStatus | string;
  summary?: string;
  steps?: string[];
  usage?: Usage;
  error?: string;
  text?: string;
}

export interface AskParams {
  question: string;
  choices?: string[] | null;
  freeText?: boolean;
}

export interface AskResult {
  answer: string | null;
}

export interface RunStarted {
  runId: string;
}

export interface StepResult {
  stepId?: string;
  target?: string;
  files?: string[];
}

export interface AcceptResult {
  applied?: string[];
  stepId?: string;
}

export interface HistoryStep {
  stepId: string;
  runId?: string | null;
  kind?: string;
  target?: string | null;
  agent?: string;
  summary?: string;
  commit?: string;
  model?: string | null;
  tokens?: number | null;
  createdAt?: number | string;
  files?: { path: string; change: string }[];
}

export interface HistoryCommand {
  id?: string | number;
  runId?: string | null;
  command?: string;
  argv?: string[];
  cwd?: string;
  status?: string;
  exitCode?: number | null;
  durationMs?: number | null;
  output?: string;
  truncatedBytes?: number;
  sandboxed?: boolean;
  message?: string | null;
  createdAt?: number | string;
}

export interface UsageTotals extends Usage {
  runId?: string | null;
  agent?: string;
  model?: string;
}

export interface UsageResult {
  total?: Usage;
  byRun?: UsageTotals[];
  byAgent?: UsageTotals[];
  byModel?: UsageTotals[];
}

export function isRunStarted(value: unknown): value is RunStarted {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { runId?: unknown }).runId === "string"
  );
}

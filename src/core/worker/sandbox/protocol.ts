import type { TaskIsolation } from '../../define-task.ts';
import type { JsonValue } from '../../json.ts';
import type { TaskErrorInfo } from '../../task-record.ts';
import type { RunResult } from '../run-handler.ts';

/** What the worker asks a sandbox to do: run one task of the module that defines it. */
export interface RunRequest {
  type: 'run';
  /** The defining module's URL (`TaskOptions.module` as stored). */
  module: string;
  name: string;
  args: JsonValue;
  context: { taskId: string; attempt: number; workerId: string };
}

/** What a sandbox answers. */
export type SandboxReply =
  /** The run ended (its result already checked to be JSON, its error already reduced). */
  | { type: 'done'; result: RunResult }
  /** An uncaught exception is ending the sandbox (a child process says so before it exits). */
  | { type: 'crashed'; error: TaskErrorInfo };

/** The kinds of sandbox, as named by `TaskOptions.isolate`. */
export type SandboxKind = TaskIsolation;

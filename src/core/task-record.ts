import type { EnvelopeFields } from './envelope.ts';
import type { JsonValue } from './json.ts';
import type { UnsetOption } from './unset-options.ts';

/** Where a task is in its life. `success`, `failed` and `cancelled` are terminal. */
export type TaskStatus = 'queued' | 'processing' | 'retrying' | 'success' | 'failed' | 'cancelled';

/** The statuses a task never leaves. */
export const TERMINAL_STATUSES: readonly TaskStatus[] = ['success', 'failed', 'cancelled'];

/** True when `status` is terminal. */
export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** What a failed task keeps of its error. */
export interface TaskErrorInfo {
  message: string;
  name?: string;
  code?: string;
  stack?: string;
}

/** The stored state of one task (`<prefix>task:<id>`). */
export interface TaskRecord {
  id: string;
  name: string;
  args: JsonValue;
  status: TaskStatus;
  attempt: number;
  maxAttempts: number;
  timeoutMs: number;
  /** The worker holding the claim, or that last held it. */
  worker: string | null;
  submittedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  durationMs: number | null;
  result: JsonValue | null;
  error: TaskErrorInfo | null;
  dedupKey: string | null;
  /** True when the result came from the result cache instead of a run. */
  cached: boolean;
  /** False when the submitter asked for a fresh run, never an answer from the cache. */
  useCache: boolean;
  /** When a `retrying` (or delayed `queued`) task is due to be produced. */
  runAt: number | null;
  /** How many times a worker died while holding this task. */
  losses: number;
  /** Set when a cancel arrived while the task was running. */
  cancelRequested: boolean;
  /**
   * Options the submitter left to the definition (see `TaskEnvelope.unset`), until a
   * worker that knows the task claimed it and wrote its definition's values.
   */
  unset?: UnsetOption[];
  /** The W3C `traceparent` of the submit's producer span, when it was traced. */
  traceparent?: string;
  /**
   * The task's ordering lane (`SubmitOptions.orderingKey`): the lane's tasks run one at a
   * time, in the order of their create (see the README, "Ordering lanes").
   */
  orderingKey?: string;
  /** Its place in its lane, assigned by the store's create: later creates, higher. */
  laneSeq?: number;
  /**
   * Set while it is parked (`queued`, its delivery settled): the group whose turn it waits
   * for, `lane:<ordering key>` or `limit:<task name>[:<concurrency key>]`.
   */
  parkedOn?: string;
  /** Set while it holds a slot of a concurrency group (`limit:<name>[:<key>]`). */
  slot?: string;
  /** `high` or `low` when submitted so (see `SubmitOptions.priority`); absent for normal. */
  priority?: 'high' | 'low';
}

/** The outcome a worker reports for the attempt it holds. */
export type TaskOutcome =
  | { status: 'success'; result: JsonValue; cached?: boolean }
  /** A failure; with `retryAt` (and attempts left) the task waits as `retrying`. */
  | { status: 'failed'; error: TaskErrorInfo; retryAt?: number }
  | { status: 'cancelled' };

/** The `queued` record a claim writes when the envelope's task has no record yet. */
export function recordFromEnvelope(envelope: EnvelopeFields): TaskRecord {
  return {
    id: envelope.id,
    name: envelope.name,
    args: envelope.args,
    status: 'queued',
    attempt: envelope.attempt,
    maxAttempts: envelope.maxAttempts,
    timeoutMs: envelope.timeoutMs,
    worker: null,
    submittedAt: envelope.submittedAt,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    result: null,
    error: null,
    dedupKey: envelope.dedupKey,
    cached: false,
    useCache: true,
    runAt: null,
    losses: 0,
    cancelRequested: false,
    ...(envelope.unset !== undefined && envelope.unset.length > 0
      ? { unset: [...envelope.unset] }
      : {}),
    // The submit's trace, for every attempt: the memory store keeps it as it is.
    ...(envelope.traceparent === undefined ? {} : { traceparent: envelope.traceparent }),
    ...(envelope.orderingKey === undefined ? {} : { orderingKey: envelope.orderingKey }),
  };
}

import type { TaskErrorInfo, TaskOutcome, TaskRecord } from './task-record.ts';
import type { OptionFill } from './unset-options.ts';

/** Something that happens to a task; the store applies it atomically through {@link decide}. */
export type TaskEvent =
  | {
      type: 'claim';
      workerId: string;
      attempt: number;
      now: number;
      /** The definition's values of options the submitter left unset, written now. */
      fill?: OptionFill;
      /**
       * Set when the claimer holds other tasks: a task with this many losses or more
       * must run alone, so it is refused (`run-alone`) rather than claimed beside them.
       */
      loneLosses?: number;
    }
  | { type: 'finish'; workerId: string; attempt: number; now: number; outcome: TaskOutcome }
  /** A user cancels: waiting tasks end at once, a running one is asked to stop. */
  | { type: 'cancel'; now: number }
  /** The reaper found the holder `workerId` dead. */
  | { type: 'requeue'; workerId: string; now: number; maxLosses: number }
  /** The scheduler produced the waiting `attempt` to the task log. */
  | { type: 'promote'; attempt: number; now: number }
  /** A user retries a failed or cancelled task: one more attempt. */
  | { type: 'resubmit'; now: number };

/** Why an event was refused. */
export type RefusalReason =
  | 'missing'
  /** A claim of an envelope older than the record retention whose record is gone. */
  | 'expired'
  | 'terminal'
  | 'stale-attempt'
  | 'held'
  /** A claim by a worker holding other tasks of a task that must run alone (see `loneLosses`). */
  | 'run-alone'
  | 'not-holder'
  | 'not-waiting'
  | 'not-retryable'
  /** A requeue found the holder's heartbeat alive again (a store check, not a decide() rule). */
  | 'alive'
  /**
   * A claim of a task whose turn has not come in its ordering lane: the store parked it and
   * hands it on when its turn comes (a store check after the decide() rules).
   */
  | 'parked';

/** The result of {@link decide}: the next record, or why nothing changes. */
export type Transition = { ok: true; record: TaskRecord } | { ok: false; reason: RefusalReason };

/**
 * Whether an envelope without a record is one whose record ended and expired: submitted
 * longer ago than the retention of finished records. Such a message (redelivered after a
 * rebalance, or replayed) is not a new task; a claim refuses it as `expired`.
 */
export function isExpired(
  envelope: { submittedAt: number },
  now: number,
  retentionMs: number,
): boolean {
  return envelope.submittedAt < now - retentionMs;
}

/** The error a task ends with when workers keep dying while running it. */
export function workerLostError(losses: number, workerId: string): TaskErrorInfo {
  return {
    name: 'WorkerLostError',
    code: 'WORKER_LOST',
    message: `worker lost: ${losses} worker(s) died while running this task (last: ${workerId}); not recovered again`,
  };
}

const CANCELLED: TaskErrorInfo = {
  name: 'YadtqError',
  code: 'TASK_CANCELLED',
  message: 'cancelled',
};

/**
 * The task state machine, written once. The memory store calls it directly; the Redis
 * Lua scripts implement the same table and the contract suite proves that they agree.
 *
 * - claim: `queued`/`retrying` of the same attempt becomes `processing` under the
 *   claiming worker (a `processing` task is refused, whether its holder lives or not).
 * - finish: only the worker holding the claim on that attempt may write the outcome; a
 *   failure with `retryAt` and attempts left becomes `retrying` with the next attempt. A
 *   task whose cancel was requested ends `cancelled` whatever the outcome: a cancel
 *   answered true is never lost, even when its message missed the worker.
 * - cancel: `queued`/`retrying` end `cancelled`; `processing` is marked for the holder.
 * - requeue: a dead holder's task goes back to `queued` (or ends after too many losses).
 * - promote: a due `retrying` (or delayed) task becomes `queued` once produced.
 * - resubmit: a `failed` or `cancelled` task gets one more attempt.
 */
export function decide(record: TaskRecord | null, event: TaskEvent): Transition {
  if (record === null) return { ok: false, reason: 'missing' };
  const terminal =
    record.status === 'success' || record.status === 'failed' || record.status === 'cancelled';
  if (event.type === 'resubmit') {
    if (record.status !== 'failed' && record.status !== 'cancelled')
      return { ok: false, reason: 'not-retryable' };
    const attempt = record.attempt + 1;
    return {
      ok: true,
      record: {
        ...record,
        status: 'queued',
        attempt,
        maxAttempts: Math.max(record.maxAttempts, attempt),
        startedAt: null,
        finishedAt: null,
        durationMs: null,
        result: null,
        error: null,
        cached: false,
        runAt: null,
        losses: 0,
        cancelRequested: false,
      },
    };
  }
  if (terminal) return { ok: false, reason: 'terminal' };
  switch (event.type) {
    case 'cancel':
      if (record.status === 'processing')
        return { ok: true, record: { ...record, cancelRequested: true } };
      return endAs(record, event.now, 'cancelled', CANCELLED);
    case 'requeue': {
      if (record.status !== 'processing' || record.worker !== event.workerId)
        return { ok: false, reason: 'not-holder' };
      const losses = record.losses + 1;
      if (record.cancelRequested)
        return endAs({ ...record, losses }, event.now, 'cancelled', CANCELLED);
      if (losses >= event.maxLosses) {
        return endAs(
          { ...record, losses },
          event.now,
          'failed',
          workerLostError(losses, event.workerId),
        );
      }
      return { ok: true, record: { ...record, status: 'queued', startedAt: null, losses } };
    }
    case 'promote':
      if (record.attempt !== event.attempt) return { ok: false, reason: 'stale-attempt' };
      if (record.status !== 'retrying' && record.status !== 'queued')
        return { ok: false, reason: 'not-waiting' };
      return { ok: true, record: { ...record, status: 'queued', runAt: null } };
    case 'claim':
      if (record.attempt !== event.attempt) return { ok: false, reason: 'stale-attempt' };
      // Even a dead holder's task is not taken over here: the reaper recovers it, counting
      // the loss, so a task that kills its workers ends after `maxLosses`.
      if (record.status === 'processing') return { ok: false, reason: 'held' };
      if (event.loneLosses !== undefined && record.losses >= event.loneLosses)
        return { ok: false, reason: 'run-alone' };
      return {
        ok: true,
        record: {
          ...filled(record, event.fill),
          status: 'processing',
          worker: event.workerId,
          startedAt: event.now,
          finishedAt: null,
          durationMs: null,
          runAt: null,
        },
      };
    case 'finish':
      if (record.attempt !== event.attempt) return { ok: false, reason: 'stale-attempt' };
      if (record.status !== 'processing' || record.worker !== event.workerId) {
        return { ok: false, reason: 'not-holder' };
      }
      return {
        ok: true,
        record: finished(
          record,
          record.cancelRequested ? { status: 'cancelled' } : event.outcome,
          event.now,
        ),
      };
  }
}

/**
 * Whether `record` already holds this very finish: the outcome of `attempt` that
 * `workerId` stored at `now` (a `failed` one with a retry waits as `retrying` with the
 * next attempt). A finish sent again after its reply was lost (Redis clients resend
 * commands across a reconnect) is then answered as done, not as refused.
 */
export function holdsFinish(
  record: TaskRecord | null,
  step: { workerId: string; attempt: number; now: number; status: TaskOutcome['status'] },
): boolean {
  if (record === null || record.worker !== step.workerId || record.finishedAt !== step.now)
    return false;
  if (record.status === 'retrying')
    return step.status === 'failed' && record.attempt === step.attempt + 1;
  return record.status === step.status && record.attempt === step.attempt;
}

/** The record with the definition's values of its unset options (the marks then go). */
function filled(record: TaskRecord, fill: OptionFill | undefined): TaskRecord {
  if (fill === undefined) return record;
  const { unset: _written, ...rest } = record;
  return { ...rest, ...fill };
}

/** Ends a task that was not finished by its worker (cancelled, or lost with its workers). */
function endAs(
  record: TaskRecord,
  now: number,
  status: 'cancelled' | 'failed',
  error: TaskErrorInfo,
): Transition {
  const durationMs = record.startedAt === null ? null : now - record.startedAt;
  return {
    ok: true,
    record: { ...record, status, error, finishedAt: now, durationMs, runAt: null },
  };
}

function finished(record: TaskRecord, outcome: TaskOutcome, now: number): TaskRecord {
  const startedAt = record.startedAt ?? now;
  const base = { ...record, finishedAt: now, durationMs: now - startedAt };
  switch (outcome.status) {
    case 'success':
      return {
        ...base,
        status: 'success',
        result: outcome.result,
        error: null,
        cached: outcome.cached === true,
      };
    case 'cancelled':
      return { ...base, status: 'cancelled', result: null, error: CANCELLED, cached: false };
    case 'failed':
      if (outcome.retryAt !== undefined && record.attempt < record.maxAttempts) {
        return {
          ...base,
          status: 'retrying',
          attempt: record.attempt + 1,
          runAt: outcome.retryAt,
          result: null,
          error: outcome.error,
          cached: false,
        };
      }
      return { ...base, status: 'failed', result: null, error: outcome.error, cached: false };
  }
}

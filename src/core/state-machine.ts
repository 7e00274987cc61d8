import type { TaskOutcome, TaskRecord } from './task-record.ts';

/** Something that happens to a task; the store applies it atomically through {@link decide}. */
export type TaskEvent =
  | {
      type: 'claim';
      workerId: string;
      attempt: number;
      now: number;
      /** Whether the worker that holds a `processing` task still has a live heartbeat. */
      holderAlive: boolean;
    }
  | { type: 'finish'; workerId: string; attempt: number; now: number; outcome: TaskOutcome };

/** Why an event was refused. */
export type RefusalReason =
  | 'missing'
  | 'terminal'
  | 'stale-attempt'
  | 'held-by-live-worker'
  | 'not-holder';

/** The result of {@link decide}: the next record, or why nothing changes. */
export type Transition = { ok: true; record: TaskRecord } | { ok: false; reason: RefusalReason };

/**
 * The task state machine, written once. The memory store calls it directly; the Redis
 * Lua scripts implement the same table and the contract suite proves that they agree.
 *
 * - claim: `queued`/`retrying` of the same attempt, or `processing` of the same attempt
 *   whose holder is dead, becomes `processing` under the claiming worker.
 * - finish: only the worker holding the claim on that attempt may write the outcome.
 */
export function decide(record: TaskRecord | null, event: TaskEvent): Transition {
  if (record === null) return { ok: false, reason: 'missing' };
  if (record.status === 'success' || record.status === 'failed' || record.status === 'cancelled') {
    return { ok: false, reason: 'terminal' };
  }
  if (record.attempt !== event.attempt) return { ok: false, reason: 'stale-attempt' };
  switch (event.type) {
    case 'claim':
      if (record.status === 'processing' && event.holderAlive) {
        return { ok: false, reason: 'held-by-live-worker' };
      }
      return {
        ok: true,
        record: { ...record, status: 'processing', worker: event.workerId, startedAt: event.now },
      };
    case 'finish': {
      if (record.status !== 'processing' || record.worker !== event.workerId) {
        return { ok: false, reason: 'not-holder' };
      }
      const { outcome } = event;
      const startedAt = record.startedAt ?? event.now;
      return {
        ok: true,
        record: {
          ...record,
          status: outcome.status,
          finishedAt: event.now,
          durationMs: event.now - startedAt,
          result: outcome.status === 'success' ? outcome.result : null,
          error: outcome.status === 'failed' ? outcome.error : null,
          cached: outcome.status === 'success' && outcome.cached === true,
        },
      };
    }
  }
}

import type { Broker, Delivery } from '../broker.ts';
import { DLQ_HEADERS, deadLetterTask } from '../dead-letter.ts';
import type { TaskDefinition } from '../define-task.ts';
import { decodeEnvelope, type TaskEnvelope } from '../envelope.ts';
import { YadtqError } from '../errors.ts';
import type { JsonValue } from '../json.ts';
import type { Logger } from '../logger.ts';
import type { StatsRecorder } from '../stats.ts';
import type { ClaimOutcome, Store } from '../store.ts';
import type { TaskOutcome, TaskRecord } from '../task-record.ts';
import { fillFromDefinition } from '../unset-options.ts';
import { backoffDelay } from './retry-policy.ts';
import { errorInfo, runHandler } from './run-handler.ts';

/** What the processor needs from its worker. */
export interface ProcessorContext {
  workerId: string;
  broker: Broker;
  store: Store;
  tasks: ReadonlyMap<string, TaskDefinition>;
  logger: Logger;
  stats: StatsRecorder | undefined;
  /** Running tasks by id, so a cancel can reach them. */
  running: Map<string, AbortController>;
  /** Attempts this worker is claiming, or claimed and has not finished ({@link attemptKey}). */
  claimed: Set<string>;
}

/** How a delivery ended, for the worker's counters. */
export type Processed =
  | 'success'
  | 'failed'
  | 'retrying'
  | 'cancelled'
  | 'skipped'
  | 'dead-lettered'
  | 'unsettled';

/**
 * One delivery, start to end: decode (malformed → dead-letter topic), then
 * {@link processEnvelope}. A store or broker error leaves the delivery unsettled, so its
 * offset is not committed and it is delivered again.
 */
export async function processDelivery(
  ctx: ProcessorContext,
  delivery: Delivery,
): Promise<Processed> {
  let envelope: TaskEnvelope;
  try {
    envelope = decodeEnvelope(delivery.value);
  } catch (error) {
    return deadLetterMessage(ctx, delivery, error as YadtqError);
  }
  return processEnvelope(ctx, envelope, () => delivery.settle());
}

/**
 * One task attempt, wherever it came from (a delivery, or a dead worker's task taken from
 * the store): claim (refused → skipped), run with timeout and cancel, store the outcome
 * (fenced), dead-letter a task that failed for good, then `settle`. A store or broker
 * error returns 'unsettled' without calling `settle`.
 */
export async function processEnvelope(
  ctx: ProcessorContext,
  envelope: TaskEnvelope,
  settle: () => void,
): Promise<Processed> {
  const fields = { taskId: envelope.id, task: envelope.name, workerId: ctx.workerId };
  const attempt = attemptKey(envelope);
  if (ctx.claimed.has(attempt)) {
    // A second copy of an attempt this worker is handling (e.g. both in one fetch): its
    // claim would be refused as held, and must not pass for one whose reply was lost.
    ctx.logger.debug('delivery skipped', { ...fields, reason: 'held' });
    settle();
    return 'skipped';
  }
  ctx.claimed.add(attempt);
  try {
    const claim = await claimOrResume(ctx, envelope);
    if (!claim.ok) {
      ctx.claimed.delete(attempt);
      ctx.logger.debug('delivery skipped', { ...fields, reason: claim.reason });
      settle();
      return 'skipped';
    }
    const definition = ctx.tasks.get(envelope.name);
    const { outcome, cacheTtlMs } = await run(ctx, claim.record, claim.cachedResult, definition);
    const stored = await ctx.store.finish(envelope.id, {
      workerId: ctx.workerId,
      attempt: envelope.attempt,
      now: Date.now(),
      outcome,
      cacheTtlMs,
    });
    const processed: Processed =
      outcome.status === 'failed' && outcome.retryAt !== undefined ? 'retrying' : outcome.status;
    if (!stored) {
      ctx.logger.warn('outcome refused: the claim was lost', fields);
    } else {
      if (processed === 'failed' && outcome.status === 'failed') {
        await deadLetterTask(
          ctx.broker,
          { ...claim.record, status: 'failed', error: outcome.error },
          'exhausted',
        );
      }
      report(ctx, claim.record, outcome, processed);
      ctx.logger.info(`task ${processed}`, {
        ...fields,
        attempt: envelope.attempt,
        ...(outcome.status === 'failed' ? { error: outcome.error.message } : {}),
      });
    }
    ctx.claimed.delete(attempt);
    settle();
    return stored ? processed : 'skipped';
  } catch (error) {
    ctx.claimed.delete(attempt);
    ctx.logger.error('task handling failed; the delivery stays unsettled', {
      ...fields,
      error: String(error),
    });
    return 'unsettled';
  }
}

/** The key of one attempt of a task in {@link ProcessorContext.claimed}. */
export function attemptKey(envelope: Pick<TaskEnvelope, 'id' | 'attempt'>): string {
  return `${envelope.id}#${envelope.attempt}`;
}

/**
 * Claims the envelope's attempt. A task already `processing` under this worker's own id,
 * for an attempt it is not handling, was claimed by a call whose reply was lost (the
 * Redis client resends commands after a reconnect): that claim is this worker's, so the
 * task is run rather than skipped and left held forever.
 */
async function claimOrResume(ctx: ProcessorContext, envelope: TaskEnvelope): Promise<ClaimOutcome> {
  // A task submitted by name runs with this worker's definition of it (written by the claim).
  const fill = fillFromDefinition(envelope.unset, ctx.tasks.get(envelope.name)?.options);
  const claim = await ctx.store.claim(envelope, ctx.workerId, Date.now(), fill);
  if (claim.ok || claim.reason !== 'held') return claim;
  const record = await ctx.store.get(envelope.id);
  const ours =
    record?.status === 'processing' &&
    record.worker === ctx.workerId &&
    record.attempt === envelope.attempt;
  return ours ? { ok: true, record } : claim;
}

async function run(
  ctx: ProcessorContext,
  record: TaskRecord,
  cachedResult: JsonValue | undefined,
  definition: TaskDefinition | undefined,
): Promise<{ outcome: TaskOutcome; cacheTtlMs: number }> {
  if (record.cancelRequested) return { outcome: { status: 'cancelled' }, cacheTtlMs: 0 };
  if (cachedResult !== undefined)
    return { outcome: { status: 'success', result: cachedResult, cached: true }, cacheTtlMs: 0 };
  if (definition === undefined) {
    const known = [...ctx.tasks.keys()].join(', ') || 'none';
    const error = new YadtqError(
      'UNKNOWN_TASK',
      `unknown task "${record.name}" (this worker knows: ${known})`,
    );
    return { outcome: { status: 'failed', error: errorInfo(error) }, cacheTtlMs: 0 };
  }
  const cancel = new AbortController();
  ctx.running.set(record.id, cancel);
  try {
    const context = { taskId: record.id, attempt: record.attempt, workerId: ctx.workerId };
    const result = await runHandler(
      definition,
      record.args,
      context,
      record.timeoutMs,
      cancel.signal,
    );
    if (result.status !== 'failed')
      return { outcome: result, cacheTtlMs: definition.options.cacheTtlMs ?? 0 };
    const outcome: TaskOutcome = { status: 'failed', error: result.error };
    if (result.retryable && record.attempt < record.maxAttempts) {
      outcome.retryAt = Date.now() + backoffDelay(record.attempt, definition);
    }
    return { outcome, cacheTtlMs: 0 };
  } finally {
    ctx.running.delete(record.id);
  }
}

function report(
  ctx: ProcessorContext,
  record: TaskRecord,
  outcome: TaskOutcome,
  processed: Processed,
): void {
  if (ctx.stats === undefined) return;
  const finishedAt = Date.now();
  const cached = outcome.status === 'success' && outcome.cached === true;
  ctx.stats
    .record({
      taskId: record.id,
      name: record.name,
      workerId: ctx.workerId,
      status: processed as 'success' | 'failed' | 'retrying' | 'cancelled',
      durationMs: cached ? 0 : finishedAt - (record.startedAt ?? finishedAt),
      finishedAt,
      cached,
      ...(outcome.status === 'failed' ? { error: outcome.error.message } : {}),
    })
    .catch((error) =>
      ctx.logger.warn('stats not recorded', { taskId: record.id, error: String(error) }),
    );
}

async function deadLetterMessage(
  ctx: ProcessorContext,
  delivery: Delivery,
  error: YadtqError,
): Promise<Processed> {
  ctx.logger.warn('invalid message sent to the dead-letter topic', {
    workerId: ctx.workerId,
    partition: delivery.partition,
    offset: delivery.offset,
    error: error.message,
  });
  try {
    await ctx.broker.produce('dead-letter', [
      {
        key: delivery.key ?? '',
        value: delivery.value,
        headers: {
          ...delivery.headers,
          [DLQ_HEADERS.reason]: 'invalid-message',
          [DLQ_HEADERS.error]: error.message,
          [DLQ_HEADERS.code]: error.code ?? 'INVALID_MESSAGE',
          [DLQ_HEADERS.sourcePartition]: String(delivery.partition),
          [DLQ_HEADERS.sourceOffset]: String(delivery.offset),
          [DLQ_HEADERS.worker]: ctx.workerId,
        },
      },
    ]);
    delivery.settle();
    return 'dead-lettered';
  } catch (produceError) {
    ctx.logger.error('dead-letter produce failed', {
      workerId: ctx.workerId,
      error: String(produceError),
    });
    return 'unsettled';
  }
}

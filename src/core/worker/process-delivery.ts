import type { TaskTracing } from '../../telemetry/task-tracing.ts';
import type { Broker, Delivery } from '../broker.ts';
import { claimGates } from '../concurrency.ts';
import { deadLetterMessage, deadLetterTask } from '../dead-letter.ts';
import type { TaskDefinition } from '../define-task.ts';
import { encodeEnvelope, type TaskEnvelope } from '../envelope.ts';
import { YadtqError } from '../errors.ts';
import type { JsonValue } from '../json.ts';
import type { Logger } from '../logger.ts';
import type { StatsRecorder } from '../stats.ts';
import type { ClaimOutcome, TaskStore } from '../store.ts';
import type { TaskOutcome, TaskRecord } from '../task-record.ts';
import { fillFromDefinition } from '../unset-options.ts';
import type { StoreHealth } from './health.ts';
import type { LoopClock } from './loop-clock.ts';
import { backoffDelay } from './retry-policy.ts';
import type { RunAlone } from './run-alone.ts';
import { errorInfo, type RunResult, runHandler } from './run-handler.ts';
import type { SandboxPool } from './sandbox/sandbox-pool.ts';
import { GAVE_UP, retryStep, type StepReporter } from './step-retry.ts';
import type { Zombies } from './zombies.ts';

/** What the processor needs from its worker. */
export interface ProcessorContext {
  workerId: string;
  broker: Broker;
  store: Pick<TaskStore, 'claim' | 'finish' | 'get'>;
  tasks: ReadonlyMap<string, TaskDefinition>;
  logger: Logger;
  stats: StatsRecorder | undefined;
  /** Running tasks by id, so a cancel can reach them. */
  running: Map<string, AbortController>;
  /** Attempts this worker is claiming, or claimed and has not finished ({@link attemptKey}). */
  claimed: Set<string>;
  /** Where isolated tasks (`TaskOptions.isolate`) run; without it they run in-loop. */
  sandboxes?: SandboxPool;
  /**
   * Handlers given up at their timeout or cancel that still run: counted against the
   * slots, and the next attempt of their task waits for them. Without it, not tracked.
   */
  zombies?: Pick<Zombies, 'add' | 'has' | 'waitFor'>;
  /** Runs a task one loss from WORKER_LOST alone on this worker; without it, as any other. */
  runAlone?: RunAlone;
  /** Told of every handler run on this event loop, for the heartbeat watchdog. */
  clock?: Pick<LoopClock, 'started' | 'ended'>;
  /** Told of every store step's failure (a beat, not a step, says the store answers again). */
  health: Pick<StoreHealth, 'failed'>;
  /** True once the worker gave up (its stop's grace period is over): failing steps stop retrying. */
  halted(): boolean;
  /** Consumer spans, when `@opentelemetry/api` is installed; without it, none. */
  tracing?: TaskTracing;
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
 * One task attempt, wherever it came from (a delivery, or a dead worker's task taken from
 * the store): claim (refused → skipped; expired → dead-lettered), run with timeout and
 * cancel, store the outcome (fenced), dead-letter a task that failed for good, then
 * `settle`. Each step that fails is retried alone: the claim while `owned()` holds (else
 * the next owner of the delivery claims it), the finish and the dead-letter copy until
 * they answer, since only this worker can finish the task it holds. 'unsettled' means
 * the worker halted (or lost the partition) before the steps were done.
 */
export async function processEnvelope(
  ctx: ProcessorContext,
  envelope: TaskEnvelope,
  settle: () => void,
  owned: () => boolean = () => true,
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
  // Only a beat makes the store count as reachable again (this worker alive to the fleet).
  const store: StepReporter = { logger: ctx.logger, onFailure: () => ctx.health.failed() };
  const whileHeld = () => !ctx.halted();
  const definition = ctx.tasks.get(envelope.name);
  // An isolated task cannot take its worker with it: it never needs to run alone.
  const lone = definition?.options.isolate === undefined ? ctx.runAlone : undefined;
  const others = () => ctx.claimed.size - 1;
  let leave: (() => void) | undefined;
  try {
    if (ctx.zombies?.has(envelope.id)) {
      // Unclaimed meanwhile: if the worker stops first, the next owner runs this attempt.
      ctx.logger.info('the next attempt waits for the zombie handler of its task', fields);
      const timeoutMs =
        fillFromDefinition(envelope.unset, definition?.options)?.timeoutMs ?? envelope.timeoutMs;
      const waited = await ctx.zombies.waitFor(envelope.id, timeoutMs);
      if (waited !== 'returned') return 'unsettled';
    }
    const claimStep = (loneLosses: number | undefined) =>
      retryStep(
        'claim',
        fields,
        () => claimOrResume(ctx, envelope, loneLosses),
        () => whileHeld() && owned(),
        store,
      );
    let claim = await claimStep(lone !== undefined && others() > 0 ? lone.loneLosses : undefined);
    if (claim !== GAVE_UP && !claim.ok && claim.reason === 'run-alone') {
      // One loss from WORKER_LOST: wait unclaimed until this worker holds nothing else, so
      // a killer among those tasks does not count a loss on it too.
      ctx.logger.info('task waits to run alone (one more worker loss would end it)', fields);
      leave = await lone!.enter(others);
      claim = await claimStep(undefined);
    }
    if (claim === GAVE_UP) return 'unsettled';
    if (!claim.ok) {
      if (claim.reason === 'expired') return await deadLetterExpired(ctx, envelope, settle, owned);
      ctx.logger.debug('delivery skipped', { ...fields, reason: claim.reason });
      settle();
      return 'skipped';
    }
    // Claimed while others were starting here: it still runs only once they are done.
    if (leave === undefined && lone?.needs(claim.record.losses)) leave = await lone.enter(others);
    const { outcome, cacheTtlMs } = await run(ctx, claim.record, claim.cachedResult, definition);
    leave?.();
    leave = undefined;
    const now = Date.now();
    const step = { workerId: ctx.workerId, attempt: envelope.attempt, now, outcome, cacheTtlMs };
    const stored = await retryStep(
      'finish',
      fields,
      () => ctx.store.finish(envelope.id, step),
      whileHeld,
      store,
    );
    if (stored === GAVE_UP) return 'unsettled';
    let processed: Processed =
      outcome.status === 'failed' && outcome.retryAt !== undefined ? 'retrying' : outcome.status;
    if (!stored) {
      // Refused: fenced off (the claim was lost), or a requested cancel ended the task.
      const record = await ctx.store.get(envelope.id).catch(() => null);
      if (!cancelledInstead(record, step)) {
        ctx.logger.warn('outcome refused: the claim was lost', fields);
        settle();
        return 'skipped';
      }
      processed = 'cancelled';
      report(ctx, claim.record, { status: 'cancelled' }, processed);
      ctx.logger.info('task cancelled (a cancel was requested; its outcome discarded)', fields);
      settle();
      return processed;
    }
    if (processed === 'failed' && outcome.status === 'failed') {
      const failed = { ...claim.record, status: 'failed' as const, error: outcome.error };
      const sent = await retryStep(
        'dead-letter produce',
        fields,
        () => deadLetterTask(ctx.broker, failed, 'exhausted'),
        whileHeld,
        { logger: ctx.logger },
      );
      if (sent === GAVE_UP) return 'unsettled';
    }
    report(ctx, claim.record, outcome, processed);
    ctx.logger.info(`task ${processed}`, {
      ...fields,
      attempt: envelope.attempt,
      ...(outcome.status === 'failed' ? { error: outcome.error.message } : {}),
    });
    settle();
    return processed;
  } catch (error) {
    ctx.logger.error('task handling failed; the delivery stays unsettled', {
      ...fields,
      error: String(error),
    });
    return 'unsettled';
  } finally {
    leave?.();
    ctx.claimed.delete(attempt);
  }
}

/** Whether a refused finish was a requested cancel that ended the task instead. */
function cancelledInstead(
  record: TaskRecord | null,
  step: { workerId: string; attempt: number; now: number },
): boolean {
  return (
    record !== null &&
    record.status === 'cancelled' &&
    record.cancelRequested &&
    record.worker === step.workerId &&
    record.attempt === step.attempt &&
    record.finishedAt === step.now
  );
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
async function claimOrResume(
  ctx: ProcessorContext,
  envelope: TaskEnvelope,
  loneLosses: number | undefined,
): Promise<ClaimOutcome> {
  // A task submitted by name runs with this worker's definition of it (written by the claim).
  const options = ctx.tasks.get(envelope.name)?.options;
  const fill = fillFromDefinition(envelope.unset, options);
  const gates = claimGates(envelope.name, options, envelope.args, (why) =>
    ctx.logger.error(`${why}; the task counts against the limit of its whole name`, {
      taskId: envelope.id,
      task: envelope.name,
    }),
  );
  const now = Date.now();
  const claim = await ctx.store.claim(envelope, ctx.workerId, now, fill, loneLosses, gates);
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
    const { args, timeoutMs } = record;
    let result: RunResult;
    if (definition.options.isolate !== undefined && ctx.sandboxes !== undefined) {
      // A sandbox is ended at the timeout: it leaves no zombie and cannot block this loop.
      result = await ctx.sandboxes.run(definition, args, context, timeoutMs, cancel.signal);
    } else {
      ctx.clock?.started(attemptKey(record), timeoutMs);
      result = await runHandler(definition, args, context, timeoutMs, cancel.signal, (returned) =>
        ctx.zombies?.add(record, returned),
      ).finally(() => ctx.clock?.ended(attemptKey(record)));
    }
    if (result.status !== 'failed')
      return { outcome: result, cacheTtlMs: definition.options.cacheTtlMs ?? 0 };
    const outcome: TaskOutcome = { status: 'failed', error: result.error };
    if (result.retriable && record.attempt < record.maxAttempts) {
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

/** A message that is not a task envelope: to the dead-letter topic as it came. */
/** A delivery that is not a task envelope, dead-lettered as it came. */
export async function deadLetterInvalid(
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
  const why = {
    reason: 'invalid-message' as const,
    code: error.code ?? 'INVALID_MESSAGE',
    error: error.message,
    workerId: ctx.workerId,
  };
  const sent = await retryStep(
    'dead-letter produce',
    { workerId: ctx.workerId, partition: delivery.partition, offset: delivery.offset },
    () => deadLetterMessage(ctx.broker, delivery, why),
    () => !ctx.halted() && delivery.isOwned(),
    { logger: ctx.logger },
  );
  if (sent === GAVE_UP) return 'unsettled';
  delivery.settle();
  return 'dead-lettered';
}

/**
 * An envelope whose record ended and expired (older than the record retention): not run
 * again, but not dropped in silence either: dead-lettered with reason `expired`.
 */
async function deadLetterExpired(
  ctx: ProcessorContext,
  envelope: TaskEnvelope,
  settle: () => void,
  owned: () => boolean,
): Promise<Processed> {
  const fields = { taskId: envelope.id, task: envelope.name, workerId: ctx.workerId };
  ctx.logger.warn('expired task message sent to the dead-letter topic (its record is gone)', {
    ...fields,
    submittedAt: envelope.submittedAt,
  });
  const why = {
    reason: 'expired' as const,
    code: 'TASK_EXPIRED',
    error: `task ${envelope.id} was submitted at ${new Date(envelope.submittedAt).toISOString()}, longer ago than the record retention; its record is gone, so it is not run again`,
    workerId: ctx.workerId,
    taskId: envelope.id,
  };
  const message = { key: envelope.id, value: encodeEnvelope(envelope), headers: {} };
  const sent = await retryStep(
    'dead-letter produce',
    fields,
    () => deadLetterMessage(ctx.broker, message, why),
    () => !ctx.halted() && owned(),
    { logger: ctx.logger },
  );
  if (sent === GAVE_UP) return 'unsettled';
  settle();
  return 'dead-lettered';
}

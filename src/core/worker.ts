import { hostname } from 'node:os';
import type { Broker, Delivery, Subscription } from './broker.ts';
import { DEFAULTS } from './defaults.ts';
import type { TaskDefinition } from './define-task.ts';
import { decodeEnvelope, type TaskEnvelope } from './envelope.ts';
import { YadtqError } from './errors.ts';
import { type Logger, silentLogger } from './logger.ts';
import type { StatsRecorder } from './stats.ts';
import type { Store, WorkerInfo } from './store.ts';
import type { TaskOutcome } from './task-record.ts';
import { Heartbeat } from './worker/heartbeat.ts';
import { errorInfo, runHandler } from './worker/run-handler.ts';

/** Options of {@link TaskWorker}. */
export interface TaskWorkerOptions {
  /** Unique worker id; a worker refuses to start under an id whose heartbeat is alive. */
  id: string;
  broker: Broker;
  store: Store;
  /** The tasks this worker can run. */
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any argument and result types
  tasks: readonly TaskDefinition<any, any>[];
  /** Tasks run at once, across all partitions. Default `DEFAULTS.concurrency`. */
  concurrency?: number;
  /** Default `DEFAULTS.heartbeatIntervalMs`. */
  heartbeatIntervalMs?: number;
  /** Default `DEFAULTS.heartbeatTtlMs`. */
  heartbeatTtlMs?: number;
  /** Where outcomes are reported for monitoring. Default: nowhere. */
  stats?: StatsRecorder;
  /** How long {@link TaskWorker.stop} lets running tasks finish. Default 10 s. */
  shutdownGraceMs?: number;
  logger?: Logger;
}

const ID = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * Consumes tasks, claims each atomically, runs its handler and stores the outcome,
 * many at once and out of order; every delivery is settled exactly once.
 */
export class TaskWorker {
  readonly id: string;
  #broker: Broker;
  #store: Store;
  #tasks = new Map<string, TaskDefinition>();
  #concurrency: number;
  #heartbeatTtlMs: number;
  #shutdownGraceMs: number;
  #logger: Logger;
  #stats: StatsRecorder | undefined;
  #heartbeat: Heartbeat;
  #subscription: Subscription | undefined;
  #loop: Promise<void> | undefined;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  #startedAt = 0;
  #inFlight = 0;
  #processed = 0;
  #failed = 0;
  #slotFreed: (() => void) | null = null;

  constructor(options: TaskWorkerOptions) {
    if (!options?.broker || !options.store)
      throw new YadtqError('INVALID_OPTION', 'TaskWorker needs a broker and a store');
    if (typeof options.id !== 'string' || !ID.test(options.id)) {
      throw new YadtqError(
        'INVALID_OPTION',
        `worker id ${JSON.stringify(options.id)} must be 1-100 of A-Z a-z 0-9 _ . : -`,
      );
    }
    this.id = options.id;
    this.#broker = options.broker;
    this.#store = options.store;
    for (const task of options.tasks ?? []) {
      if (this.#tasks.has(task.name))
        throw new YadtqError('INVALID_OPTION', `task "${task.name}" is defined twice`);
      this.#tasks.set(task.name, task);
    }
    this.#concurrency = whole('concurrency', options.concurrency ?? DEFAULTS.concurrency, 1);
    const intervalMs = whole(
      'heartbeatIntervalMs',
      options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs,
      1,
    );
    this.#heartbeatTtlMs = whole(
      'heartbeatTtlMs',
      options.heartbeatTtlMs ?? DEFAULTS.heartbeatTtlMs,
      intervalMs + 1,
    );
    this.#shutdownGraceMs = whole('shutdownGraceMs', options.shutdownGraceMs ?? 10_000, 0);
    this.#logger = options.logger ?? silentLogger;
    this.#stats = options.stats;
    this.#heartbeat = new Heartbeat({
      store: this.#store,
      describe: () => this.info(),
      intervalMs,
      ttlMs: this.#heartbeatTtlMs,
      logger: this.#logger,
    });
  }

  /** Registers the worker id, starts the heartbeat and joins the consumer group. */
  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new YadtqError('INVALID_OPTION', `worker ${this.id} was started already`);
    this.#state = 'running';
    this.#startedAt = Date.now();
    await this.#store.registerWorker(this.info(), this.#heartbeatTtlMs);
    this.#heartbeat.start();
    try {
      this.#subscription = await this.#broker.subscribe(this.id);
    } catch (error) {
      await this.#heartbeat.stop();
      await this.#store.deregisterWorker(this.id).catch(() => {});
      this.#state = 'stopped';
      throw error;
    }
    this.#loop = this.#consume(this.#subscription);
    this.#logger.info('worker started', {
      workerId: this.id,
      concurrency: this.#concurrency,
      tasks: [...this.#tasks.keys()],
    });
  }

  /** Stops fetching, lets running tasks finish (up to the grace period), commits, leaves. */
  async stop(): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    const deadline = Date.now() + this.#shutdownGraceMs;
    while (this.#inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.#subscription?.close();
    await this.#loop;
    await this.#heartbeat.stop();
    // One last beat publishes the final counters; deregistering then marks the worker gone.
    await this.#heartbeat.beat();
    await this.#store.deregisterWorker(this.id).catch(() => {});
    this.#state = 'stopped';
    this.#logger.info('worker stopped', {
      workerId: this.id,
      processed: this.#processed,
      failed: this.#failed,
    });
  }

  /** What the heartbeat publishes. */
  info(): WorkerInfo {
    return {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      startedAt: this.#startedAt,
      lastHeartbeat: Date.now(),
      concurrency: this.#concurrency,
      processed: this.#processed,
      failed: this.#failed,
      inFlight: this.#inFlight,
      partitions: [...(this.#subscription?.assignment() ?? [])],
    };
  }

  async #consume(subscription: Subscription): Promise<void> {
    try {
      for await (const delivery of subscription) {
        // While stopping, a delivery is left unsettled: the next owner of its partition gets it.
        if (this.#state !== 'running') continue;
        this.#inFlight++;
        void this.#handle(delivery).finally(() => {
          this.#inFlight--;
          this.#slotFreed?.();
        });
        while (this.#inFlight >= this.#concurrency) {
          await new Promise<void>((resolve) => {
            this.#slotFreed = resolve;
          });
        }
      }
    } catch (error) {
      this.#logger.error('consuming stopped on an error', {
        workerId: this.id,
        error: String(error),
      });
    }
  }

  async #handle(delivery: Delivery): Promise<void> {
    let envelope: TaskEnvelope;
    try {
      envelope = decodeEnvelope(delivery.value);
    } catch (error) {
      await this.#deadLetter(delivery, error as YadtqError);
      return;
    }
    const fields = { taskId: envelope.id, task: envelope.name, workerId: this.id };
    try {
      const claim = await this.#store.claim(envelope, this.id, Date.now());
      if (!claim.ok) {
        this.#logger.debug('delivery skipped', { ...fields, reason: claim.reason });
        delivery.settle();
        return;
      }
      const definition = this.#tasks.get(envelope.name);
      let outcome: TaskOutcome;
      let cacheTtlMs = 0;
      if (claim.cachedResult !== undefined) {
        outcome = { status: 'success', result: claim.cachedResult, cached: true };
      } else if (definition === undefined) {
        const known = [...this.#tasks.keys()].join(', ') || 'none';
        const error = new YadtqError(
          'UNKNOWN_TASK',
          `unknown task "${envelope.name}" (this worker knows: ${known})`,
        );
        outcome = { status: 'failed', error: errorInfo(error) };
      } else {
        this.#logger.debug('task started', fields);
        cacheTtlMs = definition.options.cacheTtlMs ?? 0;
        const context = { taskId: envelope.id, attempt: envelope.attempt, workerId: this.id };
        outcome = await runHandler(definition, claim.record.args, context, claim.record.timeoutMs);
      }
      const stored = await this.#store.finish(envelope.id, {
        workerId: this.id,
        attempt: envelope.attempt,
        now: Date.now(),
        outcome,
        cacheTtlMs,
      });
      if (stored && outcome.status === 'success') this.#processed++;
      if (stored && outcome.status === 'failed') this.#failed++;
      if (stored) this.#report(envelope, claim.record.startedAt, outcome);
      this.#logger.info(stored ? `task ${outcome.status}` : 'outcome refused: the claim was lost', {
        ...fields,
        ...(outcome.status === 'failed' ? { error: outcome.error.message } : {}),
      });
      delivery.settle();
    } catch (error) {
      // The store could not be reached: leave the delivery unsettled so it is not committed.
      this.#logger.error('task handling failed', { ...fields, error: String(error) });
    }
  }

  #report(envelope: TaskEnvelope, startedAt: number | null, outcome: TaskOutcome): void {
    if (this.#stats === undefined) return;
    const finishedAt = Date.now();
    const cached = outcome.status === 'success' && outcome.cached === true;
    this.#stats
      .record({
        taskId: envelope.id,
        name: envelope.name,
        workerId: this.id,
        status: outcome.status,
        durationMs: cached ? 0 : finishedAt - (startedAt ?? finishedAt),
        finishedAt,
        cached,
        ...(outcome.status === 'failed' ? { error: outcome.error.message } : {}),
      })
      .catch((error) =>
        this.#logger.warn('stats not recorded', { taskId: envelope.id, error: String(error) }),
      );
  }

  async #deadLetter(delivery: Delivery, error: YadtqError): Promise<void> {
    this.#logger.warn('invalid message sent to the dead-letter topic', {
      workerId: this.id,
      partition: delivery.partition,
      offset: delivery.offset,
      error: error.message,
    });
    try {
      await this.#broker.produce('dead-letter', [
        {
          key: delivery.key ?? '',
          value: delivery.value,
          headers: {
            ...delivery.headers,
            'yadtq-error': error.message,
            'yadtq-error-code': error.code ?? 'INVALID_MESSAGE',
            'yadtq-source-partition': String(delivery.partition),
            'yadtq-source-offset': String(delivery.offset),
            'yadtq-worker': this.id,
          },
        },
      ]);
      delivery.settle();
    } catch (produceError) {
      this.#logger.error('dead-letter produce failed', {
        workerId: this.id,
        error: String(produceError),
      });
    }
  }
}

function whole(name: string, value: number, min: number): number {
  if (!(Number.isInteger(value) && value >= min)) {
    throw new YadtqError('INVALID_OPTION', `${name} must be a whole number ≥ ${min}, got ${value}`);
  }
  return value;
}

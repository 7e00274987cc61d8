import { hostname } from 'node:os';
import { loadTaskTracing } from '../../telemetry/task-tracing.ts';
import type { Subscription } from '../broker.ts';
import { DEFAULTS } from '../defaults.ts';
import { envelopeOf } from '../envelope.ts';
import { YadtqError } from '../errors.ts';
import { type Logger, toLogger } from '../logger.ts';
import { Monitor } from '../monitor/monitor.ts';
import { StatsBatcher } from '../stats-batcher.ts';
import type { TaskStore, WorkerInfo, WorkerRegistry } from '../store.ts';
import { BatchedSteps } from './batched-steps.ts';
import { CancelSweep } from './cancel-sweep.ts';
import { consumeDeliveries } from './consume-loop.ts';
import { StoreHealth, type WorkerHealthReport } from './health.ts';
import { Heartbeat } from './heartbeat.ts';
import { Lifecycle } from './lifecycle.ts';
import {
  checkWorkerId,
  resolveWorkerOptions,
  type TaskWorkerOptions,
  tasksByName,
  type WorkerStopReason,
} from './options.ts';
import type { ProcessorContext } from './process-delivery.ts';
import { RecoveryPoller } from './recovery-poller.ts';
import { checkTopicRetention } from './retention-check.ts';
import { RunAlone } from './run-alone.ts';
import { SandboxPool } from './sandbox/sandbox-pool.ts';
import { Slots } from './slots.ts';
import { processBatch, processTraced } from './traced-processing.ts';
import { Zombies } from './zombies.ts';

export type { TaskWorkerOptions, WorkerStopReason } from './options.ts';

/**
 * Consumes tasks, claims each atomically, runs its handler and stores the outcome,
 * many at once and out of order; every delivery is settled exactly once.
 */
export class TaskWorker {
  readonly id: string;
  #context: ProcessorContext;
  #store: TaskStore;
  #registry: WorkerRegistry;
  #concurrency: number;
  #heartbeatTtlMs: number;
  #shutdownGraceMs: number;
  #logger: Logger;
  readonly #tracing: boolean;
  #heartbeat: Heartbeat;
  #stats: StatsBatcher | undefined;
  #monitor: Monitor | undefined;
  #recovery: RecoveryPoller;
  #cancelSweep: CancelSweep;
  #health: StoreHealth;
  /** Set once a stop's grace period is over: steps still failing stop retrying. */
  #halted = false;
  /** Set when consuming ended on an error: the worker is no longer live. */
  #consumeError: string | undefined;
  #subscription: Subscription | undefined;
  #stopCancelListener: (() => Promise<void>) | undefined;
  #stopTurnListener: (() => Promise<void>) | undefined;
  #loop: Promise<void> | undefined;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  readonly #lifecycle: Lifecycle;
  /** When a stop's grace period ends (ms since the epoch). */
  #deadline = 0;
  #startedAt = 0;
  readonly #slots: Slots;
  #zombies: Zombies;
  #stopReason: WorkerStopReason | undefined;
  #stopped: Promise<WorkerStopReason>;
  #markStopped!: (reason: WorkerStopReason) => void;

  constructor(options: TaskWorkerOptions) {
    if (!options?.broker || !options.store || !options.registry || !options.monitorStore)
      throw new YadtqError(
        'INVALID_OPTION',
        'TaskWorker needs a broker, a store, a registry and a monitorStore (a backend has all four)',
      );
    this.id = checkWorkerId(options.id);
    this.#store = options.store;
    this.#registry = options.registry;
    const tasks = tasksByName(options.tasks ?? []);
    const settings = resolveWorkerOptions(options);
    this.#concurrency = settings.concurrency;
    this.#slots = new Slots(settings.concurrency);
    const intervalMs = settings.heartbeatIntervalMs;
    this.#heartbeatTtlMs = settings.heartbeatTtlMs;
    this.#shutdownGraceMs = settings.shutdownGraceMs;
    this.#logger = toLogger(options.logger);
    this.#tracing = options.tracing !== false;
    this.#stopped = new Promise((resolve) => {
      this.#markStopped = resolve;
    });
    const { maxZombies } = settings;
    this.#zombies = new Zombies({
      workerId: this.id,
      limit: Math.min(maxZombies, this.#concurrency - 1),
      logger: this.#logger,
      onLimit: (message) => this.#stopForRestart(message),
      onReturned: () => this.#slots.wake(),
    });
    // Past the heartbeat TTL without an answer the fleet takes this worker for dead.
    this.#health = new StoreHealth({
      boundMs: this.#heartbeatTtlMs,
      logger: this.#logger,
      workerId: this.id,
    });
    // Outcome stats are written about once a second, in one call, not once per task.
    this.#stats =
      options.stats === undefined
        ? undefined
        : StatsBatcher.forWorker(options.stats, this.#logger, this.id);
    this.#context = {
      workerId: this.id,
      broker: options.broker,
      // Claims and finishes of one event-loop turn go to the store as one call each.
      store: new BatchedSteps(options.store),
      tasks,
      logger: this.#logger,
      stats: this.#stats,
      running: new Map(),
      claimed: new Set(),
      sandboxes: new SandboxPool(),
      zombies: this.#zombies,
      runAlone: new RunAlone(
        settings.monitor === false ? DEFAULTS.maxWorkerLosses : settings.monitor.maxWorkerLosses,
      ),
      health: this.#health,
      halted: () => this.#halted,
    };
    this.#heartbeat = new Heartbeat({
      registry: this.#registry,
      describe: () => this.info(),
      intervalMs,
      ttlMs: this.#heartbeatTtlMs,
      watchdog: settings.watchdog,
      hungLoopMarginMs: settings.hungLoopMarginMs,
      logger: this.#logger,
      health: this.#health,
    });
    this.#cancelSweep = new CancelSweep({
      workerId: this.id,
      store: this.#store,
      intervalMs,
      running: this.#context.running,
      logger: this.#logger,
    });
    this.#context.clock = this.#heartbeat.clock;
    this.#recovery = new RecoveryPoller({
      workerId: this.id,
      store: options.monitorStore,
      intervalMs: DEFAULTS.recoveryPollMs,
      leaseMs: DEFAULTS.recoveryLeaseMs,
      freeSlots: () =>
        this.#state === 'running' && this.#health.reachable() && !this.#context.runAlone?.closed
          ? this.#slots.free(this.#zombies.size)
          : 0,
      // Taken from the store, not delivered: there is no offset to settle.
      run: (record) =>
        this.#slots.track(processTraced(this.#context, envelopeOf(record), () => {})),
      logger: this.#logger,
    });
    if (settings.monitor !== false) {
      this.#monitor = new Monitor({
        reapGraceMs: this.#heartbeatTtlMs,
        ...settings.monitor,
        id: this.id,
        broker: options.broker,
        monitorStore: options.monitorStore,
        registry: this.#registry,
        logger: this.#logger,
        ...(options.lag === undefined ? {} : { lag: options.lag }),
        ...(options.schedules === undefined
          ? {}
          : { schedules: { store: options.schedules, tasks: options.store } }),
      });
    }
    this.#lifecycle = this.#steps();
  }

  /**
   * The start, in order, and (last first) the stop: register the id, beat, sweep cancels,
   * monitor, take recovered tasks, listen for cancels, and — before the group join, which
   * can take seconds (or longer while Kafka is down), so a fleet whose members all
   * restarted still reaps the dead ones and runs their tasks — join the consumer group.
   */
  #steps(): Lifecycle {
    const registry = this.#registry;
    return new Lifecycle([
      {
        name: 'register',
        start: () => registry.register(this.info(), this.#heartbeatTtlMs),
        stop: () => registry.deregister(this.id).catch(() => {}),
      },
      {
        name: 'heartbeat',
        start: () => {
          this.#health.ok();
          this.#heartbeat.start();
        },
        // One last beat publishes the final counters; deregistering then marks it gone.
        stop: async () => {
          await this.#heartbeat.stop();
          await this.#heartbeat.beat();
        },
      },
      { name: 'stats', stop: () => this.#stats?.close() },
      {
        name: 'cancel sweep',
        start: () => this.#cancelSweep.start(),
        stop: () => this.#cancelSweep.stop(),
      },
      { name: 'monitor', start: () => this.#monitor?.start(), stop: () => this.#monitor?.stop() },
      {
        name: 'recovery poll',
        start: () => this.#recovery.start(),
        stop: () => this.#recovery.stop(),
      },
      {
        name: 'cancel listener',
        start: async () => {
          this.#stopCancelListener = await this.#store.onCancel((id) => {
            this.#context.running.get(id)?.abort();
          });
        },
        stop: () => this.#stopCancelListener?.().catch(() => {}),
      },
      {
        name: 'turn listener',
        start: async () => {
          this.#stopTurnListener = await this.#store.onTurn(() => this.#recovery.wake());
        },
        stop: () => this.#stopTurnListener?.().catch(() => {}),
      },
      // Tasks taken from the recovering set run even when the group join fails.
      { name: 'running tasks', stop: () => this.#settleRunning() },
      {
        name: 'consumer group',
        start: async () => {
          this.#subscription = await this.#context.broker.subscribe(this.id);
          this.#loop = this.#consume(this.#subscription);
        },
        // Running tasks settle their deliveries before the commit and the leave.
        stop: async () => {
          await this.#settleRunning();
          await this.#subscription?.close();
          await this.#loop;
        },
      },
    ]);
  }

  /** Registers the worker id, starts the heartbeat and monitor, and joins the consumer group. */
  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new YadtqError('INVALID_OPTION', `worker ${this.id} was started already`);
    this.#state = 'running';
    this.#startedAt = Date.now();
    try {
      if (this.#tracing) this.#context.tracing = await loadTaskTracing(this.#context.broker);
      await this.#lifecycle.start();
    } catch (error) {
      this.#state = 'stopping';
      this.#deadline = Date.now() + this.#shutdownGraceMs;
      await this.#lifecycle.stop();
      this.#close();
      throw error;
    }
    await checkTopicRetention(this.#context.broker, this.#logger, this.id);
    const tasks = [...this.#context.tasks.keys()];
    this.#logger.info('worker started', {
      workerId: this.id,
      concurrency: this.#concurrency,
      tasks,
    });
  }

  /** Stops fetching, lets running tasks finish (up to the grace period), commits, leaves. */
  async stop(): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    const reason = this.#stopReason ?? { by: 'request' };
    this.#stopReason = reason;
    this.#deadline = Date.now() + this.#shutdownGraceMs;
    await this.#lifecycle.stop();
    this.#close();
    this.#logger.info('worker stopped', {
      workerId: this.id,
      processed: this.#slots.processed,
      failed: this.#slots.failed,
      ...(this.#zombies.size > 0 ? { zombies: this.#zombies.size } : {}),
    });
    this.#markStopped(reason);
  }

  #close(): void {
    this.#context.sandboxes?.close();
    this.#state = 'stopped';
  }

  /**
   * Waits for running tasks to end, until the stop's deadline; then steps still failing
   * stop retrying: their deliveries stay unsettled (the next owner gets them) and held
   * tasks are recovered by the reaper. Attempts waiting for a zombie are left unclaimed.
   */
  async #settleRunning(): Promise<void> {
    this.#zombies.close();
    this.#slots.wake();
    while (this.#slots.inFlight > 0 && Date.now() < this.#deadline)
      await new Promise((r) => setTimeout(r, 20));
    this.#halted = true;
  }

  /**
   * Resolves once the worker stopped, with why: `{ by: 'request' }` after {@link stop},
   * or `{ by: 'zombies' }` when it stopped by itself because zombie handlers passed
   * `maxZombies`; the process should then exit and be restarted (`yadtq worker` exits 3).
   */
  whenStopped(): Promise<WorkerStopReason> {
    return this.#stopped;
  }

  /** Drains and stops because only a new process ends the zombies; says so once. */
  #stopForRestart(message: string): void {
    if (this.#state !== 'running' || this.#stopReason !== undefined) return;
    this.#stopReason = { by: 'zombies', message, zombies: this.#zombies.size };
    this.#logger.error(message, { workerId: this.id, zombies: this.#zombies.size });
    void this.stop().catch((error) =>
      this.#logger.error('stopping failed', { workerId: this.id, error: String(error) }),
    );
  }

  /**
   * Whether the worker is live (its loop runs) and ready (running, subscribed, and its
   * store answered within the heartbeat TTL), for `/healthz` and `/readyz`.
   */
  health(): WorkerHealthReport {
    const reasons: string[] = [];
    const storeReachable = this.#health.reachable();
    const live = (this.#state === 'running' || this.#state === 'stopping') && !this.#consumeError;
    if (this.#state !== 'running') reasons.push(`worker is ${this.#state}`);
    if (this.#consumeError !== undefined) reasons.push(`consuming stopped: ${this.#consumeError}`);
    if (this.#state === 'running' && this.#subscription === undefined)
      reasons.push('not subscribed to the task log yet');
    if (!storeReachable)
      reasons.push('the store (Redis) has not answered within the heartbeat TTL');
    return { live, ready: live && reasons.length === 0, storeReachable, reasons };
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
      processed: this.#slots.processed,
      failed: this.#slots.failed,
      inFlight: this.#slots.inFlight,
      zombies: this.#zombies.size,
      partitions: [...(this.#subscription?.assignment() ?? [])],
      deadLettered: this.#slots.deadLettered,
    };
  }

  async #consume(subscription: Subscription): Promise<void> {
    try {
      await consumeDeliveries(subscription, {
        running: () => this.#state === 'running',
        freeSlots: () =>
          this.#context.runAlone?.closed ? 0 : this.#slots.free(this.#zombies.size),
        slotFreed: () => this.#slots.freed(),
        whenReachable: () => this.#health.whenReachable(() => this.#state !== 'running'),
        offered: () => this.#recovery.offered,
        takeOffered: () => this.#recovery.poll(),
        // Started in one turn, so the group's claims go to the store as one call.
        start: (deliveries) => {
          processBatch(this.#context, deliveries, (processing) => this.#slots.track(processing));
        },
      });
    } catch (error) {
      this.#consumeError = String(error);
      this.#logger.error('consuming stopped on an error', {
        workerId: this.id,
        error: String(error),
      });
    }
  }
}

import type { Broker } from '../broker.ts';
import { DEFAULTS } from '../defaults.ts';
import { type Logger, type LoggerOption, toLogger } from '../logger.ts';
import { withDefaults } from '../options.ts';
import type { ScheduleStore } from '../schedule/schedule.ts';
import type { LagSnapshot } from '../stats.ts';
import type { MonitorStore, TaskStore, WorkerRegistry } from '../store.ts';
import { Ticker } from '../ticker.ts';
import { fireSchedules } from './fire-schedules.ts';
import { reapDeadWorkers } from './reaper.ts';
import { produceDueTasks, produceLowTasks } from './scheduler.ts';

/**
 * Follower reaps per tick across the whole fleet, about: each follower reaps on a tick
 * with probability FOLLOWER_REAPS / live workers (every tick in a fleet this small or
 * smaller), so a killed leader delays recovery by a tick or so, and a big fleet does not
 * scan the worker list hundreds of times a second.
 */
const FOLLOWER_REAPS = 4;

/** Options of {@link Monitor}. */
export interface MonitorOptions {
  /** This candidate's id (its worker's id). */
  id: string;
  broker: Broker;
  monitorStore: MonitorStore;
  /** The workers and their heartbeats, for the reaper. */
  registry: Pick<WorkerRegistry, 'list'>;
  /** A yadtq `Logger` or a pino-shaped one. */
  logger: LoggerOption;
  /** Default `DEFAULTS.monitorIntervalMs`. */
  intervalMs?: number;
  /** Default `DEFAULTS.leaderTtlMs`. */
  leaderTtlMs?: number;
  /** Default `DEFAULTS.maxWorkerLosses`. */
  maxWorkerLosses?: number;
  /**
   * After this monitor's store failed it, how long to wait before reaping again: every
   * worker lost its heartbeat in the same outage and needs a beat to be alive again, so
   * reaping at once would take their tasks from live workers. Default the heartbeat TTL.
   */
  reapGraceMs?: number;
  /**
   * A store answer waited for longer than this counts as a failure for the grace above:
   * it came from a store that was away (reconnected), and the beats waited as long.
   * Default `DEFAULTS.slowStoreMs`.
   */
  slowStoreMs?: number;
  /**
   * The task log's consumer lag (a backend's `lag`): with it the leader produces waiting
   * low-priority tasks while the backlog is small; without it they wait until their runAt.
   */
  lag?: () => Promise<LagSnapshot>;
  /**
   * The schedules the leader fires, and the task store their tasks are created in; without
   * both no schedule fires from this monitor.
   */
  schedules?: {
    store: Pick<ScheduleStore, 'dueSchedules' | 'advanceSchedule'>;
    tasks: Pick<TaskStore, 'createMany'>;
  };
}

/**
 * Leader election plus the leader's duties. Every worker runs a monitor; the one holding
 * the Redis lock (renewed each tick, TTL `leaderTtlMs`) reaps dead workers every tick and
 * produces due retries and delayed tasks; the others reap too, now and then (every tick
 * in a small fleet), so recovery does not wait for a killed leader's lock to expire. When
 * the leader dies, another takes over within the TTL.
 */
export class Monitor {
  #options: Required<Omit<MonitorOptions, 'logger' | 'lag' | 'schedules'>> &
    Pick<MonitorOptions, 'lag' | 'schedules'> & { logger: Logger };
  readonly #ticker: Ticker;
  #leading = false;
  /** Live workers at the last reap (sets how often a follower reaps). */
  #liveWorkers = 1;
  /** Produces still running (they may outlast a tick while Kafka is down). */
  #background = new Set<Promise<unknown>>();
  /** The low-priority step in progress, if any. */
  #lowTasks: Promise<number> | undefined;
  /** When the store last failed or kept a tick waiting; no reaping until `reapGraceMs` after it. */
  #failedAt = Number.NEGATIVE_INFINITY;

  constructor(options: MonitorOptions) {
    const defaults: Required<Omit<MonitorOptions, 'lag' | 'schedules'>> = {
      ...options,
      intervalMs: DEFAULTS.monitorIntervalMs,
      leaderTtlMs: DEFAULTS.leaderTtlMs,
      maxWorkerLosses: DEFAULTS.maxWorkerLosses,
      reapGraceMs: DEFAULTS.heartbeatTtlMs,
      slowStoreMs: DEFAULTS.slowStoreMs,
    };
    this.#options = { ...withDefaults(defaults, options), logger: toLogger(options.logger) };
    // A slow tick (Redis or Kafka slow) skips the next ones instead of queueing them up.
    this.#ticker = new Ticker(this.#options.intervalMs, () => this.tick());
  }

  start(): void {
    this.#ticker.start();
  }

  /** One round: take or renew the lock; if leading, reap and schedule. */
  async tick(): Promise<void> {
    const { id, monitorStore: store, registry, broker, logger } = this.#options;
    try {
      const asked = Date.now();
      const leading = await store.lead(id, this.#options.leaderTtlMs);
      this.#answered(asked);
      if (leading !== this.#leading) {
        logger.info(leading ? 'became the monitor leader' : 'lost the monitor lead', {
          workerId: id,
        });
      }
      this.#leading = leading;
      const now = Date.now();
      // Requeue is atomic per task, so a second reaper is harmless; followers reap now and
      // then, so a fleet whose leader was just killed does not wait for the lock to expire.
      const settled = now - this.#failedAt >= this.#options.reapGraceMs;
      if (settled && (leading || Math.random() * this.#liveWorkers < FOLLOWER_REAPS)) {
        const { maxWorkerLosses: maxLosses, slowStoreMs: slowMs } = this.#options;
        const background = this.#inBackground;
        const reaped = await reapDeadWorkers({
          store,
          registry,
          broker,
          logger,
          now,
          maxLosses,
          slowMs,
          background,
        });
        if (reaped.slow) this.#keptWaiting();
        this.#liveWorkers = Math.max(1, reaped.liveWorkers);
      }
      const { schedules } = this.#options;
      if (leading && schedules !== undefined) {
        // Before the due step: a tick's task is created due and produced by it, this tick.
        await fireSchedules({ schedules: schedules.store, tasks: schedules.tasks, logger, now });
      }
      if (leading) await produceDueTasks({ store, broker, logger, now });
      const { lag } = this.#options;
      if (leading && lag !== undefined && this.#lowTasks === undefined) {
        // Beside the tick, one at a time: a slow lag read (Kafka) must not hold the lock's
        // renewal or the reaping, and its failure is its own (logged), not the store's.
        this.#lowTasks = produceLowTasks({ store, registry, lag, broker, logger, now }).finally(
          () => {
            this.#lowTasks = undefined;
          },
        );
        this.#inBackground(this.#lowTasks, 'producing low-priority tasks');
      }
    } catch (error) {
      this.#failedAt = Date.now();
      logger.warn('monitor tick failed', { workerId: id, error: String(error) });
    }
  }

  /** A store call asked at `asked` just answered: a late answer counts as an outage. */
  #answered(asked: number): void {
    if (Date.now() - asked > this.#options.slowStoreMs) this.#keptWaiting();
  }

  /** The store kept this tick waiting (it was away): no reaping for the grace from now. */
  #keptWaiting(): void {
    const now = Date.now();
    if (now - this.#failedAt >= this.#options.reapGraceMs) {
      this.#options.logger.info('the store answered late: no reaping until the beats are fresh', {
        workerId: this.#options.id,
      });
    }
    this.#failedAt = now;
  }

  /** Whether this candidate led at its last tick. */
  get leading(): boolean {
    return this.#leading;
  }

  /** Lets `work` run past the tick; a failure is logged (the next tick retries what it can). */
  readonly #inBackground = (work: Promise<unknown>, what: string): void => {
    const { id, logger } = this.#options;
    const tracked: Promise<unknown> = work
      .catch((error) =>
        logger.warn(`monitor: ${what} failed`, { workerId: id, error: String(error) }),
      )
      .finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
  };

  async stop(): Promise<void> {
    await this.#ticker.stop();
    // A produce retrying through a Kafka outage is not waited for long: the recovered tasks
    // are in the store, where live workers take them anyway.
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise((resolve) => {
      timer = setTimeout(resolve, this.#options.leaderTtlMs);
    });
    await Promise.race([Promise.all(this.#background), bound]);
    clearTimeout(timer);
    if (this.#leading) await this.#options.monitorStore.resign(this.#options.id).catch(() => {});
    this.#leading = false;
  }
}

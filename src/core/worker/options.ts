import type { Broker } from '../broker.ts';
import type { TaskDefinition } from '../define-task.ts';
import type { Logger } from '../logger.ts';
import type { MonitorOptions } from '../monitor/monitor.ts';
import type { StatsRecorder } from '../stats.ts';
import type { MonitorStore, TaskStore, WorkerRegistry } from '../store.ts';

/** Options of `TaskWorker`. */
export interface TaskWorkerOptions {
  /** Unique worker id; a worker refuses to start under an id whose heartbeat is alive. */
  id: string;
  broker: Broker;
  /** Task state: claims, outcomes, cancel requests. */
  store: TaskStore;
  /** Where the worker registers and beats (a backend's `registry`). */
  registry: WorkerRegistry;
  /** The monitor's view (a backend's `monitorStore`): reaping, schedules, recovered tasks. */
  monitorStore: MonitorStore;
  /** The tasks this worker can run. */
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any argument and result types
  tasks: readonly TaskDefinition<any, any>[];
  /** Tasks run at once, across all partitions. Default `DEFAULTS.concurrency`. */
  concurrency?: number;
  /** Default `DEFAULTS.heartbeatIntervalMs`. */
  heartbeatIntervalMs?: number;
  /** Default `DEFAULTS.heartbeatTtlMs`. */
  heartbeatTtlMs?: number;
  /**
   * Beat from a watchdog thread where the store offers one (Redis), so a busy handler
   * cannot stop the heartbeat, and end the process when the event loop hangs. Default true.
   */
  watchdog?: boolean;
  /** See `DEFAULTS.hungLoopMarginMs`. */
  hungLoopMarginMs?: number;
  /**
   * Zombie handlers (given up at their timeout or cancel, still running because they
   * ignore their `AbortSignal`) the worker keeps; one more and it drains and stops, to be
   * restarted (`TaskWorker.whenStopped` says why). Each holds a slot until it
   * returns, so at most `concurrency − 1` are kept whatever this says. Default
   * `DEFAULTS.maxZombies`.
   */
  maxZombies?: number;
  /** Where outcomes are reported for monitoring. Default: nowhere. */
  stats?: StatsRecorder;
  /** How long `TaskWorker.stop` lets running tasks finish. Default 10 s. */
  shutdownGraceMs?: number;
  /**
   * The monitor this worker runs as a candidate for leader (reaper and scheduler):
   * settings, or false for none. Default: a monitor with the defaults.
   */
  monitor?: false | Pick<MonitorOptions, 'intervalMs' | 'leaderTtlMs' | 'maxWorkerLosses'>;
  logger?: Logger;
}

/** Why a worker stopped: asked to (`TaskWorker.stop`), or by itself, for a restart. */
export type WorkerStopReason =
  | { by: 'request' }
  /** Too many zombie handlers (`maxZombies`): only a new process ends them. */
  | { by: 'zombies'; message: string; zombies: number };

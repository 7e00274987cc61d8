import type { Broker } from '../broker.ts';
import { DEFAULTS } from '../defaults.ts';
import type { TaskDefinition } from '../define-task.ts';
import { YadtqError } from '../errors.ts';
import type { LoggerOption } from '../logger.ts';
import type { MonitorOptions } from '../monitor/monitor.ts';
import { boolean, check, optional, wholeNumber } from '../options.ts';
import type { ScheduleStore } from '../schedule/schedule.ts';
import type { LagSnapshot, StatsRecorder } from '../stats.ts';
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
  /**
   * The task log's consumer lag (a backend's `lag`): the monitor produces low-priority
   * tasks while the backlog is small. Without it they wait until their runAt.
   */
  lag?: () => Promise<LagSnapshot>;
  /**
   * The schedules (a backend's `schedules`): this worker's monitor, while it leads, creates
   * their tasks at their ticks. Without it no schedule fires from this worker.
   */
  schedules?: Pick<ScheduleStore, 'dueSchedules' | 'advanceSchedule'>;
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
  /** How long `TaskWorker.stop` lets running tasks finish. Default `DEFAULTS.shutdownGraceMs` (10 s). */
  shutdownGraceMs?: number;
  /**
   * The monitor this worker runs as a candidate for leader (reaper and scheduler):
   * settings, or false for none. Default: a monitor with the defaults.
   */
  monitor?: false | Pick<MonitorOptions, 'intervalMs' | 'leaderTtlMs' | 'maxWorkerLosses'>;
  /**
   * Where the worker logs what it does, each record with its `workerId` (and `taskId`):
   * a yadtq `Logger` or a pino-shaped one (`child`, and level methods taking the fields,
   * then the message). Default: silent.
   */
  logger?: LoggerOption;
  /**
   * A consumer span per attempt (claim, run, finish), continuing the submitter's trace,
   * when `@opentelemetry/api` is installed and an SDK registered before `start` (without
   * the package nothing loads). Default true.
   */
  tracing?: boolean;
}

/** Why a worker stopped: asked to (`TaskWorker.stop`), or by itself, for a restart. */
export type WorkerStopReason =
  | { by: 'request' }
  /** Too many zombie handlers (`maxZombies`): only a new process ends them. */
  | { by: 'zombies'; message: string; zombies: number };

/** The monitor settings a worker passes on, every one filled in. */
export type WorkerMonitorSettings = Required<
  Pick<MonitorOptions, 'intervalMs' | 'leaderTtlMs' | 'maxWorkerLosses'>
>;

/** The numbers and switches of {@link TaskWorkerOptions}, defaults filled in and checked. */
export interface ResolvedWorkerOptions {
  concurrency: number;
  heartbeatIntervalMs: number;
  heartbeatTtlMs: number;
  hungLoopMarginMs: number;
  maxZombies: number;
  shutdownGraceMs: number;
  watchdog: boolean;
  /** False for no monitor. */
  monitor: false | WorkerMonitorSettings;
}

/**
 * Fills in the defaults of the worker's own settings (from `DEFAULTS`; an option given
 * as `undefined` keeps its default) and checks each.
 * @throws YadtqError INVALID_OPTION naming the first bad option.
 */
export function resolveWorkerOptions(
  options: Omit<
    TaskWorkerOptions,
    'id' | 'broker' | 'store' | 'registry' | 'monitorStore' | 'tasks'
  >,
): ResolvedWorkerOptions {
  const whole = (name: keyof typeof DEFAULTS & keyof TaskWorkerOptions, min: number) =>
    optional(name, options[name], wholeNumber(min), DEFAULTS[name] as number);
  const heartbeatIntervalMs = whole('heartbeatIntervalMs', 1);
  // The default TTL is checked too: it must outlast a longer interval given alone.
  const heartbeatTtlMs = check(
    'heartbeatTtlMs',
    options.heartbeatTtlMs ?? DEFAULTS.heartbeatTtlMs,
    wholeNumber(heartbeatIntervalMs + 1),
  );
  return {
    concurrency: whole('concurrency', 1),
    heartbeatIntervalMs,
    heartbeatTtlMs,
    hungLoopMarginMs: whole('hungLoopMarginMs', 0),
    maxZombies: whole('maxZombies', 0),
    shutdownGraceMs: whole('shutdownGraceMs', 0),
    watchdog: optional('watchdog', options.watchdog, boolean, true),
    monitor: options.monitor === false ? false : monitorSettings(options.monitor ?? {}),
  };
}

function monitorSettings(
  given: Exclude<TaskWorkerOptions['monitor'], false | undefined>,
): WorkerMonitorSettings {
  const setting = (name: keyof WorkerMonitorSettings, fallback: number) =>
    optional(`monitor.${name}`, given[name], wholeNumber(1), fallback);
  return {
    intervalMs: setting('intervalMs', DEFAULTS.monitorIntervalMs),
    leaderTtlMs: setting('leaderTtlMs', DEFAULTS.leaderTtlMs),
    maxWorkerLosses: setting('maxWorkerLosses', DEFAULTS.maxWorkerLosses),
  };
}

/**
 * The definitions a worker runs, by name.
 * @throws YadtqError INVALID_OPTION when a name is defined twice.
 */
export function tasksByName(tasks: readonly TaskDefinition[]): ReadonlyMap<string, TaskDefinition> {
  const byName = new Map<string, TaskDefinition>();
  for (const task of tasks) {
    if (byName.has(task.name))
      throw new YadtqError('INVALID_OPTION', `task "${task.name}" is defined twice`);
    byName.set(task.name, task);
  }
  return byName;
}

const WORKER_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

/** @throws YadtqError INVALID_OPTION unless `id` is 1-100 of A-Z a-z 0-9 _ . : - */
export function checkWorkerId(id: unknown): string {
  if (typeof id === 'string' && WORKER_ID.test(id)) return id;
  throw new YadtqError(
    'INVALID_OPTION',
    `worker id ${JSON.stringify(id)} must be 1-100 of A-Z a-z 0-9 _ . : -`,
  );
}

// Per-task figures of a run from the counters the client and the worker processes keep:
// Redis requests counted at the client (bench/lib/redis-traffic.ts) and the handlers
// running at once (sampled every 100 ms in each worker process).
import type { WorkerReport } from '../worker-process.ts';
import { median, type Snapshot } from './context.ts';
import type { RedisTraffic } from './redis-traffic.ts';

/** Redis requests per task, counted where they are sent. */
export interface RedisPerTask {
  /** Request flushes (a pipeline or auto-pipelined batch is one), client + workers. */
  roundTrips: number;
  /** Top-level commands sent (an EVALSHA is one), client + workers. */
  commands: number;
  client: { roundTrips: number; commands: number };
  workers: { roundTrips: number; commands: number };
  /** Top-level commands per task by name, client + workers. */
  byCommand: Record<string, number>;
}

const EMPTY: RedisTraffic = { roundTrips: 0, commands: 0, byCommand: {} };

function minus(after: RedisTraffic, before: RedisTraffic): RedisTraffic {
  const byCommand: Record<string, number> = {};
  for (const [name, n] of Object.entries(after.byCommand)) {
    const delta = n - (before.byCommand[name] ?? 0);
    if (delta > 0) byCommand[name] = delta;
  }
  return {
    roundTrips: after.roundTrips - before.roundTrips,
    commands: after.commands - before.commands,
    byCommand,
  };
}

function plus(a: RedisTraffic, b: RedisTraffic): RedisTraffic {
  const byCommand = { ...a.byCommand };
  for (const [name, n] of Object.entries(b.byCommand)) byCommand[name] = (byCommand[name] ?? 0) + n;
  return { roundTrips: a.roundTrips + b.roundTrips, commands: a.commands + b.commands, byCommand };
}

/**
 * The client's traffic between two snapshots plus each worker's between its report when
 * the run began (`ready`) and its report when the last task was done (`atDone`).
 */
export function redisPerTask(
  start: Snapshot,
  after: Snapshot,
  ready: Array<WorkerReport | undefined>,
  atDone: Array<WorkerReport | undefined>,
  tasks: number,
): RedisPerTask {
  const per = (n: number): number => Number((n / tasks).toFixed(3));
  const client = minus(after.clientRedis, start.clientRedis);
  const workers = atDone
    .map((r, i) => minus(r?.redis ?? EMPTY, ready[i]?.redis ?? EMPTY))
    .reduce(plus, EMPTY);
  const all = plus(client, workers);
  return {
    roundTrips: per(all.roundTrips),
    commands: per(all.commands),
    client: { roundTrips: per(client.roundTrips), commands: per(client.commands) },
    workers: { roundTrips: per(workers.roundTrips), commands: per(workers.commands) },
    byCommand: Object.fromEntries(
      Object.entries(all.byCommand)
        .map(([name, n]) => [name, per(n)] as const)
        .filter(([, n]) => n >= 0.001),
    ),
  };
}

/** Handlers running at once in each worker process during the measured window. */
export interface BusyFigures {
  /** Per worker process: the median of its samples of handlers running. */
  medianRunning: number[];
  /** Per worker process: the median of its samples of jobs started and not yet stored done. */
  medianInFlight: number[];
  /** Per worker process: [ms since the window began, running, in flight] every 100 ms. */
  timeline: Array<Array<[number, number, number]>>;
}

/** The samples of each worker's last report that fall between `from` and `to` (wall clock). */
export function busyFigures(
  reports: Array<WorkerReport | undefined>,
  from: number,
  to: number,
): BusyFigures {
  const timeline = reports.map((r) =>
    (r?.timeline ?? [])
      .filter(([at]) => at >= from && at <= to)
      .map(([at, running, inFlight]): [number, number, number] => [at - from, running, inFlight]),
  );
  const med = (values: number[]): number => (values.length === 0 ? 0 : median(values));
  return {
    medianRunning: timeline.map((samples) => med(samples.map((s) => s[1]))),
    medianInFlight: timeline.map((samples) => med(samples.map((s) => s[2]))),
    timeline,
  };
}

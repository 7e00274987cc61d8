import {
  type BenchContext,
  type Cost,
  cost,
  diffCounts,
  freshRun,
  median,
  snapshot,
  sumCounts,
  workerSpecs,
} from '../lib/context.ts';
import { Fleet } from '../lib/fleet.ts';
import { type BusyFigures, busyFigures, type RedisPerTask, redisPerTask } from '../lib/per-task.ts';
import { loadAdapter, type QueueName } from '../queues/types.ts';

export interface ThroughputOptions {
  tasks: number;
  runs: number;
  workerCounts: number[];
  concurrency: number;
  /** Jobs per bulk call. */
  batch: number;
  /** Add every job before the workers start; time first → last outcome (drain mode). */
  prefill?: boolean;
  /** Extra node flags for the worker processes (e.g. --cpu-prof). */
  workerExecArgv?: string[];
  /** Sleep of each job in ms. Default 0 (a no-op). */
  jobMs?: number;
  /** One unmeasured round of every queue before the measured ones. Default false. */
  warmup?: boolean;
}

export interface ThroughputRun {
  queue: QueueName;
  workers: number;
  /** Round number; 0 is the unmeasured warm-up. */
  run: number;
  tasks: number;
  concurrency: number;
  jobMs: number;
  /** First add to last stored outcome. */
  ms: number;
  submitMs: number;
  jobsPerSec: number;
  workerRssMaxMb: number[];
  cost: Cost;
  /** Kafka requests per 1,000 tasks (client + workers), by API. */
  kafkaRequestsPer1000: Record<string, number>;
  /** Tasks per CPU second of every process (client, workers, Redis, Kafka). */
  jobsPerCpuSecond: number;
  /** Redis requests per task counted at the client (round trips, top-level commands). */
  redisPerTask: RedisPerTask;
  /** Handlers running at once in each worker process, sampled every 100 ms. */
  busy: BusyFigures;
}

/**
 * One measured run: workers up, then `tasks` no-op jobs added in bulk, until all are done.
 * With `prefill` (the drain mode) every job is added first with no worker running; the
 * workers then start and the time is their first → last stored outcome, so the client
 * neither competes for the CPU nor paces the workers, and the costs are the workers' alone.
 */
export async function throughputRun(
  context: BenchContext,
  queue: QueueName,
  workers: number,
  run: number,
  options: ThroughputOptions,
): Promise<ThroughputRun> {
  const adapter = await loadAdapter(queue);
  const spec = await freshRun(context, `${options.prefill ? 'drain' : 'tp'}-${queue}`);
  const producer = await adapter.producer(spec, { waits: false });
  const submitAll = async (): Promise<number> => {
    const start = Date.now();
    for (let from = 0; from < options.tasks; from += options.batch) {
      await producer.submitBulk(from, Math.min(options.batch, options.tasks - from), {
        jobMs: options.jobMs ?? 0,
      });
    }
    return Date.now() - start;
  };
  let fleet: Fleet | undefined;
  try {
    const prefillMs = options.prefill ? await submitAll() : 0;
    const before = options.prefill ? await snapshot(context, []) : undefined;
    fleet = new Fleet(
      workerSpecs(spec, queue, workers, options.concurrency),
      options.workerExecArgv,
    );
    await fleet.ready(context.partitions);
    const ready = fleet.workers.map((w) => w.last);
    const start = before ?? (await snapshot(context, fleet.pids()));
    const t0 = Date.now();
    const submitMs = options.prefill ? prefillMs : await submitAll();
    const lastDoneAt = await fleet.allDone(options.tasks, Math.max(120_000, options.tasks * 10));
    const after = await snapshot(context, options.prefill ? [] : fleet.pids());
    const atDone = fleet.workers.map((w) => w.last);
    const reports = await fleet.stop();
    const firstDoneAt = Math.min(...reports.map((r) => r?.firstDoneAt || Number.MAX_VALUE));
    const ms = lastDoneAt - (options.prefill ? firstDoneAt : t0);
    const runCost = cost(start, after, options.tasks);
    if (options.prefill) {
      const used = reports.map((r, i) => (r?.cpuSeconds ?? 0) - (ready[i]?.cpuSeconds ?? 0));
      runCost.cpuSeconds.workers = Number(used.reduce((a, b) => a + b, 0).toFixed(2));
    }
    const kafka = sumCounts(
      diffCounts(start.kafkaRequests, after.kafkaRequests),
      diffCounts(
        sumCounts(...ready.map((r) => r?.kafkaRequests ?? {})),
        sumCounts(...reports.map((r) => r?.kafkaRequests ?? {})),
      ),
    );
    const cpu = runCost.cpuSeconds;
    const result: ThroughputRun = {
      queue,
      workers,
      run,
      tasks: options.tasks,
      concurrency: options.concurrency,
      jobMs: options.jobMs ?? 0,
      ms,
      submitMs,
      jobsPerSec: Math.round((options.tasks / ms) * 1000),
      workerRssMaxMb: reports.map((r) => Math.round((r?.rssMax ?? 0) / 2 ** 20)),
      cost: runCost,
      kafkaRequestsPer1000: Object.fromEntries(
        Object.entries(kafka).map(([api, n]) => [
          api,
          Number(((n / options.tasks) * 1000).toFixed(1)),
        ]),
      ),
      jobsPerCpuSecond: Math.round(
        options.tasks / Math.max(0.01, cpu.client + cpu.workers + cpu.redis + cpu.kafka),
      ),
      redisPerTask: redisPerTask(start, after, ready, atDone, options.tasks),
      busy: busyFigures(reports, options.prefill ? firstDoneAt : t0, lastDoneAt),
    };
    context.log(
      `${options.prefill ? 'drain' : 'throughput'} ${queue} ×${workers} c${options.concurrency}${options.jobMs ? ` ${options.jobMs} ms jobs` : ''} ${run === 0 ? 'warm-up' : `run ${run}`}: ${result.jobsPerSec} jobs/s (${ms} ms, submit ${submitMs} ms), ${result.jobsPerCpuSecond} jobs per CPU-s, Redis ${result.redisPerTask.roundTrips} round trips / ${result.redisPerTask.commands} commands per task, handlers running median ${result.busy.medianRunning.join('/')}`,
    );
    return result;
  } finally {
    await producer.close().catch(() => {});
    await fleet?.stop();
  }
}

/** Median and range of one figure over the measured rounds of a cell. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** One cell (queue × worker processes): jobs/s as median [min–max], and the other figures. */
export interface ThroughputSummary extends Spread {
  queue: QueueName;
  workers: number;
  rounds: number;
  jobsPerCpuSecond: Spread;
  /** Redis round trips per task at the client (client + workers). */
  redisRoundTripsPerTask: Spread;
  /** Top-level Redis commands per task at the client (client + workers). */
  redisRequestsPerTask: Spread;
  /** Redis commands per task executed by the server (INFO commandstats; in scripts too). */
  redisCommandsPerTask: Spread;
  /** Median over worker processes of each one's median of handlers running. */
  handlersRunning: Spread;
}

/** Runs every queue and worker count `runs` times, interleaved (yadtq, bullmq, bee, yadtq, …). */
export async function throughput(
  context: BenchContext,
  options: ThroughputOptions,
): Promise<{ runs: ThroughputRun[]; summary: ThroughputSummary[]; warmup: ThroughputRun[] }> {
  const runs: ThroughputRun[] = [];
  const warmup: ThroughputRun[] = [];
  if (options.warmup) {
    for (const queue of context.queues) {
      warmup.push(await throughputRun(context, queue, options.workerCounts[0] ?? 1, 0, options));
    }
  }
  for (const workers of options.workerCounts) {
    for (let run = 1; run <= options.runs; run++) {
      for (const queue of context.queues) {
        runs.push(await throughputRun(context, queue, workers, run, options));
      }
    }
  }
  return { runs, summary: summarise(runs), warmup };
}

/** Worker side alone: jobs added first, then 1 worker process drains them (see prefill). */
export async function drain(
  context: BenchContext,
  options: ThroughputOptions,
): Promise<{ runs: ThroughputRun[]; summary: ThroughputSummary[]; warmup: ThroughputRun[] }> {
  return throughput(context, { ...options, prefill: true, workerCounts: [1] });
}

export function summarise(runs: ThroughputRun[]): ThroughputSummary[] {
  const summary: ThroughputSummary[] = [];
  for (const run of runs) {
    if (summary.some((s) => s.queue === run.queue && s.workers === run.workers)) continue;
    const cell = runs.filter((r) => r.queue === run.queue && r.workers === run.workers);
    const of = (pick: (r: ThroughputRun) => number): Spread => spread(cell.map(pick));
    summary.push({
      queue: run.queue,
      workers: run.workers,
      rounds: cell.length,
      ...of((r) => r.jobsPerSec),
      jobsPerCpuSecond: of((r) => r.jobsPerCpuSecond),
      redisRoundTripsPerTask: of((r) => r.redisPerTask.roundTrips),
      redisRequestsPerTask: of((r) => r.redisPerTask.commands),
      redisCommandsPerTask: of((r) =>
        Object.values(r.cost.redisCallsPerTask).reduce((a, b) => a + b, 0),
      ),
      handlersRunning: of((r) => median(r.busy.medianRunning)),
    });
  }
  return summary;
}

function spread(values: number[]): Spread {
  const round = (n: number): number => Number(n.toFixed(n >= 100 ? 0 : 3));
  return {
    median: round(median(values)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  };
}

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
}

export interface ThroughputRun {
  queue: QueueName;
  workers: number;
  run: number;
  tasks: number;
  /** First add to last stored outcome. */
  ms: number;
  submitMs: number;
  jobsPerSec: number;
  workerRssMaxMb: number[];
  cost: Cost;
  /** Kafka requests per 1,000 tasks (client + workers), by API. */
  kafkaRequestsPer1000: Record<string, number>;
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
      await producer.submitBulk(from, Math.min(options.batch, options.tasks - from), { jobMs: 0 });
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
    const result: ThroughputRun = {
      queue,
      workers,
      run,
      tasks: options.tasks,
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
    };
    context.log(
      `${options.prefill ? 'drain' : 'throughput'} ${queue} ×${workers} run ${run}: ${result.jobsPerSec} jobs/s (${ms} ms, submit ${submitMs} ms)`,
    );
    return result;
  } finally {
    await producer.close().catch(() => {});
    await fleet?.stop();
  }
}

export interface ThroughputSummary {
  queue: QueueName;
  workers: number;
  min: number;
  median: number;
  max: number;
}

/** Runs every queue and worker count `runs` times, interleaved (yadtq, bullmq, bee, yadtq, …). */
export async function throughput(
  context: BenchContext,
  options: ThroughputOptions,
): Promise<{ runs: ThroughputRun[]; summary: ThroughputSummary[] }> {
  const runs: ThroughputRun[] = [];
  for (const workers of options.workerCounts) {
    for (let run = 1; run <= options.runs; run++) {
      for (const queue of context.queues) {
        runs.push(await throughputRun(context, queue, workers, run, options));
      }
    }
  }
  return { runs, summary: summarise(runs) };
}

/** Worker side alone: jobs added first, then 1 worker process drains them (see prefill). */
export async function drain(
  context: BenchContext,
  options: ThroughputOptions,
): Promise<{ runs: ThroughputRun[]; summary: ThroughputSummary[] }> {
  return throughput(context, { ...options, prefill: true, workerCounts: [1] });
}

export function summarise(runs: ThroughputRun[]): ThroughputSummary[] {
  const summary: ThroughputSummary[] = [];
  for (const run of runs) {
    if (summary.some((s) => s.queue === run.queue && s.workers === run.workers)) continue;
    const rates = runs
      .filter((r) => r.queue === run.queue && r.workers === run.workers)
      .map((r) => r.jobsPerSec);
    summary.push({
      queue: run.queue,
      workers: run.workers,
      min: Math.min(...rates),
      median: median(rates),
      max: Math.max(...rates),
    });
  }
  return summary;
}

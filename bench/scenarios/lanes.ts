// Ordering lanes (yadtq only): what running the tasks of each key one at a time costs. The
// same no-op tasks, `keys` × `perKey`, go to 3 worker processes twice per round: once plain
// and once with `orderingKey` = their key, submitted the same way (per round one bulk call
// per key, all in one tick). A lane run's time is bounded below by its longest chain:
// `perKey` hand-offs one after another, so `msPerLaneStep` is about one hand-off's latency.
import {
  type BenchContext,
  type Cost,
  cost,
  freshRun,
  median,
  snapshot,
  workerSpecs,
} from '../lib/context.ts';
import { Fleet } from '../lib/fleet.ts';
import { type BenchProducer, loadAdapter } from '../queues/types.ts';
import type { Spread } from './throughput.ts';

export interface LanesOptions {
  /** Ordering keys … */
  keys: number;
  /** … with this many tasks each. */
  perKey: number;
  /** Measured rounds; each runs plain, then lanes. */
  runs: number;
  workers: number;
  concurrency: number;
  /** Tasks per round of submits (split evenly over the keys). */
  batch: number;
  /** One unmeasured plain run first. */
  warmup: boolean;
}

/** Plain: no orderingKey. Lanes: each task's key as its orderingKey. */
export type LanesMode = 'plain' | 'lanes';

export interface LanesRun {
  mode: LanesMode;
  /** Round number; 0 is the unmeasured warm-up. */
  run: number;
  keys: number;
  perKey: number;
  tasks: number;
  workers: number;
  concurrency: number;
  /** First submit to last stored outcome. */
  ms: number;
  submitMs: number;
  jobsPerSec: number;
  /** ms / perKey: the time per task of one key's chain. */
  msPerLaneStep: number;
  /** Tasks per CPU second of every process (client, workers, Redis, Kafka). */
  jobsPerCpuSecond: number;
  cost: Cost;
}

export interface LanesSummary extends Spread {
  mode: LanesMode;
  rounds: number;
  msPerLaneStep: Spread;
  jobsPerCpuSecond: Spread;
}

export interface LanesResult {
  runs: LanesRun[];
  warmup: LanesRun[];
  summary: LanesSummary[];
  /** Lane jobs/s over plain jobs/s: of the medians, and the median of per-round ratios. */
  lanesOverPlain: { ofMedians: number; medianOfRounds: number };
}

/** Submits `keys` × `perKey` tasks: per round one bulk call per key, issued together. */
async function submitAll(
  producer: BenchProducer,
  mode: LanesMode,
  options: LanesOptions,
): Promise<number> {
  const start = Date.now();
  const chunk = Math.max(1, Math.floor(options.batch / options.keys));
  for (let done = 0; done < options.perKey; done += chunk) {
    const count = Math.min(chunk, options.perKey - done);
    await Promise.all(
      Array.from({ length: options.keys }, (_, key) =>
        producer.submitBulk(key * options.perKey + done, count, {
          jobMs: 0,
          ...(mode === 'lanes' ? { orderingKey: `lane-${key}` } : {}),
        }),
      ),
    );
  }
  return Date.now() - start;
}

/** One run: the fleet up and settled, then every task submitted, until all are done. */
export async function lanesRun(
  context: BenchContext,
  mode: LanesMode,
  run: number,
  options: LanesOptions,
): Promise<LanesRun> {
  const tasks = options.keys * options.perKey;
  const adapter = await loadAdapter('yadtq');
  const spec = await freshRun(context, `lanes-${mode}`);
  const producer = await adapter.producer(spec, { waits: false });
  let fleet: Fleet | undefined;
  try {
    fleet = new Fleet(workerSpecs(spec, 'yadtq', options.workers, options.concurrency));
    await fleet.ready(context.partitions);
    const before = await snapshot(context, fleet.pids());
    const t0 = Date.now();
    const submitMs = await submitAll(producer, mode, options);
    const lastDoneAt = await fleet.allDone(tasks, Math.max(120_000, options.perKey * 1_000));
    const after = await snapshot(context, fleet.pids());
    await fleet.stop();
    const ms = lastDoneAt - t0;
    const runCost = cost(before, after, tasks);
    const cpu = runCost.cpuSeconds;
    const result: LanesRun = {
      mode,
      run,
      keys: options.keys,
      perKey: options.perKey,
      tasks,
      workers: options.workers,
      concurrency: options.concurrency,
      ms,
      submitMs,
      jobsPerSec: Math.round((tasks / ms) * 1000),
      msPerLaneStep: Number((ms / options.perKey).toFixed(2)),
      jobsPerCpuSecond: Math.round(
        tasks / Math.max(0.01, cpu.client + cpu.workers + cpu.redis + cpu.kafka),
      ),
      cost: runCost,
    };
    context.log(
      `lanes ${mode} ${options.keys}×${options.perKey} ×${options.workers} c${options.concurrency} ${run === 0 ? 'warm-up' : `run ${run}`}: ${result.jobsPerSec} jobs/s (${ms} ms, submit ${submitMs} ms, ${result.msPerLaneStep} ms per task of a key), ${result.jobsPerCpuSecond} jobs per CPU-s`,
    );
    return result;
  } finally {
    await producer.close().catch(() => {});
    await fleet?.stop();
  }
}

/** Plain and lane runs interleaved (plain, lanes, plain, lanes, …), with their summary. */
export async function lanes(context: BenchContext, options: LanesOptions): Promise<LanesResult> {
  const warmup = options.warmup ? [await lanesRun(context, 'plain', 0, options)] : [];
  const runs: LanesRun[] = [];
  for (let run = 1; run <= options.runs; run++) {
    for (const mode of ['plain', 'lanes'] as const)
      runs.push(await lanesRun(context, mode, run, options));
  }
  const summary = (['plain', 'lanes'] as const).map((mode): LanesSummary => {
    const cell = runs.filter((r) => r.mode === mode);
    return {
      mode,
      rounds: cell.length,
      ...spread(cell.map((r) => r.jobsPerSec)),
      msPerLaneStep: spread(cell.map((r) => r.msPerLaneStep)),
      jobsPerCpuSecond: spread(cell.map((r) => r.jobsPerCpuSecond)),
    };
  });
  // Runs of one round ran back to back: their ratio cancels most of the machine's drift.
  const perRound = runs
    .filter((r) => r.mode === 'lanes')
    .map(
      (l) =>
        l.jobsPerSec /
        (runs.find((p) => p.mode === 'plain' && p.run === l.run)?.jobsPerSec ?? Number.NaN),
    )
    .filter(Number.isFinite);
  const [plain, lane] = summary;
  return {
    runs,
    warmup,
    summary,
    lanesOverPlain: {
      ofMedians: Number(((lane?.median ?? 0) / (plain?.median || Number.NaN)).toFixed(3)),
      medianOfRounds: Number((perRound.length ? median(perRound) : Number.NaN).toFixed(3)),
    },
  };
}

function spread(values: number[]): Spread {
  const round = (n: number): number => Number(n.toFixed(n >= 100 ? 0 : 2));
  return {
    median: round(median(values)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  };
}

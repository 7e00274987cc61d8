import type { BenchContext } from '../lib/context.ts';
import { type ThroughputOptions, throughputRun } from './throughput.ts';

export interface ScaleResult {
  tasks: number;
  jobsPerSec: number;
  ms: number;
  redisMemoryDelta: number;
  redisBytesPerTask: number;
  workerRssMaxMb: number;
  /** CPU ms per task, all processes together. */
  cpuMsPerTask: number;
}

/** yadtq alone at growing task counts, one worker process: does the cost per task stay flat? */
export async function scale(
  context: BenchContext,
  sizes: number[],
  base: Omit<ThroughputOptions, 'tasks'>,
): Promise<ScaleResult[]> {
  const results: ScaleResult[] = [];
  for (const tasks of sizes) {
    const run = await throughputRun(context, 'yadtq', 1, 1, { ...base, tasks });
    const cpu = run.cost.cpuSeconds;
    results.push({
      tasks,
      jobsPerSec: run.jobsPerSec,
      ms: run.ms,
      redisMemoryDelta: run.cost.redisMemoryDelta,
      redisBytesPerTask: Math.round(run.cost.redisMemoryDelta / tasks),
      workerRssMaxMb: run.workerRssMaxMb[0] ?? 0,
      cpuMsPerTask: Number(
        (((cpu.client + cpu.workers + cpu.redis + cpu.kafka) / tasks) * 1000).toFixed(3),
      ),
    });
  }
  return results;
}

import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from '../lib/context.ts';
import { type ProfileSummary, summariseProfile } from '../profile-top.ts';
import type { QueueName } from '../queues/types.ts';
import { type SubmitBreakdown, submitBreakdown } from './submit-breakdown.ts';
import { type ThroughputOptions, type ThroughputRun, throughputRun } from './throughput.ts';

export interface ProfileReport {
  results: ProfileResult[];
  /** yadtq only: where submitMany spends its time. */
  submit?: SubmitBreakdown;
}

export interface ProfileResult {
  queue: QueueName;
  run: ThroughputRun;
  /** The worker process's CPU profile (node --cpu-prof), summarised. */
  worker: ProfileSummary;
  profileFile: string;
}

/**
 * One throughput run per queue with the worker process under `node --cpu-prof`; reports the
 * run's cost (Redis commands and Kafka requests per task, CPU by process) and the profile.
 */
export async function profile(
  context: BenchContext,
  options: Omit<ThroughputOptions, 'runs' | 'workerCounts'> & { dir: string },
): Promise<ProfileReport> {
  const results: ProfileResult[] = [];
  for (const queue of context.queues) {
    const dir = join(options.dir, queue);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const run = await throughputRun(context, queue, 1, 1, {
      ...options,
      runs: 1,
      workerCounts: [1],
      prefill: true,
      workerExecArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    });
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`no CPU profile written in ${dir}`);
    results.push({
      queue,
      run,
      worker: summariseProfile(join(dir, file)),
      profileFile: join(dir, file),
    });
  }
  if (!context.queues.includes('yadtq')) return { results };
  return { results, submit: await submitBreakdown(context, 10, options.batch) };
}

import { type BenchContext, freshRun, percentile, workerSpecs } from '../lib/context.ts';
import { Fleet } from '../lib/fleet.ts';
import { loadAdapter, type QueueName } from '../queues/types.ts';

export interface LatencyOptions {
  tasks: number;
  warmup: number;
  concurrency: number;
}

export interface LatencyResult {
  queue: QueueName;
  tasks: number;
  /** p50 of the add alone (until the queue acknowledged it), ms. */
  submitP50: number;
  submitP99: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** One job at a time, submit → result in the client, with one worker process. */
export async function latency(
  context: BenchContext,
  options: LatencyOptions,
): Promise<LatencyResult[]> {
  const results: LatencyResult[] = [];
  for (const queue of context.queues) {
    const adapter = await loadAdapter(queue);
    const spec = await freshRun(context, `lat-${queue}`);
    const fleet = new Fleet(workerSpecs(spec, queue, 1, options.concurrency));
    const producer = await adapter.producer(spec, { waits: true });
    try {
      await fleet.ready(context.partitions);
      const once = (i: number): Promise<number> =>
        Promise.race([
          producer.submitAndWait(i),
          new Promise<never>((_, reject) =>
            setTimeout(
              () => reject(new Error(`${queue}: job ${i} not done in 30 s`)),
              30_000,
            ).unref(),
          ),
        ]);
      for (let i = 0; i < options.warmup; i++) await once(-1 - i);
      const times: number[] = [];
      const submits: number[] = [];
      for (let i = 0; i < options.tasks; i++) {
        const start = performance.now();
        submits.push(await once(i));
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      submits.sort((a, b) => a - b);
      const ms = (n: number): number => Number(n.toFixed(3));
      const result: LatencyResult = {
        queue,
        tasks: options.tasks,
        submitP50: ms(percentile(submits, 50)),
        submitP99: ms(percentile(submits, 99)),
        p50: ms(percentile(times, 50)),
        p95: ms(percentile(times, 95)),
        p99: ms(percentile(times, 99)),
        mean: ms(times.reduce((a, b) => a + b, 0) / times.length),
        max: ms(times.at(-1)!),
      };
      context.log(
        `latency ${queue}: p50 ${result.p50} ms, p95 ${result.p95} ms, p99 ${result.p99} ms`,
      );
      results.push(result);
    } finally {
      await producer.close().catch(() => {});
      await fleet.stop();
    }
  }
  return results;
}

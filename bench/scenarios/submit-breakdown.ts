import type { Broker, TaskStore } from '../../src/index.ts';
import { createKafkaRedisBackend, resolveConfig, TaskClient } from '../../src/index.ts';
import { type BenchContext, freshRun, median } from '../lib/context.ts';

export interface SubmitBreakdown {
  batches: number;
  batch: number;
  /** Median ms per submitMany batch, and of its two phases. */
  batchMs: number;
  createMs: number;
  produceMs: number;
  submitPerSec: number;
}

/** Times one method of `target` into `spent` (first start → last end of overlapping calls). */
function timed<T extends object>(target: T, method: string, spent: number[]): T {
  let open = 0;
  let since = 0;
  return new Proxy(target, {
    get(object, key, receiver) {
      const value = Reflect.get(object, key, receiver);
      if (key !== method || typeof value !== 'function') {
        return typeof value === 'function' ? value.bind(object) : value;
      }
      return async (...args: unknown[]) => {
        if (open++ === 0) since = performance.now();
        try {
          return await value.apply(object, args);
        } finally {
          if (--open === 0) spent.push(performance.now() - since);
        }
      };
    },
  });
}

/**
 * Where yadtq's submitMany spends its time, with no worker running: the Redis creates
 * (one Lua call per task, pipelined) against the one Kafka produce of the batch.
 */
export async function submitBreakdown(
  context: BenchContext,
  batches: number,
  batch: number,
): Promise<SubmitBreakdown> {
  const spec = await freshRun(context, 'submit');
  const config = resolveConfig({
    kafkaBrokers: spec.kafkaBrokers,
    redisUrl: spec.redisUrl,
    topic: spec.queue,
    partitions: spec.partitions,
    prefix: `${spec.queue}:`,
  });
  const backend = await createKafkaRedisBackend(config, { clientId: `${spec.queue}-c` });
  const creates: number[] = [];
  const produces: number[] = [];
  const client = new TaskClient({
    broker: timed<Broker>(backend.broker, 'produce', produces),
    store: timed<TaskStore>(backend.store, 'createMany', creates),
  });
  const totals: number[] = [];
  try {
    for (let b = -1; b < batches; b++) {
      const args = Array.from({ length: batch }, (_, k): [number, number] => [b * batch + k, 0]);
      const start = performance.now();
      await client.submitMany('bench-job', args, { cache: false });
      // The first batch creates the topic and the producer: not counted.
      if (b >= 0) totals.push(performance.now() - start);
    }
  } finally {
    await backend.close();
  }
  const ms = (values: number[]): number => Number(median(values.slice(1)).toFixed(1));
  const result: SubmitBreakdown = {
    batches,
    batch,
    batchMs: Number(median(totals).toFixed(1)),
    createMs: ms(creates),
    produceMs: ms(produces),
    submitPerSec: Math.round((batch / median(totals)) * 1000),
  };
  context.log(
    `submit breakdown: ${result.batchMs} ms per ${batch} (create ${result.createMs} ms, produce ${result.produceMs} ms)`,
  );
  return result;
}

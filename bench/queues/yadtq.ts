import {
  createKafkaRedisBackend,
  defineTask,
  resolveConfig,
  TaskClient,
  TaskWorker,
} from '../../src/index.ts';
import type { BenchProducer, QueueAdapter, RunSpec, SubmitOptions } from './types.ts';
import { countedJob, runJob } from './types.ts';

/** The benchmark task: args `[i, ms]`, distinct per task so dedup never collapses two. */
const job = defineTask('bench-job', ([, ms]: [number, number]) => runJob(ms));

function config(spec: RunSpec) {
  return resolveConfig({
    kafkaBrokers: spec.kafkaBrokers,
    redisUrl: spec.redisUrl,
    topic: spec.queue,
    partitions: spec.partitions,
    groupId: `${spec.queue}-group`,
    prefix: `${spec.queue}:`,
  });
}

/** yadtq on Kafka + Redis with its defaults; the result cache and outcome stats are off. */
export const yadtqAdapter: QueueAdapter = {
  name: 'yadtq',

  async producer(spec) {
    const backend = await createKafkaRedisBackend(config(spec), { clientId: `${spec.queue}-c` });
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const producer: BenchProducer = {
      async submitBulk(from: number, count: number, options: SubmitOptions) {
        const args = Array.from({ length: count }, (_, k): [number, number] => [
          from + k,
          options.jobMs,
        ]);
        await client.submitMany(job, args, {
          cache: false,
          ...(options.partitionKey === undefined ? {} : { partitionKey: options.partitionKey }),
          ...(options.orderingKey === undefined ? {} : { orderingKey: options.orderingKey }),
        });
      },
      async submitAndWait(i: number) {
        const start = performance.now();
        const handle = await client.submit(job, [i, 0], { cache: false });
        const submitted = performance.now() - start;
        await client.result(handle);
        return submitted;
      },
      close: () => backend.close(),
    };
    return producer;
  },

  async worker(spec, hooks) {
    const backend = await createKafkaRedisBackend(config(spec), { clientId: spec.workerId });
    const counted = defineTask('bench-job', ([, ms]: [number, number]) => countedJob(hooks, ms));
    // Done = the fenced finish wrote the outcome. (The stats hook is no longer a done signal:
    // the worker buffers outcome stats and hands them over about once a second.)
    const store = backend.store;
    // The worker writes its finishes in batches (finishMany): each one written counts.
    const finishMany = store.finishMany.bind(store);
    store.finishMany = async (requests) => {
      const stored = await finishMany(requests);
      for (const written of stored) if (written) hooks.done();
      return stored;
    };
    const worker = new TaskWorker({
      id: spec.workerId,
      broker: backend.broker,
      store,
      registry: backend.registry,
      monitorStore: backend.monitorStore,
      tasks: [counted],
      concurrency: spec.concurrency,
    });
    await worker.start();
    return {
      assignment: () => worker.info().partitions,
      async stop() {
        await worker.stop();
        await backend.close();
      },
    };
  },
};

import { Queue, QueueEvents, Worker } from 'bullmq';
import type { QueueAdapter, SubmitOptions } from './types.ts';
import { countedJob, redisAddress } from './types.ts';

/** BullMQ with its defaults (completed jobs kept, stalled check every 30 s). */
export const bullmqAdapter: QueueAdapter = {
  name: 'bullmq',

  async producer(spec, { waits }) {
    const connection = redisAddress(spec.redisUrl);
    const queue = new Queue(spec.queue, { connection });
    await queue.waitUntilReady();
    const events = waits ? new QueueEvents(spec.queue, { connection }) : undefined;
    await events?.waitUntilReady();
    return {
      async submitBulk(from: number, count: number, options: SubmitOptions) {
        await queue.addBulk(
          Array.from({ length: count }, (_, k) => ({
            name: 'bench-job',
            data: { i: from + k, ms: options.jobMs },
          })),
        );
      },
      async submitAndWait(i: number) {
        const start = performance.now();
        const added = await queue.add('bench-job', { i, ms: 0 });
        const submitted = performance.now() - start;
        await added.waitUntilFinished(events!);
        return submitted;
      },
      async close() {
        await events?.close();
        await queue.close();
      },
    };
  },

  async worker(spec, hooks) {
    const worker = new Worker(
      spec.queue,
      async (job) => {
        await countedJob(hooks, (job.data as { ms: number }).ms);
      },
      { connection: redisAddress(spec.redisUrl), concurrency: spec.concurrency },
    );
    worker.on('completed', () => hooks.done());
    await worker.waitUntilReady();
    return {
      assignment: () => undefined,
      stop: () => worker.close(),
    };
  },
};

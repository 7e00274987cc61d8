import BeeQueue from 'bee-queue';
import type { QueueAdapter, SubmitOptions } from './types.ts';
import { countedJob, redisAddress } from './types.ts';

/**
 * bee-queue with its defaults, except that a client that does not wait skips the events
 * subscription. bee-queue only recovers stalled jobs when someone calls checkStalledJobs,
 * so every worker runs it at the default stallInterval, as its README advises.
 */
export const beeQueueAdapter: QueueAdapter = {
  name: 'bee-queue',

  async producer(spec, { waits }) {
    const queue = new BeeQueue<{ i: number; ms: number }>(spec.queue, {
      redis: redisAddress(spec.redisUrl),
      isWorker: false,
      getEvents: waits,
      storeJobs: false,
    });
    await queue.ready();
    const waiting = new Map<string, () => void>();
    const finished = new Set<string>();
    const settle = (id: string): void => {
      const resolve = waiting.get(id);
      if (resolve === undefined) finished.add(id);
      else {
        waiting.delete(id);
        resolve();
      }
    };
    queue.on('job succeeded', settle);
    queue.on('job failed', settle);
    return {
      async submitBulk(from: number, count: number, options: SubmitOptions) {
        const jobs = Array.from({ length: count }, (_, k) =>
          queue.createJob({ i: from + k, ms: options.jobMs }),
        );
        const errors = await queue.saveAll(jobs);
        if (errors.size > 0) throw [...errors.values()][0];
      },
      async submitAndWait(i: number) {
        const start = performance.now();
        const job = await queue.createJob({ i, ms: 0 }).save();
        const submitted = performance.now() - start;
        // The outcome may be announced before save() resolves: then it is in `finished`.
        if (!finished.delete(job.id)) {
          await new Promise<void>((resolve) => waiting.set(job.id, resolve));
        }
        return submitted;
      },
      close: () => queue.close(),
    };
  },

  async worker(spec, hooks) {
    const queue = new BeeQueue<{ i: number; ms: number }>(spec.queue, {
      redis: redisAddress(spec.redisUrl),
    });
    await queue.ready();
    queue.on('succeeded', () => hooks.done());
    queue.process(spec.concurrency, async (job) => {
      await countedJob(hooks, job.data.ms);
    });
    void queue.checkStalledJobs(queue.settings.stallInterval as number);
    return {
      assignment: () => undefined,
      stop: () => queue.close(),
    };
  },
};

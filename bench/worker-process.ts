// A worker process of the benchmark: `fork`ed by bench/lib/fleet.ts with a WorkerSpec as
// JSON in argv[2]. It runs one queue's worker, counts the jobs it started and whose outcome
// was stored, and reports over IPC every 100 ms (and at once when it becomes ready). On
// {type: 'stop'} it stops the worker gracefully, sends its last report and exits, which is
// also when `node --cpu-prof` writes its profile.
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { countKafkaRequests } from './lib/kafka-requests.ts';
import type { WorkerSpec } from './queues/types.ts';
import { loadAdapter } from './queues/types.ts';

/** What the parent receives. */
export interface WorkerReport {
  type: 'ready' | 'progress' | 'stopped' | 'failed';
  started: number;
  done: number;
  /** Wall-clock ms of the last stored outcome (0 when none). */
  lastDoneAt: number;
  /** Wall-clock ms of the first stored outcome (0 when none). */
  firstDoneAt: number;
  /** CPU seconds (user + system) this process has used. */
  cpuSeconds: number;
  rss: number;
  rssMax: number;
  heapUsed: number;
  assignment: readonly number[] | undefined;
  /** Kafka requests sent by this process, by API name. */
  kafkaRequests: Record<string, number>;
  error?: string;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec;
const send = (message: WorkerReport): void => {
  process.send?.(message);
};

const kafkaRequests = countKafkaRequests();

let started = 0;
let done = 0;
let lastDoneAt = 0;
let firstDoneAt = 0;
let rssMax = 0;
let worker: Awaited<ReturnType<Awaited<ReturnType<typeof loadAdapter>>['worker']>> | undefined;

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function report(type: WorkerReport['type'], error?: string): void {
  const rss = process.memoryUsage.rss();
  rssMax = Math.max(rssMax, rss);
  send({
    type,
    started,
    done,
    lastDoneAt,
    firstDoneAt,
    cpuSeconds: cpuSeconds(),
    rss,
    rssMax,
    heapUsed: process.memoryUsage().heapUsed,
    assignment: worker?.assignment(),
    kafkaRequests,
    ...(error === undefined ? {} : { error }),
  });
}

// The parent is gone (killed, crashed): do not linger.
process.on('disconnect', () => process.exit(1));

try {
  const adapter = await loadAdapter(spec.adapter);
  worker = await adapter.worker(spec, {
    started: () => {
      started++;
    },
    done: () => {
      done++;
      lastDoneAt = Date.now();
      if (firstDoneAt === 0) firstDoneAt = lastDoneAt;
    },
  });
  report('ready');
  const timer = setInterval(() => report('progress'), 100);
  process.on('message', async (message: { type?: string }) => {
    if (message?.type !== 'stop') return;
    clearInterval(timer);
    try {
      // BENCH_HEAP_SNAPSHOT=<dir>: what the worker still holds once its jobs are done.
      const snapshots = process.env.BENCH_HEAP_SNAPSHOT;
      if (snapshots) writeHeapSnapshot(join(snapshots, `${spec.workerId}.heapsnapshot`));
      await worker?.stop();
      report('stopped');
    } catch (error) {
      report('failed', String(error));
    }
    process.disconnect?.();
    process.exit(0);
  });
} catch (error) {
  report('failed', String((error as Error)?.stack ?? error));
  process.exit(1);
}

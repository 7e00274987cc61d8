// A worker process of the benchmark: `fork`ed by bench/lib/fleet.ts with a WorkerSpec as
// JSON in argv[2]. It runs one queue's worker, counts the jobs it started and whose outcome
// was stored, and the Redis requests it sends (bench/lib/redis-traffic.ts); every 100 ms it
// samples how many handlers are running and reports over IPC (and at once when it becomes
// ready; the samples, as a timeline, only in its last report). On
// {type: 'stop'} it stops the worker gracefully, sends its last report and exits, which is
// also when `node --cpu-prof` writes its profile.
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { countKafkaRequests } from './lib/kafka-requests.ts';
import { countRedisTraffic, type RedisTraffic, trafficSnapshot } from './lib/redis-traffic.ts';
import type { WorkerSpec } from './queues/types.ts';
import { loadAdapter, redisAddress } from './queues/types.ts';

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
  /** Redis requests sent by this process (round trips and top-level commands). */
  redis: RedisTraffic;
  /** Handlers running now (started, not returned). */
  running: number;
  /** Jobs started whose outcome is not stored yet (the slots they hold). */
  inFlight: number;
  /** Every 100 ms: [wall-clock ms, running, inFlight]; in the 'stopped' report only. */
  timeline?: Array<[number, number, number]>;
  error?: string;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec;
const send = (message: WorkerReport): void => {
  process.send?.(message);
};

const kafkaRequests = countKafkaRequests();
countRedisTraffic(redisAddress(spec.redisUrl).port);

let started = 0;
let ended = 0;
let done = 0;
const timeline: Array<[number, number, number]> = [];
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
    redis: trafficSnapshot(),
    running: started - ended,
    inFlight: started - done,
    ...(type === 'stopped' ? { timeline } : {}),
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
    ended: () => {
      ended++;
    },
    done: () => {
      done++;
      lastDoneAt = Date.now();
      if (firstDoneAt === 0) firstDoneAt = lastDoneAt;
    },
  });
  report('ready');
  const timer = setInterval(() => {
    timeline.push([Date.now(), started - ended, started - done]);
    report('progress');
  }, 100);
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

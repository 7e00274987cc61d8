// `npm run bench [-- options]`: yadtq (Kafka + Redis) side by side with BullMQ and bee-queue
// on one Redis of its own and one Kafka broker, results in bench/results/ (JSON + SVG).
//
//   --quick                small sizes for a smoke run (a few minutes)
//   --scenarios a,b        throughput,busy,drain,latency,recovery,scale (default: all;
//                          footprint comes with throughput); profile and lanes are not in
//                          the default set
//   --workers N,N,…        worker processes of the throughput scenario (1,2,4)
//   --busy-concurrency N   busy: 1 worker process with N slots (200) …
//   --busy-job-ms N        … running jobs of N ms (10)
//   --no-warmup            skip the unmeasured warm-up round of every queue before each
//                          throughput, busy and drain scenario
//   --queues a,b           yadtq,bullmq,bee-queue (default: all three)
//   --tasks N --runs N     throughput jobs per run (20000) and runs per cell (3)
//   --concurrency N        jobs at once per worker process (50)
//   --latency-tasks N      (1000)     --recovery-tasks N (200)     --recovery-job-ms N (2000)
//   --scale N,N,…          yadtq scale sizes (10000,100000,1000000)
//   --lane-tasks N         lanes: tasks per ordering key (100; 20 keys, 3 worker processes,
//                          yadtq only), each round a plain run and a lane run of that many
//   --out DIR              (bench/results; bench/results/quick with --quick)
// Kafka: YADTQ_KAFKA_BROKERS to reuse a broker, else one of its own (scripts/services/) on
// BENCH_KAFKA_PORT (49092) with Kafka's production JVM settings (1 GB heap, G1;
// KAFKA_JVM_OPTS to change them).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchContext } from './lib/context.ts';
import { countKafkaRequests } from './lib/kafka-requests.ts';
import { countRedisTraffic, ignoreSocket } from './lib/redis-traffic.ts';
import { ROOT, startKafka, startRedis, versions } from './lib/services.ts';
import { QUEUE_NAMES, type QueueName } from './queues/types.ts';
import { charts } from './report.ts';
import { lanes } from './scenarios/lanes.ts';
import { latency } from './scenarios/latency.ts';
import { profile } from './scenarios/profile.ts';
import { recovery } from './scenarios/recovery.ts';
import { scale } from './scenarios/scale.ts';
import { drain, throughput } from './scenarios/throughput.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenarios: { type: 'string' },
    queues: { type: 'string' },
    tasks: { type: 'string' },
    runs: { type: 'string' },
    concurrency: { type: 'string' },
    'latency-tasks': { type: 'string' },
    'recovery-tasks': { type: 'string' },
    'recovery-job-ms': { type: 'string' },
    scale: { type: 'string' },
    workers: { type: 'string' },
    'busy-concurrency': { type: 'string' },
    'busy-job-ms': { type: 'string' },
    'lane-tasks': { type: 'string' },
    'no-warmup': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const quick = values.quick;
const int = (text: string | undefined, full: number, small: number): number =>
  text === undefined ? (quick ? small : full) : Number.parseInt(text, 10);
const list = (text: string | undefined, all: readonly string[]): string[] =>
  text === undefined ? [...all] : text.split(',').map((s) => s.trim());

const scenarios = list(values.scenarios, [
  'throughput',
  'busy',
  'drain',
  'latency',
  'recovery',
  'scale',
]);
const queues = list(values.queues, QUEUE_NAMES) as QueueName[];
for (const queue of queues) {
  if (!QUEUE_NAMES.includes(queue)) throw new Error(`unknown queue ${queue}`);
}
const options = {
  quick,
  tasks: int(values.tasks, 20_000, 2_000),
  runs: int(values.runs, 3, 1),
  concurrency: int(values.concurrency, 50, 50),
  batch: 1_000,
  latencyTasks: int(values['latency-tasks'], 1_000, 200),
  recoveryTasks: int(values['recovery-tasks'], 200, 50),
  recoveryJobMs: int(values['recovery-job-ms'], 2_000, 2_000),
  scale: (values.scale ?? (quick ? '2000,10000' : '10000,100000,1000000'))
    .split(',')
    .map((s) => Number.parseInt(s, 10)),
  workerCounts: (values.workers ?? '1,2,4').split(',').map((s) => Number.parseInt(s, 10)),
  busyConcurrency: int(values['busy-concurrency'], 200, 200),
  busyJobMs: int(values['busy-job-ms'], 10, 10),
  laneTasks: int(values['lane-tasks'], 100, 20),
  warmup: !values['no-warmup'],
};
// A smoke run must not overwrite the committed results of the last full run.
const out = values.out ?? join(import.meta.dirname, quick ? 'results/quick' : 'results');
mkdirSync(out, { recursive: true });

const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};
const kafkaRequests = countKafkaRequests();

const machine = {
  nproc: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGb: Number((totalmem() / 2 ** 30).toFixed(1)),
  loadBefore: loadavg().map((n) => Number(n.toFixed(2))),
  loadAfter: [] as number[],
};
const startedAt = new Date().toISOString();
const redis = await startRedis();
const redisTraffic = countRedisTraffic(Number(new URL(redis.url).port));
ignoreSocket((redis.client as unknown as { stream?: object }).stream);
let kafka: Awaited<ReturnType<typeof startKafka>> | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    log(`${signal}: stopping Redis${kafka ? ' and Kafka' : ''}`);
    await redis.stop();
    await kafka?.stop();
    process.exit(130);
  });
}
try {
  kafka = await startKafka();
  const context: BenchContext = {
    redisUrl: redis.url,
    redis: redis.client,
    redisPid: redis.pid,
    kafkaBrokers: kafka.url,
    kafkaPid: kafka.pid,
    partitions: 4,
    queues,
    kafkaRequests,
    redisTraffic,
    log,
  };
  const meta = () => ({
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `node bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { ...machine, loadAfter: loadavg().map((n) => Number(n.toFixed(2))) },
    versions: versions(kafka?.pid),
    options,
  });
  const save = (name: string, data: unknown): void => {
    const text = `${JSON.stringify({ meta: meta(), ...(data as object) }, null, 2)}\n`;
    writeFileSync(join(out, `${name}.json`), text);
    for (const chart of [name, `${name}-timeline`]) {
      const svg = charts[chart]?.(data);
      if (svg !== undefined) writeFileSync(join(out, `${chart}.svg`), svg);
    }
    // The project's formatter checks these files too: let it lay them out.
    spawnSync(
      join(ROOT, 'node_modules/.bin/biome'),
      ['format', '--write', join(out, `${name}.json`)],
      {
        stdio: 'ignore',
      },
    );
    log(`wrote ${join(out, `${name}.json`)}`);
  };
  const base = { concurrency: options.concurrency, batch: options.batch, warmup: options.warmup };
  if (scenarios.includes('throughput')) {
    const result = await throughput(context, {
      ...base,
      tasks: options.tasks,
      runs: options.runs,
      workerCounts: options.workerCounts,
    });
    save('throughput', result);
    save('footprint', { runs: result.runs.filter((r) => r.workers === 1) });
  }
  if (scenarios.includes('busy')) {
    save(
      'busy',
      await throughput(context, {
        ...base,
        concurrency: options.busyConcurrency,
        jobMs: options.busyJobMs,
        tasks: options.tasks,
        runs: options.runs,
        workerCounts: [1],
      }),
    );
  }
  if (scenarios.includes('drain')) {
    save(
      'drain',
      await drain(context, {
        ...base,
        tasks: options.tasks,
        runs: options.runs,
        workerCounts: [1],
      }),
    );
  }
  if (scenarios.includes('latency')) {
    save('latency', {
      results: await latency(context, {
        tasks: options.latencyTasks,
        warmup: 50,
        concurrency: options.concurrency,
      }),
    });
  }
  if (scenarios.includes('recovery')) {
    save('recovery', {
      results: await recovery(context, {
        tasks: options.recoveryTasks,
        jobMs: options.recoveryJobMs,
        timeoutMs: 180_000,
      }),
    });
  }
  if (scenarios.includes('scale') && queues.includes('yadtq')) {
    save('scale', {
      results: await scale(context, options.scale, {
        ...base,
        warmup: false,
        runs: 1,
        workerCounts: [1],
      }),
    });
  }
  if (scenarios.includes('lanes') && queues.includes('yadtq')) {
    save(
      'lanes',
      await lanes(context, {
        keys: 20,
        perKey: options.laneTasks,
        runs: options.runs,
        workers: 3,
        concurrency: options.concurrency,
        batch: options.batch,
        warmup: options.warmup,
      }),
    );
  }
  if (scenarios.includes('profile')) {
    save(
      'profile',
      await profile(context, {
        ...base,
        warmup: false,
        tasks: options.tasks,
        dir: join(out, 'profiles'),
      }),
    );
  }
} finally {
  await redis.stop();
  await kafka?.stop();
}
process.exit(0);

// Supply of a worker with a backlog: BACKLOG tasks are submitted first (no worker running),
// then one library worker (no outcome stats) runs them with CONCURRENCY slots and a
// handler that sleeps SLEEP ms. Every 5 ms the probe counts the handlers running at once;
// it prints the median and mean of those counts while at least CONCURRENCY tasks were
// still waiting (the backlog phase), as a share of the concurrency, the same for the slots
// in use (tasks the worker holds: claiming, running or finishing), and the jobs/s from
// the first handler start to the last end, and the process's CPU per 1,000 jobs. Against the Kafka in YADTQ_KAFKA_BROKERS
// (default 127.0.0.1:9092) and the Redis in YADTQ_REDIS_URL (default
// redis://127.0.0.1:6379), on a topic, group and key prefix of its own (keys deleted after).
// With --redis-cost it also prints what Redis ran per task (INFO commandstats after
// CONFIG RESETSTAT: commands inside scripts counted, and their µs), for the submits and for
// the worker apart; use a Redis of its own, as the counts are server-wide.
//   node bench/batch-probe.ts [--backlog 20000] [--concurrency 200] [--sleep 10] [--rounds 3] [--redis-cost]
// To compare two versions, run it in both checkouts, alternating.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import {
  createKafkaRedisBackend,
  defineTask,
  resolveConfig,
  TaskClient,
  TaskWorker,
} from '../src/index.ts';

const { values } = parseArgs({
  options: {
    backlog: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '200' },
    sleep: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    'redis-cost': { type: 'boolean', default: false },
  },
});
const REDIS_COST = values['redis-cost'];
const BACKLOG = Number(values.backlog);
const CONCURRENCY = Number(values.concurrency);
const SLEEP_MS = Number(values.sleep);
const ROUNDS = Number(values.rounds);
const redisUrl = process.env.YADTQ_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Round {
  medianBusy: number;
  meanBusy: number;
  meanSlots: number;
  jobsPerSecond: number;
  cpuMsPer1000: number;
}

/** What Redis ran between a reset and a report, per task (INFO commandstats). */
class RedisCost {
  readonly #redis: Redis;
  constructor(url: string) {
    this.#redis = new Redis(url);
  }
  async reset(): Promise<void> {
    await this.#redis.config('RESETSTAT');
  }
  async report(label: string, tasks: number): Promise<void> {
    const info = await this.#redis.info('commandstats');
    const stats = await this.#redis.info('stats');
    await this.reset();
    const bytesIn = Number(/total_net_input_bytes:(\d+)/.exec(stats)?.[1] ?? 0);
    const rows: string[] = [];
    let calls = 0;
    for (const line of info.split('\r\n')) {
      const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
      if (match === null || match[1] === 'info' || match[1] === 'config') continue;
      calls += Number(match[2]);
      const [perTask, µs] = [Number(match[2]) / tasks, Number(match[3]) / tasks];
      rows.push(`${match[1]} ${perTask.toFixed(2)} (${µs.toFixed(1)} µs)`);
    }
    // A script's µs include those of the commands it ran (listed too).
    console.log(
      `${label}: ${(calls / tasks).toFixed(2)} commands per task, scripts' own included, ${(bytesIn / tasks).toFixed(0)} bytes sent to Redis per task; per task: ${rows.join(', ')}`,
    );
  }
  close(): Promise<unknown> {
    return this.#redis.quit();
  }
}

async function round(n: number): Promise<Round> {
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-${n}`;
  const prefix = `batch-probe-${id}:`;
  const config = resolveConfig({
    kafkaBrokers: process.env.YADTQ_KAFKA_BROKERS ?? '127.0.0.1:9092',
    redisUrl,
    topic: `batch-probe-${id}`,
    groupId: `batch-probe-${id}`,
    prefix,
  });
  const backend = await createKafkaRedisBackend(config, { clientId: 'batch-probe' });
  let running = 0;
  let done = 0;
  let firstStart = 0;
  let lastEnd = 0;
  const job = defineTask('job', async (_n: number) => {
    if (firstStart === 0) firstStart = performance.now();
    running++;
    await new Promise((resolve) => setTimeout(resolve, SLEEP_MS));
    running--;
    done++;
    lastEnd = performance.now();
  });
  const worker = new TaskWorker({
    id: `batch-probe-${id}`,
    broker: backend.broker,
    store: backend.store,
    registry: backend.registry,
    monitorStore: backend.monitorStore,
    tasks: [job],
    concurrency: CONCURRENCY,
    monitor: false,
  });
  try {
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const cost = REDIS_COST ? new RedisCost(redisUrl) : undefined;
    await cost?.reset();
    for (let from = 0; from < BACKLOG; from += 1000) {
      const args = Array.from({ length: Math.min(1000, BACKLOG - from) }, (_, i) => from + i);
      await client.submitMany(job, args, { cache: false });
    }
    await cost?.report('submits', BACKLOG);
    const samples: number[] = [];
    let slots = 0;
    const sampler = setInterval(() => {
      if (firstStart !== 0 && BACKLOG - done - running >= CONCURRENCY) {
        samples.push(running);
        slots += worker.info().inFlight;
      }
    }, 5);
    const cpu = process.cpuUsage();
    await worker.start();
    while (done < BACKLOG) await new Promise((resolve) => setTimeout(resolve, 20));
    clearInterval(sampler);
    const used = process.cpuUsage(cpu);
    await cost?.report('worker', BACKLOG);
    await cost?.close();
    samples.sort((a, b) => a - b);
    const mean = samples.reduce((sum, s) => sum + s, 0) / Math.max(1, samples.length);
    return {
      medianBusy: (samples[samples.length >> 1] ?? 0) / CONCURRENCY,
      meanBusy: mean / CONCURRENCY,
      meanSlots: slots / Math.max(1, samples.length) / CONCURRENCY,
      jobsPerSecond: BACKLOG / ((lastEnd - firstStart) / 1000),
      cpuMsPer1000: (used.user + used.system) / 1000 / (BACKLOG / 1000),
    };
  } finally {
    await worker.stop();
    await backend.close();
    const redis = new Redis(redisUrl);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }
}

const results: Round[] = [];
for (let n = 0; n < ROUNDS; n++) {
  const result = await round(n);
  results.push(result);
  console.log(
    `round ${n + 1}: handlers busy median ${(result.medianBusy * 100).toFixed(1)} %, mean ${(result.meanBusy * 100).toFixed(1)} %; slots in use ${(result.meanSlots * 100).toFixed(1)} %; ${result.jobsPerSecond.toFixed(0)} jobs/s; CPU ${result.cpuMsPer1000.toFixed(0)} ms per 1000`,
  );
}
const median = (pick: (r: Round) => number) =>
  results.map(pick).sort((a, b) => a - b)[results.length >> 1]!;
console.log(
  `median of ${ROUNDS}: busy ${(median((r) => r.medianBusy) * 100).toFixed(1)} % (mean ${(median((r) => r.meanBusy) * 100).toFixed(1)} %), slots in use ${(median((r) => r.meanSlots) * 100).toFixed(1)} %, ${median((r) => r.jobsPerSecond).toFixed(0)} jobs/s, CPU ${median((r) => r.cpuMsPer1000).toFixed(0)} ms per 1000 jobs (backlog ${BACKLOG}, concurrency ${CONCURRENCY}, ${SLEEP_MS} ms handlers)`,
);

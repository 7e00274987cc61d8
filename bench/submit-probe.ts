// Client cost of submitting: 30 × submitMany(1000) with no worker running, against the
// Kafka in YADTQ_KAFKA_BROKERS (default 127.0.0.1:9092) and the Redis in YADTQ_REDIS_URL
// (default redis://127.0.0.1:6379), on a key prefix and topic of its own (keys deleted
// after). Prints the median wall time of one batch and the client's CPU per 1,000 tasks.
// With --single: 30 rounds of 1,000 concurrent client.submit() calls (Promise.all), and
// the latency of 200 lone submits one after another (p50 / p99).
// To compare two versions, run it in both checkouts, alternating:
//   node bench/submit-probe.ts [--single]
import { Redis } from 'ioredis';
import { createKafkaRedisBackend, defineTask, resolveConfig, TaskClient } from '../src/index.ts';

const BATCHES = 30;
const BATCH = 1000;
const redisUrl = process.env.YADTQ_REDIS_URL ?? 'redis://127.0.0.1:6379';
const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const prefix = `submit-probe-${id}:`;
const config = resolveConfig({
  kafkaBrokers: process.env.YADTQ_KAFKA_BROKERS ?? '127.0.0.1:9092',
  redisUrl,
  topic: `submit-probe-${id}`,
  groupId: `submit-probe-${id}`,
  prefix,
});
const backend = await createKafkaRedisBackend(config, { clientId: 'submit-probe' });
try {
  const client = new TaskClient({ broker: backend.broker, store: backend.store });
  const job = defineTask('job', (n: number) => n);
  await client.submitMany(job, [1, 2, 3], { cache: false });
  const single = process.argv.includes('--single');
  const times: number[] = [];
  const cpu = process.cpuUsage();
  for (let b = 0; b < BATCHES; b++) {
    const args = Array.from({ length: BATCH }, (_, i) => b * BATCH + i);
    const started = performance.now();
    if (single) await Promise.all(args.map((n) => client.submit(job, n, { cache: false })));
    else await client.submitMany(job, args, { cache: false });
    times.push(performance.now() - started);
  }
  const used = process.cpuUsage(cpu);
  times.sort((a, b) => a - b);
  const cpuMs = (used.user + used.system) / 1000 / BATCHES;
  const what = single ? `${BATCH} concurrent submit()` : `submitMany(${BATCH})`;
  console.log(
    `${what}: median ${times[BATCHES >> 1]!.toFixed(1)} ms; client CPU ${cpuMs.toFixed(1)} ms per ${BATCH}`,
  );
  if (single) {
    const lone: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      await client.submit(job, -1 - i, { cache: false });
      lone.push(performance.now() - started);
    }
    lone.sort((a, b) => a - b);
    console.log(`lone submit: p50 ${lone[100]!.toFixed(2)} ms, p99 ${lone[198]!.toFixed(2)} ms`);
  }
} finally {
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

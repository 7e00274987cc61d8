// What outcome stats cost a worker: 10,000 no-op tasks through one in-process worker
// (concurrency 50, stats on) on a redis-server of its own and the Kafka in
// YADTQ_KAFKA_BROKERS (default 127.0.0.1:9092). Prints the wall time, the worker
// process's CPU and the Redis server's CPU per 10k tasks, and how many stats script calls
// Redis ran. To compare two versions, run it in both checkouts, alternating:
//   node bench/stats-probe.ts
import { Redis } from 'ioredis';
import { LocalRedis } from '../scripts/services/index.ts';
import {
  createKafkaRedisBackend,
  defineTask,
  resolveConfig,
  TaskClient,
  TaskWorker,
} from '../src/index.ts';

const TASKS = 10_000;
const redis = await LocalRedis.start();
const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const config = resolveConfig({
  kafkaBrokers: process.env.YADTQ_KAFKA_BROKERS ?? '127.0.0.1:9092',
  redisUrl: redis.url,
  topic: `stats-probe-${id}`,
  groupId: `stats-probe-${id}`,
  prefix: `stats-probe-${id}:`,
});
const backend = await createKafkaRedisBackend(config, { clientId: 'stats-probe' });
const admin = new Redis(redis.url);
const redisCpu = async () => {
  const info = await admin.info('cpu');
  const read = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return read('used_cpu_sys') + read('used_cpu_user');
};
const scriptCalls = async () => {
  const info = await admin.info('commandstats');
  return [...info.matchAll(/cmdstat_(evalsha|eval):calls=(\d+)/g)].reduce(
    (n, m) => n + Number(m[2]),
    0,
  );
};
try {
  const job = defineTask('job', (n: number) => n);
  const client = new TaskClient({ broker: backend.broker, store: backend.store });
  const worker = new TaskWorker({
    id: `stats-probe-${id}`,
    broker: backend.broker,
    store: backend.store,
    registry: backend.registry,
    monitorStore: backend.monitorStore,
    stats: backend.stats,
    tasks: [job],
    concurrency: 50,
  });
  await worker.start();
  await client.wait(await client.submit(job, -1, { cache: false }), { timeoutMs: 60_000 });
  const handles = [];
  for (let at = 0; at < TASKS; at += 1000) {
    const args = Array.from({ length: 1000 }, (_, i) => at + i);
    handles.push(...(await client.submitMany(job, args, { cache: false })));
  }
  const [cpu0, redis0, calls0, started] = [
    process.cpuUsage(),
    await redisCpu(),
    await scriptCalls(),
    performance.now(),
  ];
  await Promise.all(handles.map((h) => client.wait(h, { timeoutMs: 120_000 })));
  const wall = performance.now() - started;
  await worker.stop();
  const used = process.cpuUsage(cpu0);
  const [redis1, calls1] = [await redisCpu(), await scriptCalls()];
  console.log(
    `${TASKS} tasks drained in ${(wall / 1000).toFixed(2)} s (${Math.round(TASKS / (wall / 1000))}/s); ` +
      `worker CPU ${((used.user + used.system) / 1e6).toFixed(2)} s, Redis CPU ${(redis1 - redis0).toFixed(2)} s, ` +
      `script calls ${calls1 - calls0}`,
  );
} finally {
  await backend.close();
  admin.disconnect();
  await redis.stop();
}

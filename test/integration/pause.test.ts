import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import {
  type Backend,
  createKafkaRedisBackend,
  resolveConfig,
  TaskClient,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import { exited, spawnYadtq, yadtq } from './cli-helpers.ts';
import { cliEnv, deleteKeys, KAFKA_BROKERS, REDIS_URL, uniqueNames } from './services.ts';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'pause-tasks.ts');

describe('yadtq pause / resume on two CLI workers (Kafka + Redis)', () => {
  const names = uniqueNames('pause');
  const logKey = `${names.prefix}runs`;
  const env = { ...cliEnv(names), PAUSE_LOG_KEY: logKey };
  let backend: Backend;
  let client: TaskClient;
  let redis: Redis;
  const workers = new Map<string, ChildProcess>();

  before(async () => {
    const config = resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names });
    backend = await createKafkaRedisBackend(config, { clientId: 'yadtq-test-pause' });
    client = new TaskClient({
      broker: backend.broker,
      store: backend.store,
      pauses: backend.pauses,
    });
    redis = new Redis(REDIS_URL);
    for (const id of ['pz-0', 'pz-1']) {
      workers.set(
        id,
        spawnYadtq(['worker', id, '--tasks', FIXTURE, '--concurrency', '4'], env).child,
      );
    }
    await until(async () => {
      const alive = (await backend.registry.list()).filter((w) => w.alive);
      return alive.length === 2 && alive.reduce((n, w) => n + w.partitions.length, 0) === 4;
    }, 90_000);
  });

  after(async () => {
    for (const child of workers.values()) child.kill('SIGTERM');
    await Promise.all([...workers.values()].map((child) => exited(child)));
    redis?.disconnect();
    await backend?.close();
    await deleteKeys(names.prefix);
  });

  test('a pause while 100 tasks wait: none of that name starts until resume, others run, none lost', {
    timeout: 180_000,
  }, async () => {
    // 8 slots, 100 reports of 500 ms: most of them wait when the pause comes.
    const reports = await client.submitMany('pause.report', Array(100).fill(500), { dedup: false });
    await until(async () => (await redis.llen(logKey)) >= 4, 30_000);
    const paused = await yadtq(['pause', 'pause.report'], env);
    assert.equal(paused.code, 0, paused.stderr);
    assert.deepEqual(JSON.parse(paused.stdout), {
      task: 'pause.report',
      paused: true,
      already: false,
    });
    const pausedAt = Date.now();
    assert.deepEqual(JSON.parse((await yadtq(['pause'], env)).stdout), {
      paused: ['pause.report'],
    });
    const mails = await client.submitMany('pause.mail', Array(20).fill(10), { dedup: false });
    for (const handle of mails)
      assert.equal((await client.wait(handle, { timeoutMs: 60_000 })).status, 'success');
    await sleep(1500);
    const runs = async () =>
      (await redis.lrange(logKey, 0, -1)).map(
        (line) => JSON.parse(line) as { name: string; taskId: string; at: number },
      );
    // Claims sent before the pause was seen may start just after it; none later (1 s margin).
    const late = (await runs()).filter((r) => r.name === 'pause.report' && r.at > pausedAt + 1000);
    assert.deepEqual(late, [], 'reports started while paused');
    const startedBefore = new Set(
      (await runs()).filter((r) => r.name === 'pause.report').map((r) => r.taskId),
    );
    assert.ok(startedBefore.size < 100, `${startedBefore.size} reports ran before the pause took`);
    const overview = await backend.monitorStore.parked(10);
    const parked = overview.groups.find((g) => g.group === 'pause:pause.report')?.tasks ?? 0;
    assert.equal(parked, 100 - startedBefore.size, 'every report not started is parked');
    const resumed = await yadtq(['resume', 'pause.report'], env);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout).offered, parked);
    for (const handle of reports)
      assert.equal((await client.wait(handle, { timeoutMs: 90_000 })).status, 'success');
    const all = (await runs()).filter((r) => r.name === 'pause.report');
    assert.equal(new Set(all.map((r) => r.taskId)).size, 100, 'every report ran');
    assert.equal(all.length, 100, 'each once');
    console.log(
      `pause: ${startedBefore.size} reports started before the pause, ${parked} parked and run after resume`,
    );
    assert.equal((await yadtq(['resume'], env)).code, 2, 'resume takes a <task>');
  });
});

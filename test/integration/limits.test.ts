import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import {
  type Backend,
  createKafkaRedisBackend,
  resolveConfig,
  TaskClient,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import { exited, spawnYadtq } from './cli-helpers.ts';
import { cliEnv, deleteKeys, KAFKA_BROKERS, REDIS_URL, uniqueNames } from './services.ts';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'limit-tasks.ts');
const TENANTS = 4;
const PER_TENANT = 10;

interface Run {
  taskId: string;
  workerId: string;
  tenant: string;
  start: number;
  end: number;
}

describe('a concurrency limit of 2 per tenant on 3 CLI workers of 7 slots (Kafka + Redis)', () => {
  const names = uniqueNames('limits');
  const logKey = `${names.prefix}runs`;
  let backend: Backend;
  let client: TaskClient;
  let redis: Redis;
  const workers = new Map<string, ChildProcess>();

  before(async () => {
    const config = resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names });
    backend = await createKafkaRedisBackend(config, { clientId: 'yadtq-test-limits' });
    client = new TaskClient({ broker: backend.broker, store: backend.store });
    redis = new Redis(REDIS_URL);
    const env = { ...cliEnv(names), LIMITS_LOG_KEY: logKey };
    for (const id of ['lim-0', 'lim-1', 'lim-2']) {
      const args = ['worker', id, '--tasks', FIXTURE, '--concurrency', '7'];
      workers.set(id, spawnYadtq(args, env).child);
    }
    await until(async () => {
      const alive = (await backend.registry.list()).filter((w) => w.alive);
      return alive.length === 3 && alive.reduce((n, w) => n + w.partitions.length, 0) === 4;
    }, 90_000);
  });

  after(async () => {
    for (const child of workers.values()) child.kill('SIGTERM');
    await Promise.all([...workers.values()].map((child) => exited(child)));
    redis?.disconnect();
    await backend?.close();
    await deleteKeys(names.prefix);
  });

  test('never more than 2 of a tenant run at once, also when a worker is SIGKILLed mid-run; other tenants run beside', {
    timeout: 120_000,
  }, async () => {
    const tenantOf = new Map<string, string>();
    const handles = [];
    for (let i = 0; i < TENANTS * PER_TENANT; i++) {
      const tenant = `t${i % TENANTS}`;
      const handle = await client.submit(
        'limits.per-tenant',
        { tenant, ms: 800, i },
        { dedup: false },
      );
      tenantOf.set(handle.id, tenant);
      handles.push(handle);
    }
    // Kill a worker while it runs tasks: its slots must not be handed out before it is dead.
    let killedAt = 0;
    await until(async () => {
      const log = await redis.lrange(logKey, 0, -1);
      return log.some((e) => e.includes('"workerId":"lim-1"') && e.includes('"start"'));
    }, 30_000);
    workers.get('lim-1')!.kill('SIGKILL');
    killedAt = Date.now();
    await exited(workers.get('lim-1')!);
    workers.delete('lim-1');

    const ends = await Promise.all(handles.map((h) => client.wait(h, { timeoutMs: 90_000 })));
    assert.deepEqual(
      ends.filter((r) => r.status !== 'success').map((r) => `${r.id}: ${r.status}`),
      [],
    );
    const runs = readRuns(await redis.lrange(logKey, 0, -1), tenantOf, killedAt);
    const killedRuns = runs.filter((r) => r.workerId === 'lim-1' && r.end === killedAt).length;
    assert.ok(killedRuns > 0, 'the killed worker was running tasks');
    const perTenant = new Map<string, number>();
    for (const tenant of new Set(tenantOf.values())) {
      perTenant.set(tenant, mostAtOnce(runs.filter((r) => r.tenant === tenant)));
    }
    const overall = mostAtOnce(runs);
    console.log(
      `limits: ${runs.length} runs (${killedRuns} cut by the SIGKILL), most at once per tenant ${JSON.stringify(Object.fromEntries(perTenant))}, overall ${overall}`,
    );
    for (const [tenant, most] of perTenant) assert.ok(most <= 2, `${tenant}: ${most} at once`);
    assert.ok(
      [...perTenant.values()].some((most) => most === 2),
      'the limit was reached',
    );
    assert.ok(overall > 2, `tenants ran beside each other: ${overall} at once`);
  });
});

/** Runs from the log: a run cut by the kill (no end) ends when its worker was killed. */
function readRuns(entries: string[], tenantOf: Map<string, string>, killedAt: number): Run[] {
  const runs = new Map<string, Run>();
  for (const text of entries) {
    const e = JSON.parse(text) as { taskId: string; workerId: string; attempt: number };
    const { event, at } = JSON.parse(text) as { event: 'start' | 'end'; at: number };
    const key = `${e.taskId}#${e.attempt}#${e.workerId}`;
    const run = runs.get(key) ?? {
      taskId: e.taskId,
      workerId: e.workerId,
      tenant: tenantOf.get(e.taskId) ?? '?',
      start: Number.NaN,
      end: killedAt,
    };
    if (event === 'start') run.start = at;
    else run.end = at;
    runs.set(key, run);
  }
  return [...runs.values()];
}

/** The most runs going at one instant (an end and a start at the same ms do not overlap). */
function mostAtOnce(runs: readonly Run[]): number {
  const events = runs.flatMap((r) => [
    [r.start, 1],
    [r.end, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let most = 0;
  for (const [, step] of events) {
    now += step!;
    most = Math.max(most, now);
  }
  return most;
}

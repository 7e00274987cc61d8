import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { tickTaskId } from '../../src/core/schedule/schedule.ts';
import {
  type Backend,
  createKafkaRedisBackend,
  resolveConfig,
  type Schedule,
  TaskClient,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import { exited, spawnYadtq, yadtq } from './cli-helpers.ts';
import { cliEnv, deleteKeys, KAFKA_BROKERS, REDIS_URL, uniqueNames } from './services.ts';

const FIXTURE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'schedule-tasks.ts',
);
const EVERY_MS = 2000;

describe('a schedule every 2 s on two CLI workers, its leader SIGKILLed at a tick (Kafka + Redis)', () => {
  const names = uniqueNames('schedules');
  const logKey = `${names.prefix}runs`;
  const env = { ...cliEnv(names), SCHEDULE_LOG_KEY: logKey };
  let backend: Backend;
  let client: TaskClient;
  let redis: Redis;
  const workers = new Map<string, ChildProcess>();
  const start = (id: string) =>
    workers.set(
      id,
      spawnYadtq(['worker', id, '--tasks', FIXTURE, '--concurrency', '4'], env).child,
    );

  before(async () => {
    const config = resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names });
    backend = await createKafkaRedisBackend(config, { clientId: 'yadtq-test-schedules' });
    client = new TaskClient({
      broker: backend.broker,
      store: backend.store,
      schedules: backend.schedules,
    });
    redis = new Redis(REDIS_URL);
    for (const id of ['sch-0', 'sch-1']) start(id);
    await until(
      async () => (await backend.registry.list()).filter((w) => w.alive).length === 2,
      90_000,
    );
  });

  after(async () => {
    for (const child of workers.values())
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all([...workers.values()].map((child) => exited(child)));
    redis?.disconnect();
    await backend?.close();
    await deleteKeys(names.prefix);
  });

  test('one task per tick, none twice, through a leader kill; list and remove through the CLI', {
    timeout: 180_000,
  }, async () => {
    const added = await yadtq(
      [
        'schedule',
        'add',
        'every2s',
        '--cron',
        '*/2 * * * * *',
        '--task',
        'schedule.tick',
        '--args',
        '{"a":7}',
        '--catch-up',
      ],
      env,
    );
    assert.equal(added.code, 0, added.stderr);
    const first = Date.parse(JSON.parse(added.stdout).next);
    const listed = await yadtq(['schedule', 'list', '--json'], env);
    const [shown] = (JSON.parse(listed.stdout) as { schedules: Schedule[] }).schedules;
    assert.equal(shown?.name, 'every2s');
    assert.equal(shown?.cron, '*/2 * * * * *');
    assert.equal(shown?.task, 'schedule.tick');
    assert.deepEqual(shown?.args, { a: 7 });
    const table = await yadtq(['schedule', 'list'], env);
    assert.match(table.stdout, /every2s\s+\*\/2 \* \* \* \* \*\s+UTC\s+schedule\.tick/);

    // Let it fire a few ticks, then SIGKILL the leader 50 ms before a tick.
    await sleep(3 * EVERY_MS);
    const leader = (await redis.get(`${names.prefix}leader`)) ?? '';
    assert.ok(workers.has(leader), `a worker leads (${leader})`);
    await sleep(EVERY_MS - (Date.now() % EVERY_MS) - 50);
    workers.get(leader)!.kill('SIGKILL');
    const killedAt = Date.now();
    // The other worker takes the lead (the lock's TTL) and fires the ticks missed meanwhile.
    await sleep(5 * EVERY_MS);
    const removed = await yadtq(['schedule', 'remove', 'every2s'], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(JSON.parse(removed.stdout), { name: 'every2s', removed: true });
    const removedAt = Date.now();
    assert.equal((await yadtq(['schedule', 'remove', 'every2s'], env)).code, 1, 'gone');
    assert.deepEqual(await client.schedules(), []);

    // Every tick from the first to the last before the remove has exactly one task.
    const expected: string[] = [];
    for (let t = first; t < removedAt - 500; t += EVERY_MS) expected.push(tickTaskId('every2s', t));
    await until(async () => {
      const records = await Promise.all(expected.map((id) => client.status(id)));
      return records.every((r) => r?.status === 'success');
    }, 60_000);
    const keys = await scanKeys(redis, `${names.prefix}task:every2s:*`);
    const made = keys.map((k) => k.slice(`${names.prefix}task:`.length)).sort();
    const extra = made.filter((id) => !expected.includes(id));
    // A tick within 500 ms of the remove may or may not have fired; nothing else may.
    for (const id of extra)
      assert.ok(Date.parse(id.slice('every2s:'.length)) >= removedAt - 500, id);
    assert.ok(
      expected.every((id) => made.includes(id)),
      `every tick: ${made.join(' ')}`,
    );
    const runs = (await redis.lrange(logKey, 0, -1)).map(
      (line) => JSON.parse(line) as { taskId: string },
    );
    for (const id of expected) {
      const record = await client.status(id);
      const count = runs.filter((r) => r.taskId === id).length;
      assert.equal(record?.result, 7);
      // A run on the killed worker is run again (at least once), and then counted as a loss.
      assert.ok(count === 1 || (record?.losses ?? 0) > 0, `${id} ran ${count} times`);
    }
    console.log(
      `schedule: ${expected.length} ticks, ${made.length} tasks, ${runs.length} runs; leader ${leader} killed ${killedAt - first} ms after the first tick`,
    );
    // Removed: no more ticks.
    await sleep(2 * EVERY_MS);
    const later = await scanKeys(redis, `${names.prefix}task:every2s:*`);
    assert.equal(later.length, made.length, 'no task after the remove');
  });
});

async function scanKeys(redis: Redis, match: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

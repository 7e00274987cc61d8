import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Backend, defineTask, TaskClient, TaskWorker } from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import { kafkaRedisBackend } from './services.ts';

const BACKLOG = 5000;

let started = 0;
const work = defineTask(
  'prio.work',
  async (ms: number) => {
    started++;
    await sleep(ms);
    return ms;
  },
  { dedup: false },
);

describe('priorities on Kafka + Redis, 1 worker of 10 slots', () => {
  let backend: Backend;
  let worker: TaskWorker;

  before(async () => {
    backend = await kafkaRedisBackend('priorities');
    worker = new TaskWorker({ ...backend, id: 'prio-w1', tasks: [work], concurrency: 10 });
    await worker.start();
  });

  after(async () => {
    await worker?.stop();
    await backend?.close();
  });

  test('a high task behind a backlog of 5,000 normal ones starts at one of the next free slots, ahead of the normal tasks fetched or not yet fetched', {
    timeout: 120_000,
  }, async () => {
    const client = new TaskClient(backend);
    const normal = await client.submitMany(
      work,
      Array.from({ length: BACKLOG }, () => 3),
    );
    await until(() => started >= 200, 60_000);
    const submittedAt = Date.now();
    const high = await client.submit(work, 3, { priority: 'high' });
    const urgent = await client.wait(high, { timeoutMs: 60_000 });
    const ends = await Promise.all(normal.map((h) => client.wait(h, { timeoutMs: 90_000 })));
    assert.equal(urgent.status, 'success');
    assert.equal(urgent.priority, 'high');
    const after = ends.filter((r) => r.startedAt! > urgent.startedAt!).length;
    console.log(
      `priority: the high task started ${urgent.startedAt! - submittedAt} ms after its submit, ` +
        `before ${after} of the ${BACKLOG} normal tasks submitted ahead of it`,
    );
    // Without the priority it would start after all of them (one partition order aside).
    assert.ok(after >= BACKLOG - 1000, `it started before only ${after} normal tasks`);
  });

  test('low tasks submitted first give way to the 300 normal ones after them, then run without waiting for their runAt', {
    timeout: 120_000,
  }, async () => {
    const client = new TaskClient(backend);
    const low = await client.submitMany(work, [5, 5, 5], { priority: 'low' });
    const normal = await client.submitMany(
      work,
      Array.from({ length: 300 }, () => 20),
    );
    const ends = await Promise.all(normal.map((h) => client.wait(h, { timeoutMs: 60_000 })));
    const lows = await Promise.all(low.map((h) => client.wait(h, { timeoutMs: 60_000 })));
    assert.deepEqual(
      [...ends, ...lows].filter((r) => r.status !== 'success').map((r) => r.id),
      [],
    );
    const ahead = lows.map((l) => ends.filter((r) => r.startedAt! < l.startedAt!).length);
    const waited = lows.map((l) => l.startedAt! - l.submittedAt);
    console.log(
      `priority low: normal tasks started ahead of each low one ${JSON.stringify(ahead)}, low ones started after ${JSON.stringify(waited)} ms`,
    );
    assert.ok(
      ahead.every((n) => n >= 290),
      `gave way to ${ahead} of 300`,
    );
    assert.ok(
      waited.every((ms) => ms < 30_000),
      'produced once the backlog was small, not at the runAt',
    );
    assert.deepEqual(
      lows.map((r) => r.priority),
      ['low', 'low', 'low'],
    );
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Backend, defineTask, TaskClient, TaskWorker } from '../../src/index.ts';
import { kafkaRedisBackend } from './services.ts';

const LIMIT = 5;
const INTERVAL_MS = 1000;
const TASKS = 20;

/** Five starts per second across the fleet. */
const ping = defineTask('rate.ping', async (n: number) => n, {
  dedup: false,
  rateLimit: { limit: LIMIT, intervalMs: INTERVAL_MS },
});

describe('a rate limit of 5 starts per second on 2 workers (Kafka + Redis)', () => {
  let backend: Backend;
  let workers: TaskWorker[];

  before(async () => {
    backend = await kafkaRedisBackend('rates');
    workers = ['rate-w1', 'rate-w2'].map(
      (id) => new TaskWorker({ ...backend, id, tasks: [ping], concurrency: 20 }),
    );
    await Promise.all(workers.map((w) => w.start()));
  });

  after(async () => {
    await Promise.all((workers ?? []).map((w) => w.stop()));
    await backend?.close();
  });

  test('20 tasks submitted at once: no window of 1 s holds more than 5 starts, and each runs once', {
    timeout: 60_000,
  }, async () => {
    const client = new TaskClient(backend);
    const handles = await client.submitMany(
      ping,
      Array.from({ length: TASKS }, (_, i) => i),
    );
    const ends = await Promise.all(handles.map((h) => client.wait(h, { timeoutMs: 45_000 })));
    assert.deepEqual(
      ends.filter((r) => r.status !== 'success' || r.attempt !== 1).map((r) => r.id),
      [],
    );
    // The store's clock of each start: the claim's time, its record's startedAt.
    const starts = ends.map((r) => r.startedAt!).sort((a, b) => a - b);
    const crowded: string[] = [];
    for (let i = 0; i + LIMIT < starts.length; i++) {
      const span = starts[i + LIMIT]! - starts[i]!;
      if (span < INTERVAL_MS) crowded.push(`starts ${i}..${i + LIMIT} within ${span} ms`);
    }
    const spread = starts.at(-1)! - starts[0]!;
    console.log(`rate limit: ${TASKS} starts over ${spread} ms (${LIMIT} per ${INTERVAL_MS} ms)`);
    assert.deepEqual(crowded, [], 'at most 5 starts in any window of 1 s');
    assert.ok(spread >= (TASKS / LIMIT - 1) * INTERVAL_MS, `spread over ${spread} ms`);
  });
});

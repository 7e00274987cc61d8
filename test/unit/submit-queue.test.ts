import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineTask, TaskClient, YadtqError } from '../../src/index.ts';
import { MemoryBroker } from '../../src/memory/memory-broker.ts';
import { MemoryStore } from '../../src/memory/memory-store.ts';

/** The real memory pair, counting the calls the client makes. */
function counted(state = { failProduce: false }) {
  const store = new MemoryStore();
  const broker = new MemoryBroker();
  const calls = { createMany: 0, produce: 0, discard: 0, produced: 0 };
  const countedStore = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'createMany') calls.createMany++;
        if (property === 'discard') calls.discard++;
        return value.apply(target, args);
      };
    },
  });
  const countedBroker = new Proxy(broker, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'produce') {
          calls.produce++;
          if (state.failProduce)
            return Promise.reject(new YadtqError('BROKER_UNAVAILABLE', 'down'));
          calls.produced += (args[1] as unknown[]).length;
        }
        return value.apply(target, args);
      };
    },
  });
  const client = new TaskClient({ broker: countedBroker, store: countedStore });
  return { client, store, calls };
}

const job = defineTask('job', (n: number) => n);
const other = defineTask('other', (s: string) => s);

test('concurrent submits of one tick are written with one create and one produce', async () => {
  const { client, calls } = counted();
  const handles = await Promise.all([
    ...Array.from({ length: 50 }, (_, i) => client.submit(job, i)),
    ...Array.from({ length: 30 }, (_, i) => client.submit(other, `s${i}`)),
  ]);
  assert.equal(new Set(handles.map((h) => h.id)).size, 80);
  assert.equal(calls.createMany, 1);
  assert.equal(calls.produce, 1);
  assert.equal(calls.produced, 80);
});

test('submits with other dedup or cache choices get a create of their own, still one produce', async () => {
  const { client, calls } = counted();
  await Promise.all([
    client.submit(job, 1),
    client.submit(job, 2, { dedup: false }),
    client.submit(job, 3, { cache: false }),
  ]);
  assert.equal(calls.createMany, 3);
  assert.equal(calls.produce, 1);
});

test('identical submits of one tick are deduplicated in order: the first is the task', async () => {
  const { client, calls } = counted();
  const handles = await Promise.all(Array.from({ length: 20 }, () => client.submit(job, 7)));
  assert.equal(handles[0]!.deduplicated, false);
  assert.ok(handles.slice(1).every((h) => h.deduplicated && h.id === handles[0]!.id));
  assert.equal(calls.produced, 1);
});

test('a refused produce rejects the submits of that flush and removes their records', async () => {
  const state = { failProduce: true };
  const { client, calls } = counted(state);
  const results = await Promise.allSettled([client.submit(job, 1), client.submit(job, 2)]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  assert.equal(calls.discard, 2);
  state.failProduce = false;
  const again = await client.submit(job, 1);
  assert.equal(again.deduplicated, false, 'the dedup key of the unproduced task was released');
});

test('past maxPendingSubmits a submit fails at once with SUBMIT_BACKLOG_FULL instead of buffering', async () => {
  const store = new MemoryStore();
  let release: () => void = () => {};
  const stuck = new Promise<void>((resolve) => {
    release = resolve;
  });
  const broker = new MemoryBroker();
  // A broker that does not answer yet (Kafka slow or down).
  const slow = new Proxy(broker, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property !== 'produce') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: Parameters<MemoryBroker['produce']>) => {
        await stuck;
        return target.produce(...args);
      };
    },
  });
  const client = new TaskClient({ broker: slow, store, maxPendingSubmits: 5 });
  const waiting = Array.from({ length: 5 }, (_, i) => client.submit(job, i));
  await assert.rejects(client.submit(job, 99), { code: 'SUBMIT_BACKLOG_FULL' });
  release();
  assert.equal((await Promise.all(waiting)).length, 5);
  const after = await client.submit(job, 100);
  assert.equal(after.status, 'queued', 'room again once they were written');
});

test('submits of one tick with different dedup flags are created in call order (an ordering lane keeps it)', async () => {
  const { createMemoryBackend, TaskClient: Client } = await import('../../src/index.ts');
  const backend = createMemoryBackend();
  try {
    const client = new Client(backend);
    const lane = { orderingKey: 'tenant-order' };
    const [a, b, c] = await Promise.all([
      client.submit('job', [1], { ...lane, dedup: true }),
      client.submit('job', [2], { ...lane, dedup: false }),
      client.submit('job', [3], { ...lane, dedup: true }),
    ]);
    const seqs = await Promise.all(
      [a, b, c].map(async (h) => (await client.status(h!.id))?.laneSeq),
    );
    assert.deepEqual(
      [...seqs].sort((x, y) => x! - y!),
      seqs,
      `laneSeq in call order: ${JSON.stringify(seqs)}`,
    );
  } finally {
    await backend.close();
  }
});

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  type Backend,
  defineTask,
  encodeEnvelope,
  isYadtqError,
  TaskClient,
  TaskWorker,
  type TaskWorkerOptions,
} from '../../src/index.ts';

/** Makes a fresh, isolated backend (own topic, group and key prefix) for one test. */
export type BackendFactory = () => Promise<Backend>;

/** Reads `count` messages of a backend's dead-letter topic (waiting for them). */
export type DeadLetterReader = (
  backend: Backend,
  count: number,
) => Promise<Array<{ value: string; headers: Record<string, string> }>>;

/**
 * The contract every broker + store pair must keep. It runs unchanged against the memory
 * pair and against real Kafka + Redis, so the two cannot drift.
 */
export function runContract(
  label: string,
  makeBackend: BackendFactory,
  deadLetters: DeadLetterReader,
): void {
  describe(`contract: ${label}`, () => {
    const open: Array<() => Promise<void>> = [];
    after(async () => {
      for (const close of open.reverse()) await close();
    });

    async function setup(tasks: TaskWorkerOptions['tasks'], workers = 1) {
      const backend = await makeBackend();
      const client = new TaskClient({ broker: backend.broker, store: backend.store });
      const started: TaskWorker[] = [];
      for (let i = 0; i < workers; i++) {
        const worker = new TaskWorker({
          id: `w${i}-${Math.random().toString(36).slice(2, 8)}`,
          broker: backend.broker,
          store: backend.store,
          registry: backend.registry,
          monitorStore: backend.monitorStore,
          tasks,
          concurrency: 8,
        });
        await worker.start();
        started.push(worker);
      }
      open.push(async () => {
        for (const worker of started) await worker.stop();
        await backend.close();
      });
      return { backend, client, workers: started };
    }

    test('lifecycle: queued → processing → success, with result and timings', async () => {
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const square = defineTask('square', async (n: number) => {
        await gate;
        return n * n;
      });
      const { client, workers } = await setup([square]);
      const handle = await client.submit(square, 7);
      assert.equal(handle.deduplicated, false);
      assert.equal(handle.cached, false);
      assert.ok(['queued', 'processing'].includes((await client.status(handle.id))?.status ?? ''));
      await until(async () => (await client.status(handle.id))?.status === 'processing');
      release();
      const result: number = await client.result(handle, { timeoutMs: 30_000 });
      assert.equal(result, 49);
      const record = await client.status(handle.id);
      assert.ok(record);
      assert.equal(record.status, 'success');
      assert.equal(record.name, 'square');
      assert.deepEqual(record.args, 7);
      assert.equal(record.worker, workers[0]!.id);
      assert.equal(record.attempt, 1);
      assert.equal(record.cached, false);
      assert.ok(record.startedAt! >= record.submittedAt);
      assert.ok(record.finishedAt! >= record.startedAt!);
      assert.equal(record.durationMs, record.finishedAt! - record.startedAt!);
    });

    test('a failing handler stores its error: message, name and stack', async () => {
      const divide = defineTask('divide', ([a, b]: [number, number]) => {
        if (b === 0) throw new RangeError('division by zero');
        return a / b;
      });
      const { client } = await setup([divide]);
      const record = await client.wait(await client.submit(divide, [1, 0]), { timeoutMs: 30_000 });
      assert.equal(record.status, 'failed');
      assert.equal(record.error?.message, 'division by zero');
      assert.equal(record.error?.name, 'RangeError');
      assert.match(record.error?.stack ?? '', /division by zero/);
      await assert.rejects(client.result(record.id), (e) => isYadtqError(e, 'TASK_FAILED'));
    });

    test('a task over its timeout fails with TASK_TIMEOUT and its signal fires', async () => {
      let aborted = false;
      const slow = defineTask('slow', async (_: null, { signal }) => {
        await new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        });
        return 'late';
      });
      const { client } = await setup([slow]);
      const record = await client.wait(await client.submit(slow, null, { timeoutMs: 200 }), {
        timeoutMs: 30_000,
      });
      assert.equal(record.status, 'failed');
      assert.equal(record.error?.code, 'TASK_TIMEOUT');
      assert.equal(record.result, null);
      assert.equal(aborted, true);
    });

    test('an unknown task name fails, naming the task and the known ones', async () => {
      const known = defineTask('known', () => 1);
      const { client } = await setup([known]);
      const record = await client.wait(await client.submit('nope', [1]), { timeoutMs: 30_000 });
      assert.equal(record.status, 'failed');
      assert.equal(record.error?.code, 'UNKNOWN_TASK');
      assert.match(record.error?.message ?? '', /"nope".*known/);
    });

    test('dedup: 100 concurrent identical submits make one task and one execution', async () => {
      let runs = 0;
      const once = defineTask('once', async (x: { a: number; b: number }) => {
        runs++;
        await new Promise((r) => setTimeout(r, 300));
        return x.a + x.b;
      });
      const { client } = await setup([once]);
      // Key order differs: canonical JSON makes them identical.
      const handles = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          client.submit(once, i % 2 ? { a: 1, b: 2 } : { b: 2, a: 1 }),
        ),
      );
      const ids = new Set(handles.map((h) => h.id));
      assert.equal(ids.size, 1);
      assert.equal(handles.filter((h) => h.deduplicated).length, 99);
      assert.equal(await client.result(handles[0]!, { timeoutMs: 30_000 }), 3);
      assert.equal(runs, 1);
    });

    test('an explicit dedup key joins different args; dedup: false does not', async () => {
      let runs = 0;
      const job = defineTask('job', async (n: number) => {
        runs++;
        await new Promise((r) => setTimeout(r, 200));
        return n;
      });
      const { client } = await setup([job]);
      const a = await client.submit(job, 1, { dedupKey: 'nightly', cache: false });
      const b = await client.submit(job, 2, { dedupKey: 'nightly', cache: false });
      assert.equal(b.id, a.id);
      assert.equal(b.deduplicated, true);
      const c = await client.submit(job, 5, { dedup: false });
      const d = await client.submit(job, 5, { dedup: false });
      assert.notEqual(c.id, d.id);
      await Promise.all([a, c, d].map((h) => client.wait(h, { timeoutMs: 30_000 })));
      assert.equal(runs, 3);
    });

    test('result cache: an identical submit after success is answered at once, cached', async () => {
      let runs = 0;
      const cachedSquare = defineTask(
        'cached-square',
        (n: number) => {
          runs++;
          return n * n;
        },
        { cacheTtlMs: 60_000 },
      );
      const { client } = await setup([cachedSquare]);
      assert.equal(await client.run(cachedSquare, 9), 81);
      const again = await client.submit(cachedSquare, 9);
      assert.equal(again.cached, true);
      assert.equal(again.status, 'success');
      const record = await client.status(again.id);
      assert.equal(record?.status, 'success');
      assert.equal(record?.cached, true);
      assert.equal(record?.result, 81);
      assert.equal(runs, 1);
      const fresh = await client.submit(cachedSquare, 9, { cache: false });
      assert.equal(fresh.cached, false);
      assert.equal(await client.result(fresh, { timeoutMs: 30_000 }), 81);
      assert.equal(runs, 2);
    });

    test('fencing: a finish from a worker that lost its claim is refused', async () => {
      const backend = await makeBackend();
      open.push(() => backend.close());
      const { store } = backend;
      const envelope = {
        v: 1 as const,
        id: `fence-${Date.now()}`,
        name: 'x',
        args: null,
        attempt: 1,
        maxAttempts: 1,
        timeoutMs: 1000,
        dedupKey: null,
        submittedAt: Date.now(),
      };
      const a = await store.claim(envelope, 'worker-a', Date.now());
      assert.equal(a.ok, true);
      // worker-a is found dead: the reaper's requeue, then worker-b claims the task.
      assert.deepEqual(await store.claim(envelope, 'worker-b', Date.now()), {
        ok: false,
        reason: 'held',
      });
      assert.equal(
        (await backend.monitorStore.requeue(envelope.id, 'worker-a', Date.now(), 3)).ok,
        true,
      );
      const b = await store.claim(envelope, 'worker-b', Date.now());
      assert.equal(b.ok, true);
      const outcome = { status: 'success' as const, result: 'from a' };
      assert.equal(
        await store.finish(envelope.id, {
          workerId: 'worker-a',
          attempt: 1,
          now: Date.now(),
          outcome,
          cacheTtlMs: 0,
        }),
        false,
      );
      const wrongAttempt = {
        workerId: 'worker-b',
        attempt: 2,
        now: Date.now(),
        outcome,
        cacheTtlMs: 0,
      };
      assert.equal(await store.finish(envelope.id, wrongAttempt), false);
      const right = {
        workerId: 'worker-b',
        attempt: 1,
        now: Date.now(),
        outcome: { status: 'success' as const, result: 'from b' },
        cacheTtlMs: 0,
      };
      assert.equal(await store.finish(envelope.id, right), true);
      // The same finish again (a resend after a lost reply) is answered as done; a later
      // one of the same worker is refused.
      assert.equal(await store.finish(envelope.id, right), true);
      assert.equal(await store.finish(envelope.id, { ...right, now: right.now + 1 }), false);
      assert.equal((await store.get(envelope.id))?.result, 'from b');
    });

    test('a claim is refused while a worker holds the task, even a second claim by itself', async () => {
      const backend = await makeBackend();
      open.push(() => backend.close());
      const { store } = backend;
      const now = Date.now();
      await backend.registry.register(
        {
          id: 'holder',
          host: 'h',
          pid: 1,
          startedAt: now,
          lastHeartbeat: now,
          concurrency: 1,
          processed: 0,
          failed: 0,
          inFlight: 0,
          partitions: [],
        },
        5000,
      );
      const envelope = {
        v: 1 as const,
        id: `held-${now}`,
        name: 'x',
        args: null,
        attempt: 1,
        maxAttempts: 1,
        timeoutMs: 1000,
        dedupKey: null,
        submittedAt: now,
      };
      assert.equal((await store.claim(envelope, 'holder', now)).ok, true);
      assert.deepEqual(await store.claim(envelope, 'other', now), { ok: false, reason: 'held' });
      assert.deepEqual(await store.claim(envelope, 'holder', now), { ok: false, reason: 'held' });
      await backend.registry.deregister('holder');
    });

    test('a claim with loneLosses refuses a task with that many losses (run-alone), untouched', async () => {
      const backend = await makeBackend();
      open.push(() => backend.close());
      const { store } = backend;
      const now = Date.now();
      const envelope = {
        v: 1 as const,
        id: `lone-${now}`,
        name: 'x',
        args: null,
        attempt: 1,
        maxAttempts: 1,
        timeoutMs: 1000,
        dedupKey: null,
        submittedAt: now,
      };
      assert.equal((await store.claim(envelope, 'dies-1', now, undefined, 2)).ok, true);
      assert.equal((await backend.monitorStore.requeue(envelope.id, 'dies-1', now, 3)).ok, true);
      assert.equal((await store.claim(envelope, 'dies-2', now, undefined, 2)).ok, true);
      assert.equal((await backend.monitorStore.requeue(envelope.id, 'dies-2', now, 3)).ok, true);
      assert.deepEqual(await store.claim(envelope, 'busy', now, undefined, 2), {
        ok: false,
        reason: 'run-alone',
      });
      const left = await store.get(envelope.id);
      assert.deepEqual([left?.status, left?.losses], ['queued', 2]);
      assert.deepEqual(await backend.monitorStore.heldBy('busy'), []);
      const alone = await store.claim(envelope, 'idle', now);
      assert.equal(alone.ok && alone.record.losses, 2);
      assert.deepEqual(await backend.monitorStore.heldBy('idle'), [envelope.id]);
    });

    test('a message delivered twice runs once', async () => {
      let runs = 0;
      const twice = defineTask('twice', async (n: number) => {
        runs++;
        await new Promise((r) => setTimeout(r, 100));
        return n + 1;
      });
      const { backend, client } = await setup([twice]);
      const handle = await client.submit(twice, 41);
      const record = await client.status(handle.id);
      assert.ok(record);
      const envelope = encodeEnvelope({ v: 1, ...record, dedupKey: record.dedupKey });
      await backend.broker.produce('tasks', [{ key: handle.id, value: envelope }]);
      assert.equal(await client.result(handle, { timeoutMs: 30_000 }), 42);
      await backend.broker.produce('tasks', [{ key: handle.id, value: envelope }]);
      const marker = await client.run(twice, 100);
      assert.equal(marker, 101);
      assert.equal(runs, 2);
    });

    test('malformed messages go to the dead-letter topic with the reason, and the worker carries on', async () => {
      const echo = defineTask('echo', (x: string) => x);
      const { backend, client } = await setup([echo]);
      const good = {
        v: 1,
        id: 'x1',
        name: 'echo',
        args: 'a',
        attempt: 1,
        maxAttempts: 1,
        timeoutMs: 1000,
        dedupKey: null,
        submittedAt: 1,
      };
      await backend.broker.produce('tasks', [
        { key: 'bad-1', value: 'this is not json', headers: { origin: 'test' } },
        { key: 'bad-2', value: JSON.stringify({ ...good, v: 2 }) },
      ]);
      assert.equal(await client.run(echo, 'still working'), 'still working');
      const dead = await deadLetters(backend, 2);
      const byValue = new Map(dead.map((d) => [d.value, d.headers]));
      assert.match(byValue.get('this is not json')?.['yadtq-error'] ?? '', /not JSON/);
      assert.equal(byValue.get('this is not json')?.['yadtq-error-code'], 'INVALID_MESSAGE');
      assert.equal(byValue.get('this is not json')?.origin, 'test');
      assert.match(
        byValue.get(JSON.stringify({ ...good, v: 2 }))?.['yadtq-error'] ?? '',
        /unsupported version 2/,
      );
    });

    test('a claim whose reply was lost (the task is already held by this worker) is run, not skipped', async () => {
      let runs = 0;
      const resumed = defineTask('resumed', (n: number) => {
        runs++;
        return n * 10;
      });
      const { backend, client, workers } = await setup([resumed]);
      const now = Date.now();
      const envelope = {
        v: 1 as const,
        id: `lost-reply-${now}`,
        name: 'resumed',
        args: 4,
        attempt: 1,
        maxAttempts: 1,
        timeoutMs: 5000,
        dedupKey: null,
        submittedAt: now,
      };
      // As if the worker's claim had been applied but its reply lost in a reconnect.
      assert.equal((await backend.store.claim(envelope, workers[0]!.id, now)).ok, true);
      await backend.broker.produce('tasks', [
        { key: envelope.id, value: encodeEnvelope(envelope) },
      ]);
      const record = await client.wait(envelope.id, { timeoutMs: 30_000 });
      assert.equal(record.status, 'success');
      assert.equal(record.result, 40);
      assert.equal(runs, 1);
    });

    test('a worker id whose heartbeat is alive is refused', async () => {
      const noop = defineTask('noop', () => null);
      const { backend, workers } = await setup([noop]);
      const twin = new TaskWorker({
        id: workers[0]!.id,
        broker: backend.broker,
        store: backend.store,
        registry: backend.registry,
        monitorStore: backend.monitorStore,
        tasks: [noop],
      });
      await assert.rejects(twin.start(), (e) => isYadtqError(e, 'WORKER_ID_IN_USE'));
      const listed = await backend.registry.list();
      assert.ok(listed.some((w) => w.id === workers[0]!.id && w.alive === true));
    });

    test('two workers share the partitions and every task ends with the right result', async () => {
      const triple = defineTask('triple', async (n: number) => {
        await new Promise((r) => setTimeout(r, 5));
        return n * 3;
      });
      const { client, workers } = await setup([triple], 2);
      await until(async () => workers.every((w) => w.info().partitions.length > 0), 30_000);
      const handles = await client.submitMany(
        triple,
        Array.from({ length: 200 }, (_, i) => i),
      );
      const records = await Promise.all(handles.map((h) => client.wait(h, { timeoutMs: 60_000 })));
      records.forEach((r, i) => {
        assert.equal(r.status, 'success');
        assert.equal(r.result, i * 3);
      });
      const perWorker = new Map<string, number>();
      for (const r of records) perWorker.set(r.worker!, (perWorker.get(r.worker!) ?? 0) + 1);
      assert.equal(perWorker.size, 2, `tasks per worker: ${JSON.stringify([...perWorker])}`);
    });
  });
}

/** Polls `condition` until it holds or the time runs out. */
export async function until(
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

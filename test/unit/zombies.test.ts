import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createMemoryBackend,
  defineTask,
  isYadtqError,
  type LogFields,
  type Logger,
  TaskClient,
  TaskWorker,
  type TaskWorkerOptions,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';

// Zombie handlers: given up at their timeout, still running because they ignore their
// AbortSignal. Each key's handler waits for its gate (released by the test) on attempt 1
// and answers at once on later attempts.
const gates = new Map<string, () => void>();
const starts: { key: string; attempt: number; at: number }[] = [];
let running = 0;
let mostRunning = 0;

const ignoring = defineTask(
  'zombie.ignore',
  async (key: string, { attempt }) => {
    starts.push({ key, attempt, at: Date.now() });
    if (attempt === 1) await new Promise<void>((release) => gates.set(key, release));
    return attempt;
  },
  { timeoutMs: 200, maxAttempts: 2, backoffMs: 20, backoffMaxMs: 20, dedup: false },
);

const nap = defineTask(
  'zombie.nap',
  async (ms: number) => {
    running++;
    mostRunning = Math.max(mostRunning, running);
    await sleep(ms);
    running--;
    return ms;
  },
  { dedup: false },
);

function release(key: string): number {
  const open = gates.get(key);
  assert.ok(open, `the handler of ${key} is waiting`);
  open();
  return Date.now();
}

function recordingLogger(): Logger & {
  lines: { level: string; msg: string; fields?: LogFields }[];
} {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const at = (level: string) => (msg: string, fields?: LogFields) => {
    lines.push({ level, msg, fields });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('zombie handlers (a timed-out handler that ignores its signal)', () => {
  const backend = createMemoryBackend();
  const client = new TaskClient({ broker: backend.broker, store: backend.store });
  const workers: TaskWorker[] = [];
  after(async () => {
    for (const open of gates.values()) open();
    await Promise.all(workers.map((w) => w.stop()));
    await backend.close();
  });

  function worker(id: string, options: Partial<TaskWorkerOptions> = {}): TaskWorker {
    const made = new TaskWorker({
      id: `${id}-${Math.random().toString(36).slice(2, 8)}`,
      broker: backend.broker,
      store: backend.store,
      registry: backend.registry,
      monitorStore: backend.monitorStore,
      tasks: [ignoring, nap],
      heartbeatIntervalMs: 50,
      heartbeatTtlMs: 2000,
      monitor: { intervalMs: 50 },
      ...options,
    });
    workers.push(made);
    return made;
  }

  test('keeps its slot until it returns; the next attempt waits for it; the heartbeat counts it', async () => {
    const w = worker('zw-slot', { concurrency: 3, maxZombies: 2 });
    await w.start();
    // Attempt 2 waits for attempt 1's handler up to its own timeout (1 s): time for the checks.
    const handle = await client.submit(ignoring, 'a', { timeoutMs: 1000 });
    await until(async () => (await client.status(handle.id))?.attempt === 2, 5000);
    assert.equal(w.info().zombies, 1);
    await until(async () => {
      const published = (await backend.registry.list()).find((i) => i.id === w.id);
      return published?.zombies === 1;
    }, 2000);
    // Attempt 2 is due and delivered, but does not start beside attempt 1's handler.
    await sleep(150);
    assert.deepEqual(
      starts.filter((s) => s.key === 'a').map((s) => s.attempt),
      [1],
    );
    assert.equal((await client.status(handle.id))?.status, 'queued');
    // Of 3 slots, the zombie holds one and the waiting attempt one: naps run one at a time.
    mostRunning = 0;
    const naps = await client.submitMany(nap, [150, 150, 150]);
    for (const n of naps)
      assert.equal((await client.wait(n, { timeoutMs: 5000 })).status, 'success');
    assert.equal(mostRunning, 1);
    const releasedAt = release('a');
    const record = await client.wait(handle, { timeoutMs: 5000 });
    assert.equal(record.status, 'success');
    assert.equal(record.result, 2);
    const second = starts.find((s) => s.key === 'a' && s.attempt === 2);
    assert.ok(
      second !== undefined && second.at >= releasedAt,
      'attempt 2 began after attempt 1 returned',
    );
    assert.equal(w.info().zombies, 0);
    await w.stop();
    assert.deepEqual(await w.whenStopped(), { by: 'request' });
  });

  test('past maxZombies the worker drains (running tasks finish) and stops, saying why', async () => {
    const logger = recordingLogger();
    const w = worker('zw-limit', { concurrency: 4, maxZombies: 1, monitor: false, logger });
    await w.start();
    const ordinary = await client.submit(nap, 600);
    const zombies = await client.submitMany(ignoring, ['b', 'c'], { maxAttempts: 1 });
    const reason = await w.whenStopped();
    assert.equal(reason.by, 'zombies');
    assert.ok(reason.by === 'zombies' && reason.zombies === 2);
    assert.match(
      reason.message,
      /2 zombie handlers .* more than the 1 allowed: draining and exiting/,
    );
    assert.ok(logger.lines.some((l) => l.level === 'error' && /zombie handlers/.test(l.msg)));
    assert.equal((await client.wait(ordinary, { timeoutMs: 2000 })).status, 'success');
    for (const z of zombies) {
      const record = await client.wait(z, { timeoutMs: 2000 });
      assert.equal(record.error?.code, 'TASK_TIMEOUT');
    }
    assert.equal(w.info().zombies, 2);
    release('b');
    release('c');
  });

  test('a zombie that holds up its own next attempt past its timeout stops the worker; another runs the attempt', async () => {
    const w = worker('zw-held', { concurrency: 4, maxZombies: 2 });
    await w.start();
    const handle = await client.submit(ignoring, 'd');
    const reason = await w.whenStopped();
    assert.equal(reason.by, 'zombies');
    assert.match(reason.by === 'zombies' ? reason.message : '', /holding up its next attempt/);
    const record = await client.status(handle.id);
    assert.deepEqual([record?.status, record?.attempt], ['queued', 2], 'not run beside its zombie');
    const rescuer = worker('zw-rescue', { monitor: false });
    await rescuer.start();
    const done = await client.wait(handle, { timeoutMs: 5000 });
    assert.equal(done.status, 'success');
    assert.equal(done.worker, rescuer.id);
    release('d');
    await rescuer.stop();
  });

  test('with one slot the first zombie stops the worker; a bad maxZombies fails at construction', async () => {
    const w = worker('zw-one', { concurrency: 1, monitor: false });
    await w.start();
    await client.submit(ignoring, 'e', { maxAttempts: 1 });
    const reason = await w.whenStopped();
    assert.ok(reason.by === 'zombies' && reason.zombies === 1, JSON.stringify(reason));
    release('e');
    assert.throws(
      () => worker('zw-bad', { maxZombies: -1 }),
      (error) => isYadtqError(error, 'INVALID_OPTION'),
    );
  });
});

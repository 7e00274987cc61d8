// Fault paths on real Kafka + Redis: a store step or a dead-letter produce that fails for a
// while is retried in place (only that step), the task ends once, and the partition's
// committed offset reaches its end; messages too large to dead-letter as they are, handler
// errors of megabytes, expired records, lost cancels and long delays all end in a stated
// outcome, never in silence.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalRedis } from '../../scripts/services/index.ts';
import {
  type Backend,
  type Broker,
  createKafkaRedisBackend,
  DEFAULTS,
  DLQ_HEADERS,
  defineTask,
  encodeEnvelope,
  NonRetryableError,
  resolveConfig,
  type StoredMessage,
  TaskClient,
  type TaskEnvelope,
  TaskWorker,
  YadtqError,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import {
  deleteKeys,
  KAFKA_BROKERS,
  kafkaRedisBackend,
  REDIS_URL,
  uniqueNames,
} from './services.ts';

const FAULT_MS = 10_000;
const FAST = { heartbeatIntervalMs: 250, heartbeatTtlMs: 2000 };
const MONITOR = { intervalMs: 100, leaderTtlMs: 1000 };

/** Counts calls of `method` and fails them with STORE_UNAVAILABLE for `forMs` from the first. */
function failing<T extends object>(target: T, method: string, forMs: number, error: () => Error) {
  let firstAt: number | undefined;
  const calls = { total: 0, failed: 0 };
  const proxy = new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      if (property !== method) return value.bind(object);
      return (...args: unknown[]) => {
        calls.total++;
        firstAt ??= Date.now();
        if (Date.now() - firstAt < forMs) {
          calls.failed++;
          return Promise.reject(error());
        }
        return value.apply(object, args);
      };
    },
  });
  return { proxy, calls };
}

/** Sleeps `ms`, or until `signal` fires (then calls `onAbort`). */
function sleepUnlessAborted(ms: number, signal: AbortSignal, onAbort: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      onAbort();
      clearTimeout(timer);
      resolve();
    });
  });
}

const storeDown = () =>
  new YadtqError('STORE_UNAVAILABLE', 'injected: Redis unreachable', { retriable: true });
const brokerDown = () =>
  new YadtqError('BROKER_UNAVAILABLE', 'injected: Kafka refused the produce', { retriable: true });

/** The first dead-lettered message that `matches`, polled through the public API (bounded). */
async function deadLetter(
  backend: Backend,
  matches: (headers: Record<string, string>) => boolean,
  timeoutMs = 20_000,
): Promise<StoredMessage> {
  let found: StoredMessage | undefined;
  await until(async () => {
    found = (await backend.broker.deadLetters(20)).find((m) => matches(m.headers ?? {}));
    return found !== undefined;
  }, timeoutMs);
  return found!;
}

/** Every partition's committed offset has reached its end (nothing left uncommitted). */
async function fullyCommitted(backend: Backend): Promise<boolean> {
  const lag = await backend.lag();
  return (
    lag.partitions.length > 0 &&
    lag.partitions.every((p) => p.endOffset === 0 || p.committedOffset === p.endOffset)
  );
}

describe('fault paths: no abandoned delivery, no blocked partition', { concurrency: true }, () => {
  const open: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of open.reverse()) await close().catch(() => {});
  });

  async function start(
    label: string,
    store: Backend['store'],
    broker: Broker,
    backend: Backend,
    tasks: never[],
    more: { registry?: Backend['registry']; watchdog?: boolean } = {},
  ) {
    const worker = new TaskWorker({
      id: `fp-${label}-${Math.random().toString(36).slice(2, 6)}`,
      broker,
      store,
      registry: backend.registry,
      monitorStore: backend.monitorStore,
      tasks,
      ...FAST,
      monitor: MONITOR,
      ...more,
    });
    await worker.start();
    open.push(async () => {
      await worker.stop();
      await backend.close();
    });
    return worker;
  }

  for (const step of ['claim', 'finish'] as const) {
    test(`a ${step} failing for 10 s is retried in place: the task ends success once, the partition commits to its end`, async () => {
      const backend = await kafkaRedisBackend(`fp-${step}`);
      let runs = 0;
      const echo = defineTask(`echo-${step}`, async (n: number) => {
        runs++;
        return n * 2;
      });
      // The worker sends its claims and finishes in batches (claimMany, finishMany).
      const { proxy, calls } = failing(backend.store, `${step}Many`, FAULT_MS, storeDown);
      await start(step, proxy, backend.broker, backend, [echo] as never[]);
      const client = new TaskClient({ broker: backend.broker, store: backend.store });
      const handle = await client.submit(echo, 21);
      const record = await client.wait(handle, { timeoutMs: FAULT_MS + 20_000 });
      assert.equal(record.status, 'success');
      assert.equal(record.result, 42);
      assert.equal(runs, 1, 'the handler ran once');
      assert.ok(calls.failed >= 2, `the ${step} was retried (${calls.failed} failed calls)`);
      await until(() => fullyCommitted(backend), 10_000);
    });
  }

  test('a dead-letter produce failing for 10 s is retried alone: the finish is not redone, the copy arrives, the partition commits', async () => {
    const backend = await kafkaRedisBackend('fp-dlq');
    const doomed = defineTask('doomed', () => {
      throw new NonRetryableError('no luck');
    });
    const broker = failing(backend.broker, 'produce', FAULT_MS, brokerDown);
    const finishes = failing(backend.store, 'finishMany', 0, storeDown);
    // The client produces through the real broker; only the worker's produce (the dead-letter copy) fails.
    await start('dlq', finishes.proxy, broker.proxy, backend, [doomed] as never[]);
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const handle = await client.submit(doomed, []);
    const record = await client.wait(handle, { timeoutMs: 10_000 });
    assert.equal(record.status, 'failed');
    const copy = await deadLetter(backend, (h) => h[DLQ_HEADERS.taskId] === handle.id);
    assert.equal(copy.headers?.[DLQ_HEADERS.reason], 'exhausted');
    assert.ok(broker.calls.failed >= 2, `the produce was retried (${broker.calls.failed} failed)`);
    assert.equal(finishes.calls.total, 1, 'the stored finish was not sent again');
    await until(() => fullyCommitted(backend), 10_000);
  });

  test('a garbage message of the topic limit minus 200 bytes is dead-lettered (truncated, size and digest kept) and the partition commits past it', async () => {
    const backend = await kafkaRedisBackend('fp-big');
    await start('big', backend.store, backend.broker, backend, [] as never[]);
    // The broker's default max.message.bytes, which the test topic has.
    const limit = 1_048_588;
    const garbage = `{"not": "an envelope", "pad": "${'x'.repeat(limit - 200 - 40)}"}`;
    await backend.broker.produce('tasks', [{ key: 'garbage', value: garbage }]);
    const copy = await deadLetter(backend, (h) => h[DLQ_HEADERS.reason] === 'invalid-message');
    assert.equal(copy.headers?.['yadtq-original-size'], String(Buffer.byteLength(garbage)));
    assert.match(copy.headers?.['yadtq-original-sha256'] ?? '', /^[0-9a-f]{64}$/);
    assert.ok((copy.value.length ?? 0) < garbage.length, 'the body was truncated');
    await until(() => fullyCommitted(backend), 10_000);
  });

  test('a handler throwing a 5 MB error message: the task fails with the text capped, is dead-lettered, and the partition commits', async () => {
    const backend = await kafkaRedisBackend('fp-huge-error');
    const loud = defineTask('loud', () => {
      throw new NonRetryableError(`boom ${'!'.repeat(5 * 1024 * 1024)}`);
    });
    await start('loud', backend.store, backend.broker, backend, [loud] as never[]);
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const handle = await client.submit(loud, []);
    const record = await client.wait(handle, { timeoutMs: 15_000 });
    assert.equal(record.status, 'failed');
    assert.ok(record.error!.message.startsWith('boom !!!'));
    assert.ok(
      record.error!.message.length <= 8 * 1024,
      `message ${record.error!.message.length} chars`,
    );
    assert.ok((record.error!.stack ?? '').length <= 8 * 1024, 'stack capped');
    const copy = await deadLetter(backend, (h) => h[DLQ_HEADERS.taskId] === handle.id);
    assert.ok((copy.headers?.[DLQ_HEADERS.error] ?? '').length <= 8 * 1024);
    await until(() => fullyCommitted(backend), 10_000);
  });

  test('the largest args the client accepts fit the topic with the envelope; larger ones fail at once with PAYLOAD_TOO_LARGE', async () => {
    const backend = await kafkaRedisBackend('fp-payload');
    const size = defineTask('size', (text: string) => text.length);
    await start('payload', backend.store, backend.broker, backend, [size] as never[]);
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const limit = DEFAULTS.maxPayloadBytes;
    const fits = await client.submit(size, 'y'.repeat(limit - 2));
    const record = await client.wait(fits, { timeoutMs: 15_000 });
    assert.equal(record.status, 'success');
    assert.equal(record.result, limit - 2);
    await assert.rejects(client.submit(size, 'z'.repeat(1_040_000)), { code: 'PAYLOAD_TOO_LARGE' });
  });

  test('a redelivered message whose record expired is not run again: it is dead-lettered as expired', async () => {
    const backend = await kafkaRedisBackend('fp-expired');
    let runs = 0;
    const old = defineTask('old', () => {
      runs++;
      return 1;
    });
    await start('expired', backend.store, backend.broker, backend, [old] as never[]);
    const day = 24 * 60 * 60 * 1000;
    const envelope: TaskEnvelope = {
      v: 1,
      id: `expired-${Date.now().toString(36)}`,
      name: 'old',
      args: [],
      attempt: 1,
      maxAttempts: 1,
      timeoutMs: 1000,
      dedupKey: null,
      submittedAt: Date.now() - 2 * day,
    };
    await backend.broker.produce('tasks', [{ key: envelope.id, value: encodeEnvelope(envelope) }]);
    const copy = await deadLetter(backend, (h) => h[DLQ_HEADERS.taskId] === envelope.id);
    assert.equal(copy.headers?.[DLQ_HEADERS.reason], 'expired');
    assert.equal(runs, 0, 'the handler never ran');
    assert.equal(await backend.store.get(envelope.id), null, 'no record was recreated');
    await until(() => fullyCommitted(backend), 10_000);
  });

  test('a cancel whose pub/sub message is lost still ends the running task cancelled (heartbeat check, and at finish)', async () => {
    const backend = await kafkaRedisBackend('fp-cancel');
    const aborted: string[] = [];
    const patient = defineTask('patient', async (ms: number, { signal, taskId }) => {
      await sleepUnlessAborted(ms, signal, () => aborted.push(taskId));
      return 'done';
    });
    const deaf = defineTask(
      'deaf',
      async (ms: number) => {
        await sleep(ms);
        return 'done anyway';
      },
      { cacheTtlMs: 60_000 },
    );
    // The worker never hears the cancel channel (as while its subscriber reconnects).
    const store = new Proxy(backend.store, {
      get(object, property) {
        if (property === 'onCancel') return async () => async () => {};
        const value = Reflect.get(object, property, object);
        return typeof value === 'function' ? value.bind(object) : value;
      },
    });
    await start('cancel', store, backend.broker, backend, [patient, deaf] as never[]);
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const listening = await client.submit(patient, 8000);
    const ignoring = await client.submit(deaf, 1500);
    await until(async () => (await client.status(listening.id))?.status === 'processing');
    await until(async () => (await client.status(ignoring.id))?.status === 'processing');
    assert.equal((await client.cancel(listening.id)).cancelled, true);
    assert.equal((await client.cancel(ignoring.id)).cancelled, true);
    const first = await client.wait(listening, { timeoutMs: 6000 });
    assert.equal(first.status, 'cancelled');
    // The sweep fires the signal (it may follow the record: a heartbeat lapse under load
    // lets the monitor end the task cancelled first; the sweep then finds the claim gone).
    await until(() => aborted.length > 0, 3000).catch(() => {});
    assert.deepEqual(
      aborted,
      [listening.id],
      `the signal fired without the pub/sub message (record: losses ${first.losses}, worker ${first.worker})`,
    );
    const second = await client.wait(ignoring, { timeoutMs: 6000 });
    assert.equal(second.status, 'cancelled', 'a result after a requested cancel is discarded');
    assert.equal(second.result, null);
    const again = await client.submit(deaf, 1500);
    assert.equal(again.cached, false, 'the discarded result was not cached');
  });

  test('a run whose claim is gone (its heartbeat lapsed, the monitor requeued the task) is told to stop', async () => {
    const backend = await kafkaRedisBackend('fp-lapse');
    const signalled: number[] = [];
    let starts = 0;
    const patient = defineTask(
      'patient-lapse',
      async (ms: number, { signal }) => {
        const run = ++starts;
        await sleepUnlessAborted(ms, signal, () => signalled.push(run));
        return run;
      },
      { timeoutMs: 60_000 },
    );
    // Beats from the loop (no watchdog thread), and they stop reaching Redis on demand:
    // the worker lives on while the fleet takes it for dead.
    let silent = false;
    const registry = new Proxy(backend.registry, {
      get(object, property) {
        const value = Reflect.get(object, property, object);
        if (typeof value !== 'function') return value;
        if (property === 'heartbeat')
          return (...args: unknown[]) => (silent ? Promise.resolve() : value.apply(object, args));
        return value.bind(object);
      },
    });
    await start('lapse', backend.store, backend.broker, backend, [patient] as never[], {
      registry,
      watchdog: false,
    });
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const handle = await client.submit(patient, 20_000);
    await until(async () => (await client.status(handle.id))?.status === 'processing');
    silent = true;
    // The heartbeat key expires (2 s), the monitor requeues the task (losses 1).
    await until(async () => ((await client.status(handle.id))?.losses ?? 0) >= 1, 10_000);
    await until(() => signalled.includes(1), 5000).catch(() => {});
    assert.deepEqual(
      signalled.slice(0, 1),
      [1],
      'the first run was told to stop once its claim was gone',
    );
    silent = false;
    await client.cancel(handle.id);
  });
});

test('a task delayed beyond the pending TTL keeps its record until it is due, then runs', async () => {
  const names = uniqueNames('fp-delay');
  const config = resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names });
  const backend = await createKafkaRedisBackend(config, { redis: { pendingTtlMs: 1500 } });
  const late = defineTask('late', () => 'on time');
  const worker = new TaskWorker({
    id: `fp-delay-${Date.now().toString(36)}`,
    broker: backend.broker,
    store: backend.store,
    registry: backend.registry,
    monitorStore: backend.monitorStore,
    tasks: [late],
    ...FAST,
    monitor: MONITOR,
  });
  await worker.start();
  try {
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const handle = await client.submit(late, [], { delayMs: 3000 });
    const record = await client.wait(handle, { timeoutMs: 15_000 });
    assert.equal(record.status, 'success');
    assert.equal(record.result, 'on time');
  } finally {
    await worker.stop();
    await backend.close();
    await deleteKeys(names.prefix);
  }
});

test('Redis SIGSTOPped for 10 s under a running task: the worker stops fetching and says it is not ready, then every task ends success once', async () => {
  const redis = await LocalRedis.start();
  const names = uniqueNames('fp-sigstop');
  const config = resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: redis.url, ...names });
  const backend = await createKafkaRedisBackend(config);
  const runs = new Map<number, number>();
  let started = (): void => {};
  const handlerStarted = new Promise<void>((resolve) => {
    started = resolve;
  });
  const work = defineTask('work', async (n: number) => {
    runs.set(n, (runs.get(n) ?? 0) + 1);
    if (n === 0) {
      started();
      await sleep(1000);
    }
    return n;
  });
  const worker = new TaskWorker({
    id: `fp-sigstop-${Date.now().toString(36)}`,
    broker: backend.broker,
    store: backend.store,
    registry: backend.registry,
    monitorStore: backend.monitorStore,
    tasks: [work],
    ...FAST,
    monitor: MONITOR,
  });
  await worker.start();
  const pid = redis.pid;
  try {
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const first = await client.submit(work, 0);
    await handlerStarted;
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    await until(() => !worker.health().ready, FAST.heartbeatTtlMs + 3000);
    assert.equal(worker.health().live, true, 'the worker is still live');
    // Tasks that reach Kafka once the worker knows Redis is away: it must not take them up.
    const later: TaskEnvelope[] = [1, 2, 3, 4, 5].map((n) => ({
      v: 1,
      id: `late-${n}-${Date.now().toString(36)}`,
      name: 'work',
      args: n,
      attempt: 1,
      maxAttempts: 1,
      timeoutMs: 30_000,
      dedupKey: null,
      submittedAt: Date.now(),
    }));
    await backend.broker.produce(
      'tasks',
      later.map((e) => ({ key: e.id, value: encodeEnvelope(e) })),
    );

    await sleep(Math.max(0, FAULT_MS - (Date.now() - stoppedAt)));
    assert.ok(
      worker.info().inFlight <= 1,
      `fetching stopped (${worker.info().inFlight} in flight)`,
    );
    process.kill(pid, 'SIGCONT');
    await until(() => worker.health().ready, 10_000);
    // The later tasks have no record until the worker's claim writes one from the envelope.
    const ids = [first.id, ...later.map((e) => e.id)];
    await until(async () => {
      const records = await Promise.all(ids.map((id) => client.status(id)));
      return records.every((r) => r?.status === 'success');
    }, 20_000);
    for (const [n, count] of runs) assert.equal(count, 1, `task ${n} ran ${count} times`);
    await until(() => fullyCommitted(backend), 10_000);
  } finally {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {}
    await worker.stop();
    await backend.close();
    await redis.stop();
  }
});

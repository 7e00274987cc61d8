import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { add } from '../../src/demo.ts';
import {
  type Backend,
  createMemoryBackend,
  defineTask,
  type ErrorCode,
  isYadtqError,
  TaskClient,
  type TaskDefinition,
  TaskWorker,
  type TaskWorkerOptions,
} from '../../src/index.ts';

/** Asserts `run` throws a YadtqError with `code` and a message matching `message`. */
function assertCode(run: () => unknown, code: ErrorCode, message: RegExp): void {
  assert.throws(run, (error) => {
    assert.ok(isYadtqError(error, code), `expected ${code}, got ${error}`);
    assert.match(error.message, message);
    return true;
  });
}

async function assertRejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  message: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(isYadtqError(error, code), `expected ${code}, got ${error}`);
    assert.match(error.message, message);
    return true;
  });
}

const noop = () => null;

describe('defineTask', () => {
  test('returns a frozen definition holding a copy of the options', () => {
    const options = { timeoutMs: 5000, cacheTtlMs: 0, dedup: false };
    const task = defineTask('reports.build:v2', noop, options);
    assert.equal(task.name, 'reports.build:v2');
    assert.equal(task.handler, noop);
    assert.deepEqual(task.options, options);
    assert.notEqual(task.options, options);
    assert.ok(Object.isFrozen(task) && Object.isFrozen(task.options));
  });

  const badNames: Array<[string, string]> = [
    ['an empty name', ''],
    ['a name with a space', 'send email'],
    ['a name with a slash', 'a/b'],
    ['a non-ASCII name', 'größe'],
    ['a name over 200 characters', 'x'.repeat(201)],
  ];
  for (const [label, name] of badNames) {
    test(`refuses ${label}`, () => {
      assertCode(() => defineTask(name, noop), 'INVALID_OPTION', /task name .* must be 1-200 of/);
    });
  }

  test('accepts a name of exactly 200 characters', () => {
    assert.equal(defineTask('x'.repeat(200), noop).name.length, 200);
  });

  test('refuses a handler that is not a function', () => {
    for (const handler of [undefined, null, 'add', {}]) {
      assertCode(
        () => defineTask('t', handler as unknown as typeof noop),
        'INVALID_OPTION',
        /task "t": handler must be a function/,
      );
    }
  });

  const badOptions: Array<[string, Record<string, number>, RegExp]> = [
    ['a negative timeoutMs', { timeoutMs: -1 }, /timeoutMs must be a whole number ≥ 1, got -1/],
    ['a fractional timeoutMs', { timeoutMs: 1.5 }, /timeoutMs .* got 1\.5/],
    ['an infinite timeoutMs', { timeoutMs: Number.POSITIVE_INFINITY }, /timeoutMs .* got Infinity/],
    ['a negative cacheTtlMs', { cacheTtlMs: -5 }, /cacheTtlMs .* got -5/],
    ['a NaN cacheTtlMs', { cacheTtlMs: Number.NaN }, /cacheTtlMs .* got NaN/],
  ];
  for (const [label, options, message] of badOptions) {
    test(`refuses ${label}`, () => {
      assertCode(() => defineTask('t', noop, options), 'INVALID_OPTION', message);
    });
  }

  test('refuses a concurrency or rate limit that is not a whole number ≥ 1, or a key that is no function', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ concurrency: { limit: 0 } }, /concurrency must be \{ limit: a whole number > 0/],
      [{ concurrency: 2 }, /concurrency must be/],
      [{ concurrency: { limit: 2, key: 'tenant' } }, /concurrency\.key must be a function/],
      [{ rateLimit: { limit: 5 } }, /rateLimit must be \{ limit: .*intervalMs/],
      [{ rateLimit: { limit: 5, intervalMs: 1.5 } }, /rateLimit must be/],
      [{ rateLimit: { limit: 5, intervalMs: 1000, key: 1 } }, /rateLimit\.key must be a function/],
    ];
    for (const [options, message] of bad) {
      assertCode(() => defineTask('t', noop, options as never), 'INVALID_OPTION', message);
    }
    const ok = defineTask('t', noop, {
      concurrency: { limit: 2, key: (args) => String(args) },
      rateLimit: { limit: 5, intervalMs: 1000 },
    });
    assert.equal(ok.options.concurrency?.limit, 2);
  });

  test('cacheTtlMs 0 (no cache) is allowed', () => {
    assert.equal(defineTask('t', noop, { cacheTtlMs: 0 }).options.cacheTtlMs, 0);
  });

  test('refuses timeoutMs 0, which no submit would accept', () => {
    assertCode(() => defineTask('t', noop, { timeoutMs: 0 }), 'INVALID_OPTION', /timeoutMs/);
  });
});

describe('TaskClient and TaskWorker options', () => {
  const backends: Backend[] = [];
  after(async () => {
    for (const backend of backends) await backend.close();
  });
  const backend = () => {
    const created = createMemoryBackend({ partitions: 2 });
    backends.push(created);
    return created;
  };

  test('TaskClient refuses a missing broker or store', () => {
    const { broker, store } = backend();
    assertCode(
      () => new TaskClient({ broker, store: undefined! }),
      'INVALID_OPTION',
      /needs a broker and a store/,
    );
    assertCode(
      () => new TaskClient({ broker: undefined!, store }),
      'INVALID_OPTION',
      /needs a broker and a store/,
    );
  });

  const badClientOptions: Array<
    [string, { timeoutMs?: number; maxPayloadBytes?: number }, RegExp]
  > = [
    ['timeoutMs 0', { timeoutMs: 0 }, /timeoutMs must be a whole number > 0, got 0/],
    ['a negative timeoutMs', { timeoutMs: -10 }, /timeoutMs .* got -10/],
    ['a fractional timeoutMs', { timeoutMs: 0.5 }, /timeoutMs .* got 0\.5/],
    ['maxPayloadBytes 0', { maxPayloadBytes: 0 }, /maxPayloadBytes .* got 0/],
  ];
  for (const [label, options, message] of badClientOptions) {
    test(`TaskClient refuses ${label}`, () => {
      const { broker, store } = backend();
      assertCode(() => new TaskClient({ broker, store, ...options }), 'INVALID_OPTION', message);
    });
  }

  const workerOptions = (overrides: Partial<TaskWorkerOptions>): TaskWorkerOptions => {
    const { broker, store, registry, monitorStore } = backend();
    return { id: 'worker-1', broker, store, registry, monitorStore, tasks: [add], ...overrides };
  };

  test('a TaskWorker with good options is constructed without starting', () => {
    const worker = new TaskWorker(
      workerOptions({ id: 'host-1.worker_2:a', heartbeatIntervalMs: 100, heartbeatTtlMs: 101 }),
    );
    assert.equal(worker.id, 'host-1.worker_2:a');
    assert.deepEqual(worker.info().partitions, []);
  });

  const badWorkerOptions: Array<[string, Partial<TaskWorkerOptions>, RegExp]> = [
    ['an empty id', { id: '' }, /worker id "" must be 1-100 of/],
    ['an id with a space', { id: 'worker 1' }, /worker id "worker 1"/],
    ['an id over 100 characters', { id: 'w'.repeat(101) }, /worker id "w+" must be 1-100/],
    ['a missing id', { id: undefined! }, /worker id undefined/],
    ['concurrency 0', { concurrency: 0 }, /concurrency must be a whole number ≥ 1, got 0/],
    ['a fractional concurrency', { concurrency: 2.5 }, /concurrency .* got 2\.5/],
    [
      'heartbeatTtlMs equal to the interval',
      { heartbeatIntervalMs: 1000, heartbeatTtlMs: 1000 },
      /heartbeatTtlMs .* ≥ 1001, got 1000/,
    ],
    [
      'heartbeatTtlMs below the interval',
      { heartbeatIntervalMs: 2000, heartbeatTtlMs: 500 },
      /heartbeatTtlMs .* got 500/,
    ],
    [
      'heartbeatTtlMs at the default interval (1000)',
      { heartbeatTtlMs: 1000 },
      /heartbeatTtlMs .* ≥ 1001/,
    ],
    ['a heartbeat interval of 0', { heartbeatIntervalMs: 0 }, /heartbeatIntervalMs .* got 0/],
    ['a negative shutdownGraceMs', { shutdownGraceMs: -1 }, /shutdownGraceMs .* got -1/],
    [
      'duplicate task names',
      { tasks: [add, defineTask('add', noop)] },
      /task "add" is defined twice/,
    ],
  ];
  for (const [label, overrides, message] of badWorkerOptions) {
    test(`TaskWorker refuses ${label}`, () => {
      assertCode(() => new TaskWorker(workerOptions(overrides)), 'INVALID_OPTION', message);
    });
  }
});

describe('TaskClient.submit checks the args before anything is written', () => {
  const backends: Backend[] = [];
  after(async () => {
    for (const backend of backends) await backend.close();
  });
  const setup = (options: { maxPayloadBytes?: number } = {}) => {
    const backend = createMemoryBackend({ partitions: 2 });
    backends.push(backend);
    return {
      broker: backend.broker,
      client: new TaskClient({ broker: backend.broker, store: backend.store, ...options }),
    };
  };

  test('args that are not JSON are INVALID_ARGS naming the bad part; nothing is produced', async () => {
    const { broker, client } = setup();
    const echo: TaskDefinition<unknown, unknown> = defineTask('echo', (args: unknown) => args);
    await assertRejectsWith(
      client.submit(echo, [1, { when: new Date(0) }]),
      'INVALID_ARGS',
      /args of task "echo"\[1\]\.when is not JSON/,
    );
    await assertRejectsWith(
      client.submit('echo', { f: noop }),
      'INVALID_ARGS',
      /args of task "echo"\.f is not JSON/,
    );
    await assertRejectsWith(client.submit('echo', 10n), 'INVALID_ARGS', /bigint/);
    assert.deepEqual(broker.messages('tasks'), []);
  });

  test('one bad item refuses the whole batch', async () => {
    const { broker, client } = setup();
    await assertRejectsWith(
      client.submitMany('echo', [[1], [Number.NaN], [3]]),
      'INVALID_ARGS',
      /\[0\] is not JSON: NaN/,
    );
    assert.deepEqual(broker.messages('tasks'), []);
  });

  test('args over maxPayloadBytes are PAYLOAD_TOO_LARGE with both sizes; nothing is produced', async () => {
    const { broker, client } = setup({ maxPayloadBytes: 100 });
    await assertRejectsWith(
      client.submit('echo', 'x'.repeat(200)),
      'PAYLOAD_TOO_LARGE',
      /args of task "echo" are 202 bytes; the limit is 100/,
    );
    assert.deepEqual(broker.messages('tasks'), []);
  });

  test('the limit counts UTF-8 bytes of the JSON text, and the limit itself is allowed', async () => {
    const { broker, client } = setup({ maxPayloadBytes: 10 });
    // "éééé" is 4 characters but 8 bytes; with its quotes, 10 bytes: exactly the limit.
    const handle = await client.submit('echo', 'éééé');
    assert.equal(handle.status, 'queued');
    await assertRejectsWith(
      client.submit('echo', 'ééééé'),
      'PAYLOAD_TOO_LARGE',
      /12 bytes; the limit is 10/,
    );
    assert.equal(broker.messages('tasks').length, 1);
  });

  test('an empty task name is INVALID_ARGS and a per-submit timeoutMs of 0 is INVALID_OPTION', async () => {
    const { broker, client } = setup();
    await assertRejectsWith(
      client.submit('', [1]),
      'INVALID_ARGS',
      /task name must be a non-empty string/,
    );
    await assertRejectsWith(
      client.submit(add, [1, 2], { timeoutMs: 0 }),
      'INVALID_OPTION',
      /timeoutMs .* got 0/,
    );
    assert.deepEqual(broker.messages('tasks'), []);
  });
});

/**
 * Compile-time checks, never run: `tsc --noEmit` fails when a directive below is unused,
 * that is, when a typed submit stops refusing wrong args or `run` stops typing its result.
 */
export async function typeChecks(client: TaskClient): Promise<void> {
  // @ts-expect-error add takes numbers
  await client.submit(add, ['x', 2]);
  // @ts-expect-error add takes [a, b] or [a, b, sleepMs]
  await client.submit(add, [1]);
  // @ts-expect-error the result of add is a number
  const text: string = await client.run(add, [1, 2]);
  const sum: number = await client.run(add, [1, 2, 0]);
  const handle = await client.submit(add, [1, 2]);
  const result: number = await client.result(handle);
  void [text, sum, result];
}

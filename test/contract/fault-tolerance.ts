import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  type Backend,
  defineTask,
  isYadtqError,
  NonRetryableError,
  TaskClient,
  TaskWorker,
  type TaskWorkerOptions,
} from '../../src/index.ts';
import { type BackendFactory, type DeadLetterReader, until } from './contract.ts';

const FAST_MONITOR = { intervalMs: 100, leaderTtlMs: 1000 };

/**
 * The fault-tolerance part of the contract: retries, delayed tasks, cancellation,
 * resubmission, and the reaper's recovery of a dead worker's tasks. Runs unchanged
 * against the memory pair and real Kafka + Redis.
 */
export function runFaultToleranceContract(
  label: string,
  makeBackend: BackendFactory,
  deadLetters: DeadLetterReader,
): void {
  describe(`fault-tolerance contract: ${label}`, () => {
    const open: Array<() => Promise<void>> = [];
    after(async () => {
      for (const close of open.reverse()) await close();
    });

    async function setup(
      tasks: TaskWorkerOptions['tasks'],
      monitor: TaskWorkerOptions['monitor'] = FAST_MONITOR,
    ) {
      const backend = await makeBackend();
      const client = new TaskClient({ broker: backend.broker, store: backend.store });
      const worker = new TaskWorker({
        id: `ft-${Math.random().toString(36).slice(2, 8)}`,
        broker: backend.broker,
        store: backend.store,
        registry: backend.registry,
        monitorStore: backend.monitorStore,
        tasks,
        concurrency: 8,
        heartbeatIntervalMs: 200,
        heartbeatTtlMs: 1000,
        monitor,
      });
      await worker.start();
      open.push(async () => {
        await worker.stop();
        await backend.close();
      });
      return { backend, client, worker };
    }

    test('a failing task is retried with backoff and succeeds on a later attempt', async () => {
      const attempts: number[] = [];
      const flaky = defineTask(
        'flaky',
        (n: number, { attempt }) => {
          attempts.push(attempt);
          if (attempt < 3) throw new Error(`attempt ${attempt} failed`);
          return n * 2;
        },
        { maxAttempts: 3, backoffMs: 50 },
      );
      const { client } = await setup([flaky]);
      const handle = await client.submit(flaky, 21);
      await until(async () => (await client.status(handle.id))?.status === 'retrying', 20_000);
      const retrying = await client.status(handle.id);
      assert.equal(retrying?.attempt, 2);
      assert.match(retrying?.error?.message ?? '', /attempt 1 failed/);
      assert.ok((retrying?.runAt ?? 0) > 0);
      const record = await client.wait(handle, { timeoutMs: 30_000 });
      assert.equal(record.status, 'success');
      assert.equal(record.result, 42);
      assert.equal(record.attempt, 3);
      assert.deepEqual(attempts, [1, 2, 3]);
    });

    test('after the last attempt the task is failed and a copy goes to the dead-letter topic', async () => {
      const doomed = defineTask(
        'doomed',
        () => {
          throw new TypeError('always broken');
        },
        { maxAttempts: 2, backoffMs: 20 },
      );
      const { backend, client } = await setup([doomed]);
      const record = await client.wait(await client.submit(doomed, 'x'), { timeoutMs: 30_000 });
      assert.equal(record.status, 'failed');
      assert.equal(record.attempt, 2);
      assert.equal(record.error?.message, 'always broken');
      assert.equal(record.error?.name, 'TypeError');
      const [dead] = await deadLetters(backend, 1);
      assert.equal(dead?.headers['yadtq-task-id'], record.id);
      assert.equal(dead?.headers['yadtq-dead-letter-reason'], 'exhausted');
      assert.equal(dead?.headers['yadtq-error'], 'always broken');
      assert.equal(JSON.parse(dead?.value ?? '{}').attempt, 2);
      const listed = await backend.broker.deadLetters(10);
      assert.ok(listed.some((m) => m.headers?.['yadtq-task-id'] === record.id));
    });

    test('a NonRetryableError fails at once despite attempts left', async () => {
      let runs = 0;
      const picky = defineTask(
        'picky',
        () => {
          runs++;
          throw new NonRetryableError('bad input, do not retry');
        },
        { maxAttempts: 5, backoffMs: 10 },
      );
      const { client } = await setup([picky]);
      const record = await client.wait(await client.submit(picky, 1), { timeoutMs: 30_000 });
      assert.equal(record.status, 'failed');
      assert.equal(record.attempt, 1);
      assert.equal(runs, 1);
    });

    test('a delayed task waits in the scheduled set, then runs', async () => {
      const stamp = defineTask('stamp', () => Date.now());
      const { client } = await setup([stamp]);
      const submitted = Date.now();
      const handle = await client.submit(stamp, null, { delayMs: 800 });
      const waiting = await client.status(handle.id);
      assert.equal(waiting?.status, 'queued');
      assert.ok((waiting?.runAt ?? 0) >= submitted + 800);
      const ranAt = await client.result(handle, { timeoutMs: 30_000 });
      assert.ok(ranAt >= submitted + 800, `ran ${ranAt - submitted} ms after submit`);
    });

    test('a cancelled queued task never runs', async () => {
      let runs = 0;
      const never = defineTask('never', () => {
        runs++;
        return 1;
      });
      const { client } = await setup([never]);
      const handle = await client.submit(never, null, { delayMs: 600 });
      assert.deepEqual(await client.cancel(handle.id), { cancelled: true, status: 'cancelled' });
      const record = await client.wait(handle, { timeoutMs: 5_000 });
      assert.equal(record.status, 'cancelled');
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(runs, 0);
      assert.equal((await client.status(handle.id))?.status, 'cancelled');
      assert.deepEqual(await client.cancel(handle.id), { cancelled: false, status: 'cancelled' });
      await assert.rejects(client.cancel('no-such-task'), (e) => isYadtqError(e, 'TASK_NOT_FOUND'));
    });

    test('cancelling a running task fires its AbortSignal and it ends cancelled', async () => {
      let aborted = false;
      let started = false;
      const long = defineTask('long', async (_: null, { signal }) => {
        started = true;
        await new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        });
        return 'ignored';
      });
      const { client } = await setup([long]);
      const handle = await client.submit(long, null, { timeoutMs: 60_000 });
      await until(() => started, 20_000);
      assert.deepEqual(await client.cancel(handle.id), { cancelled: true, status: 'processing' });
      const record = await client.wait(handle, { timeoutMs: 10_000 });
      assert.equal(record.status, 'cancelled');
      assert.equal(record.error?.code, 'TASK_CANCELLED');
      assert.equal(aborted, true);
    });

    test('client.retry runs a failed task again as its next attempt', async () => {
      let fail = true;
      const once = defineTask('fails-once', () => {
        if (fail) throw new Error('first run fails');
        return 'second run works';
      });
      const { client } = await setup([once]);
      const failed = await client.wait(await client.submit(once, 1), { timeoutMs: 30_000 });
      assert.equal(failed.status, 'failed');
      fail = false;
      const handle = await client.retry(failed.id);
      assert.equal(handle.id, failed.id);
      const record = await client.wait(handle, { timeoutMs: 30_000 });
      assert.equal(record.status, 'success');
      assert.equal(record.result, 'second run works');
      assert.equal(record.attempt, 2);
      await assert.rejects(client.retry(failed.id), (e) => isYadtqError(e, 'INVALID_ARGS'));
    });

    test("the reaper recovers a dead worker's task and another worker finishes it", async () => {
      const recovered = defineTask('recovered', (n: number) => n + 1);
      const { backend, client } = await setup([recovered]);
      const envelope = await ghostClaim(backend, client, 'recovered', 41);
      const record = await client.wait(envelope.id, { timeoutMs: 30_000 });
      assert.equal(record.status, 'success');
      assert.equal(record.result, 42);
      assert.equal(record.losses, 1);
      assert.notEqual(record.worker, 'ghost');
    });

    test('a task that keeps losing its worker ends failed ("worker lost") and is dead-lettered', async () => {
      const cursed = defineTask('cursed', () => 'never reached');
      const { backend, client } = await setup([cursed], { ...FAST_MONITOR, maxWorkerLosses: 1 });
      const envelope = await ghostClaim(backend, client, 'cursed', 1);
      const record = await client.wait(envelope.id, { timeoutMs: 30_000 });
      assert.equal(record.status, 'failed');
      assert.equal(record.error?.code, 'WORKER_LOST');
      assert.match(record.error?.message ?? '', /worker lost/);
      const dead = await deadLetters(backend, 1);
      assert.equal(dead[0]?.headers['yadtq-dead-letter-reason'], 'worker-lost');
    });
  });
}

/**
 * Makes a task look like it was claimed by a worker that then died: a record created
 * without producing it, claimed by "ghost" whose heartbeat expires at once.
 */
async function ghostClaim(backend: Backend, client: TaskClient, name: string, args: number) {
  const now = Date.now();
  const id = `ghost-task-${now}-${Math.random().toString(36).slice(2, 6)}`;
  const envelope = {
    v: 1 as const,
    id,
    name,
    args,
    attempt: 1,
    maxAttempts: 1,
    timeoutMs: 5000,
    dedupKey: null,
    submittedAt: now,
  };
  const info = {
    id: 'ghost',
    host: 'h',
    pid: 0,
    startedAt: now,
    lastHeartbeat: now,
    concurrency: 1,
    processed: 0,
    failed: 0,
    inFlight: 1,
    partitions: [],
  };
  await backend.registry.register(info, 300).catch(() => backend.registry.heartbeat(info, 300));
  const claim = await backend.store.claim(envelope, 'ghost', now);
  assert.equal(claim.ok, true);
  assert.equal((await client.status(id))?.status, 'processing');
  return envelope;
}

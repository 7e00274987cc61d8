import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  type Backend,
  defineTask,
  TaskClient,
  TaskWorker,
  type TaskWorkerOptions,
} from '../../src/index.ts';
import type { BackendFactory } from './contract.ts';

/**
 * What a submitter can rely on about keys and options: an explicit dedup key belongs to
 * its task name, and a task submitted by name runs with its definition's options. Runs
 * unchanged against the memory pair and real Kafka + Redis.
 */
export function runSubmitSemanticsContract(label: string, makeBackend: BackendFactory): void {
  describe(`submit semantics contract: ${label}`, () => {
    const open: Array<() => Promise<void>> = [];
    after(async () => {
      for (const close of open.reverse()) await close();
    });

    async function setup(tasks: TaskWorkerOptions['tasks']): Promise<{
      backend: Backend;
      client: TaskClient;
    }> {
      const backend = await makeBackend();
      const client = new TaskClient({ broker: backend.broker, store: backend.store });
      const worker = new TaskWorker({
        id: `sem-${Math.random().toString(36).slice(2, 8)}`,
        broker: backend.broker,
        store: backend.store,
        registry: backend.registry,
        monitorStore: backend.monitorStore,
        tasks,
        concurrency: 8,
        monitor: { intervalMs: 100, leaderTtlMs: 1000 },
      });
      await worker.start();
      open.push(async () => {
        await worker.stop();
        await backend.close();
      });
      return { backend, client };
    }

    test('two task names with one explicit dedup key are two tasks, each with its own result', async () => {
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const invoice = defineTask('invoice', async (n: number) => {
        await gate;
        return `invoice ${n}`;
      });
      const receipt = defineTask('receipt', async (n: number) => `receipt ${n}`);
      const { client } = await setup([invoice, receipt]);
      const a = await client.submit(invoice, 1, { dedupKey: 'order-42' });
      const b = await client.submit(receipt, 1, { dedupKey: 'order-42' });
      assert.notEqual(b.id, a.id, 'the receipt is not the in-flight invoice');
      assert.equal(b.deduplicated, false);
      assert.equal(await client.result(b, { timeoutMs: 30_000 }), 'receipt 1');
      release();
      assert.equal(await client.result(a, { timeoutMs: 30_000 }), 'invoice 1');
      const again = await client.submit(invoice, 2, { dedupKey: 'order-42' });
      assert.notEqual(again.id, a.id, 'a finished task releases its key');
    });

    test("a cached result under an explicit key is not another task name's answer", async () => {
      let runsB = 0;
      const quoteA = defineTask('quote-a', (n: number) => ({ from: 'a', n }), {
        cacheTtlMs: 60_000,
      });
      const quoteB = defineTask(
        'quote-b',
        (n: number) => {
          runsB++;
          return { from: 'b', n };
        },
        { cacheTtlMs: 60_000 },
      );
      const { client } = await setup([quoteA, quoteB]);
      assert.deepEqual(await client.run(quoteA, 1, { dedupKey: 'shared' }), { from: 'a', n: 1 });
      const b = await client.submit(quoteB, 1, { dedupKey: 'shared' });
      assert.equal(b.cached, false, "quote-b is not answered from quote-a's cache");
      assert.deepEqual(await client.result(b, { timeoutMs: 30_000 }), { from: 'b', n: 1 });
      assert.equal(runsB, 1);
      const cachedA = await client.submit(quoteA, 1, { dedupKey: 'shared' });
      assert.equal(cachedA.cached, true, 'the same name and key still hits its own cache');
      assert.deepEqual((await client.status(cachedA.id))?.result, { from: 'a', n: 1 });
    });

    test("a by-name submit gets the definition's timeout and attempts", async () => {
      const runs: number[] = [];
      const hang = defineTask(
        'poison.hang',
        async (_: null, { signal, attempt }) => {
          runs.push(attempt);
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
          return 'never';
        },
        { timeoutMs: 300, maxAttempts: 3, backoffMs: 10, backoffMaxMs: 20 },
      );
      const { client } = await setup([hang]);
      const started = Date.now();
      const record = await client.wait(await client.submit('poison.hang', null), {
        timeoutMs: 30_000,
      });
      assert.equal(record.status, 'failed');
      assert.equal(record.error?.code, 'TASK_TIMEOUT');
      assert.equal(record.timeoutMs, 300);
      assert.equal(record.maxAttempts, 3);
      assert.equal(record.attempt, 3);
      assert.deepEqual(runs, [1, 2, 3]);
      assert.ok(Date.now() - started < 20_000, 'no attempt waited for the 30 s default');
    });

    test('a by-name submit keeps what the submitter set, and a delayed one still gets the rest', async () => {
      const seen: Array<{ attempt: number; timeoutMs: number }> = [];
      const flaky = defineTask(
        'named.flaky',
        (_: null, { attempt }) => {
          seen.push({ attempt, timeoutMs: 0 });
          throw new Error(`attempt ${attempt} failed`);
        },
        { timeoutMs: 4000, maxAttempts: 2, backoffMs: 10, backoffMaxMs: 20 },
      );
      const { client } = await setup([flaky]);
      const set = await client.wait(
        await client.submit('named.flaky', null, { maxAttempts: 1, timeoutMs: 7000 }),
        { timeoutMs: 30_000 },
      );
      assert.equal(set.status, 'failed');
      assert.equal(set.maxAttempts, 1, "the submitter's maxAttempts wins");
      assert.equal(set.timeoutMs, 7000, "the submitter's timeoutMs wins");
      const delayed = await client.wait(
        await client.submit('named.flaky', null, { delayMs: 50, dedup: false }),
        { timeoutMs: 30_000 },
      );
      assert.equal(delayed.status, 'failed');
      assert.equal(delayed.maxAttempts, 2, "the definition's attempts, through the scheduler");
      assert.equal(delayed.attempt, 2);
      assert.equal(delayed.timeoutMs, 4000);
      assert.equal(seen.length, 3);
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import { createMemoryBackend } from '../../src/backend.ts';
import { stderrLogger } from '../../src/cli/log.ts';
import { TaskClient } from '../../src/core/client.ts';
import { defineTask } from '../../src/core/define-task.ts';
import { isYadtqError } from '../../src/core/errors.ts';
import { TaskWorker } from '../../src/core/worker/worker.ts';
import { processTasks, threadTasks } from '../fixtures/sandbox-tasks.ts';

describe('isolated handlers (TaskOptions.isolate)', () => {
  const backend = createMemoryBackend();
  const worker = new TaskWorker({
    id: `sandbox-${Math.random().toString(36).slice(2, 8)}`,
    broker: backend.broker,
    store: backend.store,
    registry: backend.registry,
    monitorStore: backend.monitorStore,
    tasks: [...threadTasks, ...processTasks],
    concurrency: 4,
    monitor: false,
    logger: process.env.DEBUG_SANDBOX ? stderrLogger() : undefined,
  });
  const client = new TaskClient({ broker: backend.broker, store: backend.store });
  before(() => worker.start());
  after(async () => {
    await worker.stop();
    await backend.close();
  });

  async function run(name: string, args: unknown = null) {
    const handle = await client.submit(name, args, { dedup: false });
    return client.wait(handle, { timeoutMs: 20_000 });
  }

  test('defineTask names the defining module and refuses a bad isolate', () => {
    assert.match(String(threadTasks[0]?.options.module), /^file:.*sandbox-tasks\.ts$/);
    assert.throws(
      () => defineTask('bad', () => 1, { isolate: 'fiber' as 'thread' }),
      (error) => isYadtqError(error, 'INVALID_OPTION'),
    );
  });

  for (const kind of ['thread', 'process'] as const) {
    test(`${kind}: runs the handler outside the worker, reusing the sandbox`, async () => {
      const first = await run(`${kind}.where`, 1);
      const second = await run(`${kind}.where`, 2);
      assert.equal(first.status, 'success');
      const a = first.result as { n: number; pid: number; threadId: number };
      const b = second.result as { n: number; pid: number; threadId: number };
      assert.equal(a.n, 1);
      if (kind === 'thread') {
        assert.equal(a.pid, process.pid);
        assert.notEqual(a.threadId, threadId);
      } else {
        assert.notEqual(a.pid, process.pid);
      }
      assert.deepEqual([b.pid, b.threadId], [a.pid, a.threadId], 'the idle sandbox was reused');
    });

    test(`${kind}: process.exit fails only that task (SANDBOX_EXITED); the worker lives on`, async () => {
      const record = await run(`${kind}.exit`);
      assert.equal(record.status, 'failed');
      assert.equal(record.error?.code, 'SANDBOX_EXITED');
      assert.match(record.error?.message ?? '', /exited \(code 3\)/);
      assert.equal((await run(`${kind}.where`, 3)).status, 'success');
    });

    test(`${kind}: an uncaught exception fails only that task, with its message`, async () => {
      const record = await run(`${kind}.throw-later`);
      assert.equal(record.error?.code, 'SANDBOX_EXITED');
      assert.match(record.error?.message ?? '', /uncaught exception: boom from a timer/);
      assert.equal((await run(`${kind}.where`, 4)).status, 'success');
    });

    test(`${kind}: an endless sync loop is ended at its timeout (TASK_TIMEOUT)`, async () => {
      const started = Date.now();
      const handle = await client.submit(`${kind}.spin`, null, { dedup: false, timeoutMs: 500 });
      const record = await client.wait(handle, { timeoutMs: 10_000 });
      assert.equal(record.error?.code, 'TASK_TIMEOUT');
      assert.match(record.error?.message ?? '', /sandbox was ended/);
      assert.ok(Date.now() - started < 5000, `ended in ${Date.now() - started} ms`);
      assert.equal((await run(`${kind}.where`, 5)).status, 'success');
    });

    test(`${kind}: thrown errors and bad results keep their meaning`, async () => {
      const refused = await run(`${kind}.refuse`);
      assert.equal(refused.error?.name, 'NonRetryableError');
      assert.equal(refused.error?.message, 'not this one');
      const notJson = await run(`${kind}.not-json`);
      assert.equal(notJson.error?.code, 'INVALID_RESULT');
    });

    test(`${kind}: a cancel ends the sandbox and the task ends cancelled`, async () => {
      const handle = await client.submit(`${kind}.sleep`, 60_000, { dedup: false });
      for (let i = 0; i < 200 && (await client.status(handle.id))?.status !== 'processing'; i++)
        await new Promise((r) => setTimeout(r, 20));
      // A cancel between the claim and the handler's start is not seen (the same in-loop).
      await new Promise((r) => setTimeout(r, 100));
      await client.cancel(handle.id);
      const record = await client.wait(handle, { timeoutMs: 5000 });
      assert.equal(record.status, 'cancelled');
    });
  }
});

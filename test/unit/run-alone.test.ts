import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineTask, type TaskDefinition } from '../../src/core/define-task.ts';
import type { TaskEnvelope } from '../../src/core/envelope.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { recordFromEnvelope } from '../../src/core/task-record.ts';
import { type ProcessorContext, processEnvelope } from '../../src/core/worker/process-delivery.ts';
import { RunAlone } from '../../src/core/worker/run-alone.ts';
import { MemoryBroker } from '../../src/memory/memory-broker.ts';
import { MemoryStore } from '../../src/memory/memory-store.ts';

function setup() {
  const log: string[] = [];
  const job = defineTask('job', async (name: string) => {
    log.push(`start ${name}`);
    await new Promise((r) => setTimeout(r, 100));
    log.push(`end ${name}`);
    return name;
  });
  const store = new MemoryStore();
  const runAlone = new RunAlone(3);
  const ctx: ProcessorContext = {
    workerId: 'w1',
    broker: new MemoryBroker(),
    store,
    tasks: new Map([[job.name, job as unknown as TaskDefinition]]),
    logger: silentLogger,
    stats: undefined,
    running: new Map(),
    claimed: new Set(),
    health: { failed: () => {} },
    halted: () => false,
    runAlone,
  };
  const submit = async (name: string, losses = 0) => {
    const envelope: TaskEnvelope = {
      v: 1,
      id: `t-${name}`,
      name: 'job',
      args: name,
      attempt: 1,
      maxAttempts: 1,
      timeoutMs: 5000,
      dedupKey: null,
      submittedAt: Date.now(),
    };
    await store.createMany([{ ...recordFromEnvelope(envelope), losses }], {
      dedup: false,
      useCache: false,
    });
    return processEnvelope(ctx, envelope, () => {});
  };
  return { log, submit, runAlone, store };
}

test('a task one loss from WORKER_LOST waits for the others, then runs alone', async () => {
  const { log, submit, runAlone } = setup();
  const first = submit('a');
  const second = submit('b', 1);
  await new Promise((r) => setTimeout(r, 10));
  const suspect = submit('suspect', 2);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(runAlone.closed, true, 'the worker takes no new task meanwhile');
  assert.deepEqual(await Promise.all([first, second, suspect]), ['success', 'success', 'success']);
  assert.deepEqual(log, ['start a', 'start b', 'end a', 'end b', 'start suspect', 'end suspect']);
  assert.equal(runAlone.closed, false);
});

test('two such tasks run one after the other, each alone', async () => {
  const { log, submit } = setup();
  await Promise.all([submit('x', 2), submit('y', 5)]);
  assert.deepEqual(log, ['start x', 'end x', 'start y', 'end y']);
});

test('it is not even claimed while the worker holds another task (a killer there costs it no loss)', async () => {
  const { submit, store } = setup();
  const first = submit('other');
  await new Promise((r) => setTimeout(r, 10));
  const suspect = submit('suspect', 2);
  await new Promise((r) => setTimeout(r, 30));
  const waiting = await store.get('t-suspect');
  assert.deepEqual([waiting?.status, (await store.heldBy('w1')).sort()], ['queued', ['t-other']]);
  assert.deepEqual(await Promise.all([first, suspect]), ['success', 'success']);
});

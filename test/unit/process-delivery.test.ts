import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineTask, type TaskDefinition } from '../../src/core/define-task.ts';
import type { TaskEnvelope } from '../../src/core/envelope.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { recordFromEnvelope } from '../../src/core/task-record.ts';
import { type ProcessorContext, processEnvelope } from '../../src/core/worker/process-delivery.ts';
import { MemoryBroker } from '../../src/memory/memory-broker.ts';
import { MemoryStore } from '../../src/memory/memory-store.ts';

function setup() {
  let runs = 0;
  const slow = defineTask('slow', async (n: number) => {
    runs++;
    await new Promise((r) => setTimeout(r, 20));
    return n + 1;
  });
  const store = new MemoryStore();
  const ctx: ProcessorContext = {
    workerId: 'w1',
    broker: new MemoryBroker(),
    store,
    tasks: new Map([[slow.name, slow as unknown as TaskDefinition]]),
    logger: silentLogger,
    stats: undefined,
    running: new Map(),
    claimed: new Set(),
    health: { failed: () => {} },
    halted: () => false,
  };
  const envelope: TaskEnvelope = {
    v: 1,
    id: `t-${Math.random().toString(36).slice(2)}`,
    name: 'slow',
    args: 1,
    attempt: 1,
    maxAttempts: 1,
    timeoutMs: 5000,
    dedupKey: null,
    submittedAt: Date.now(),
  };
  return { ctx, store, envelope, runs: () => runs };
}

test('two copies of one attempt handled at once (one fetch) run it once; both are settled', async () => {
  const { ctx, store, envelope, runs } = setup();
  await store.createMany([recordFromEnvelope(envelope)], { dedup: false, useCache: false });
  let settled = 0;
  const outcomes = await Promise.all([
    processEnvelope(ctx, envelope, () => settled++),
    processEnvelope(ctx, envelope, () => settled++),
  ]);
  assert.deepEqual(outcomes.sort(), ['skipped', 'success']);
  assert.equal(runs(), 1);
  assert.equal(settled, 2);
  assert.equal((await store.get(envelope.id))?.result, 2);
  assert.equal(ctx.claimed.size, 0, 'nothing left marked as handled');
});

test('a task held under this worker for an attempt it is not handling (a lost claim reply) is run', async () => {
  const { ctx, store, envelope, runs } = setup();
  await store.createMany([recordFromEnvelope(envelope)], { dedup: false, useCache: false });
  assert.equal((await store.claim(envelope, 'w1', Date.now())).ok, true);
  assert.equal(await processEnvelope(ctx, envelope, () => {}), 'success');
  assert.equal(runs(), 1);
});

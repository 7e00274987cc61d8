import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryBackend, TaskWorker } from '../../src/index.ts';

test('a monitor option given as undefined keeps its default (the monitor does not tick every millisecond)', async () => {
  const backend = createMemoryBackend();
  let leads = 0;
  const monitorStore = new Proxy(backend.monitorStore, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'lead') leads++;
        return value.apply(target, args);
      };
    },
  });
  const worker = new TaskWorker({
    id: 'monitor-undefined',
    broker: backend.broker,
    store: backend.store,
    registry: backend.registry,
    monitorStore,
    tasks: [],
    monitor: { intervalMs: undefined, leaderTtlMs: undefined, maxWorkerLosses: undefined },
  });
  await worker.start();
  await sleep(1200);
  await worker.stop();
  await backend.close();
  // The default interval is 500 ms: about 2 ticks in 1.2 s, never hundreds.
  assert.ok(leads <= 5, `${leads} lead calls in 1.2 s`);
});

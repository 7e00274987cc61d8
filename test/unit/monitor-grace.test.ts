import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Monitor } from '../../src/core/monitor/monitor.ts';
import type { MonitorStore, WorkerRegistry } from '../../src/core/store.ts';
import { createMemoryBackend } from '../../src/index.ts';

// A store that stops answering and comes back before its commands time out (Redis restarted
// within the connect timeout): the monitor's call waits and then succeeds. Every worker's
// beat waited as long, so their keys may have lapsed; they are alive and beat again within
// an interval. Reaping on that answer would take tasks from live workers.

const logger = { debug() {}, info() {}, warn() {}, error() {} };

async function scene(delays: { leadMs?: number; listMs?: number }) {
  const backend = createMemoryBackend();
  const envelope = {
    v: 1 as const,
    id: `grace-${Date.now()}-${Math.random()}`,
    name: 'x',
    args: null,
    attempt: 1,
    maxAttempts: 3,
    timeoutMs: 60_000,
    dedupKey: null,
    submittedAt: Date.now(),
  };
  assert.equal((await backend.store.claim(envelope, 'w1', Date.now())).ok, true);
  const info = {
    id: 'w1',
    host: 'h',
    pid: 1,
    startedAt: Date.now(),
    lastHeartbeat: Date.now(),
    concurrency: 1,
    processed: 0,
    failed: 0,
    inFlight: 1,
    partitions: [0],
  };
  // Its beat lapsed in the outage.
  await backend.registry.heartbeat(info, 20);
  await sleep(40);
  const lead: MonitorStore['lead'] = async (id, ttlMs) => {
    if (delays.leadMs) await sleep(delays.leadMs);
    return backend.monitorStore.lead(id, ttlMs);
  };
  const monitorStore = new Proxy(backend.monitorStore, {
    get(target, property) {
      if (property === 'lead') return lead;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const registry: Pick<WorkerRegistry, 'list'> = {
    list: async () => {
      const listed = await backend.registry.list();
      if (delays.listMs) await sleep(delays.listMs);
      return listed;
    },
  };
  const monitor = new Monitor({
    id: 'm',
    broker: backend.broker,
    monitorStore,
    registry,
    logger,
    intervalMs: 60_000,
    reapGraceMs: 300,
  });
  const losses = async () => (await backend.store.get(envelope.id))?.losses ?? 0;
  return { backend, monitor, info, losses };
}

test('a monitor whose store answered at once reaps a worker whose beat lapsed', async () => {
  const { backend, monitor, losses } = await scene({});
  await monitor.tick();
  assert.equal(await losses(), 1);
  await backend.close();
});

test('a monitor whose store answered late does not reap on that answer; it waits for the grace', async () => {
  const delays = { leadMs: 1500 };
  const { backend, monitor, info, losses } = await scene(delays);
  await monitor.tick();
  assert.equal(await losses(), 0, 'reaped on the answer of a store that was away');
  // The worker beats again as the store comes back: nothing to reap.
  delays.leadMs = 0;
  await backend.registry.heartbeat(info, 60_000);
  await sleep(350);
  await monitor.tick();
  assert.equal(await losses(), 0);
  await backend.close();
});

test('a worker list that came back late is not reaped from; a prompt tick past the grace reaps', async () => {
  const delays = { listMs: 1500 };
  const { backend, monitor, losses } = await scene(delays);
  await monitor.tick();
  assert.equal(await losses(), 0, 'reaped from a list that may predate the beats');
  // The store answers promptly again and the worker stays silent past the grace: it is dead.
  delays.listMs = 0;
  await sleep(350);
  await monitor.tick();
  assert.equal(await losses(), 1);
  await backend.close();
});

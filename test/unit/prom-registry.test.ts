import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import {
  createMemoryBackend,
  defineTask,
  registerFleetMetrics,
  TaskClient,
  TaskWorker,
  WorkerMetrics,
} from '../../src/index.ts';
import { parsePrometheus, seriesValue } from '../prometheus-text.ts';

const add = defineTask('add', ([a, b]: [number, number]) => a + b);

test("a service's prom-client registry holds yadtq's metrics beside its own, and they move as tasks run", async () => {
  const backend = createMemoryBackend({ partitions: 2 });
  const registry = new Registry();
  const own = new Counter({ name: 'api_requests_total', help: 'Requests.', registers: [registry] });
  own.inc();
  registerFleetMetrics(registry, backend);
  const worker = new TaskWorker({ ...backend, id: 'reg-w1', tasks: [add] });
  const client = new TaskClient(backend);
  await worker.start();
  try {
    const before = parsePrometheus(await registry.metrics());
    assert.equal(seriesValue(before, 'api_requests_total', {}), 1);
    assert.equal(before.get('yadtq_tasks_total')!.type, 'counter');
    assert.equal(before.get('yadtq_task_duration_seconds')!.type, 'histogram');
    assert.equal(
      seriesValue(before, 'yadtq_tasks_total', { name: 'add', status: 'success' }),
      undefined,
    );
    for (const args of [
      [1, 2],
      [3, 4],
    ] as [number, number][]) {
      await client.result(await client.submit(add, args), { timeoutMs: 5000 });
    }
    await worker.stop();
    const after = parsePrometheus(await registry.metrics());
    assert.equal(seriesValue(after, 'yadtq_tasks_total', { name: 'add', status: 'success' }), 2);
    assert.equal(seriesValue(after, 'yadtq_task_duration_seconds_count', { name: 'add' }), 2);
    assert.equal(
      seriesValue(after, 'yadtq_task_duration_seconds_bucket', { name: 'add', le: '+Inf' }),
      2,
    );
    assert.equal(seriesValue(after, 'yadtq_worker_up', { worker: 'reg-w1' }), 0);
    assert.equal(seriesValue(after, 'yadtq_consumer_lag', { partition: '1' }), 0);
    const json = await registry.getMetricsAsJSON();
    assert.ok(json.some((m) => m.name === 'yadtq_tasks_in_flight'));
    assert.throws(() => registerFleetMetrics(registry, backend), /already been registered/);
  } finally {
    await worker.stop();
    await backend.close();
  }
});

test("a worker's own metrics, probes included, register in a registry too", async () => {
  const backend = createMemoryBackend();
  const metrics = new WorkerMetrics(backend.stats);
  const worker = new TaskWorker({
    ...backend,
    id: 'reg-w2',
    tasks: [add],
    stats: metrics.recorder,
  });
  const client = new TaskClient(backend);
  const registry = new Registry();
  const source = { worker, registry: backend.registry, lag: () => backend.lag() };
  metrics.register(registry, source);
  await worker.start();
  try {
    await client.result(await client.submit(add, [5, 6]), { timeoutMs: 5000 });
    const running = parsePrometheus(await registry.metrics());
    assert.equal(seriesValue(running, 'yadtq_worker_ready', { worker: 'reg-w2' }), 1);
    // Outcomes reach the stats in batches; the stop writes the last one.
    await worker.stop();
    const families = parsePrometheus(await registry.metrics());
    assert.equal(seriesValue(families, 'yadtq_worker_ready', { worker: 'reg-w2' }), 0);
    assert.equal(seriesValue(families, 'yadtq_tasks_total', { name: 'add', status: 'success' }), 1);
    assert.deepEqual(
      [...families.keys()].sort(),
      [...parsePrometheus(await metrics.render(source)).keys()].sort(),
      'the registry and /metrics serve the same families',
    );
  } finally {
    await worker.stop();
    await backend.close();
  }
});

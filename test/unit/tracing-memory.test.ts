import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { createMemoryBackend, defineTask, TaskClient, TaskWorker } from '../../src/index.ts';
import { installMemoryTracing, spanJson } from '../tracing/otel-memory.ts';

const exporter = installMemoryTracing();

test('in one process on the memory backend, a retried task keeps its trace through the record', async () => {
  const backend = createMemoryBackend();
  const flaky = defineTask(
    'flaky',
    (_args: null, { attempt }) => {
      if (attempt === 1) throw new Error('first attempt fails');
      return attempt;
    },
    { maxAttempts: 2, backoffMs: 10, backoffMaxMs: 10 },
  );
  const worker = new TaskWorker({
    ...backend,
    id: 'trace-mem',
    tasks: [flaky],
    monitor: { intervalMs: 20 },
  });
  const client = new TaskClient(backend);
  await worker.start();
  try {
    const handle = await trace
      .getTracer('test')
      .startActiveSpan('request', async (span) =>
        client.submit(flaky, null).finally(() => span.end()),
      );
    assert.equal(await client.result(handle, { timeoutMs: 5000 }), 2);
    await worker.stop();
    const spans = exporter.getFinishedSpans().map(spanJson);
    const producer = spans.find((s) => s.kind === 'PRODUCER');
    assert.ok(producer);
    assert.equal(producer.parentSpanId, spans.find((s) => s.name === 'request')!.spanId);
    const runs = spans
      .filter((s) => s.kind === 'CONSUMER' && s.attributes['yadtq.task.id'] === handle.id)
      .map((s) => ({
        attempt: s.attributes['yadtq.task.attempt'],
        outcome: s.attributes['yadtq.task.outcome'],
        system: s.attributes['messaging.system'],
        traceId: s.traceId,
        parentSpanId: s.parentSpanId,
      }));
    const expected = { system: 'yadtq-memory', traceId: producer.traceId };
    assert.deepEqual(runs, [
      { attempt: 1, outcome: 'retrying', ...expected, parentSpanId: producer.spanId },
      { attempt: 2, outcome: 'success', ...expected, parentSpanId: producer.spanId },
    ]);
  } finally {
    await worker.stop();
    await backend.close();
  }
});

test('tracing: false opens no span', async () => {
  exporter.reset();
  const backend = createMemoryBackend();
  const echo = defineTask('echo', (args: string) => args);
  const worker = new TaskWorker({ ...backend, id: 'untraced', tasks: [echo], tracing: false });
  const client = new TaskClient({ ...backend, tracing: false });
  await worker.start();
  const handle = await client.submit(echo, 'x');
  assert.equal(await client.result(handle, { timeoutMs: 5000 }), 'x');
  await worker.stop();
  assert.deepEqual(exporter.getFinishedSpans(), []);
  assert.equal('traceparent' in (await backend.store.get(handle.id))!, false);
  await backend.close();
});

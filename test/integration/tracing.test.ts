import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import {
  type Backend,
  createKafkaRedisBackend,
  resolveConfig,
  TaskClient,
  type TaskHandle,
} from '../../src/index.ts';
import { installMemoryTracing, type SpanJson, spanJson } from '../tracing/otel-memory.ts';
import { cliEnv, deleteKeys, KAFKA_BROKERS, REDIS_URL, uniqueNames } from './services.ts';

const WORKER = join(import.meta.dirname, '..', 'fixtures', 'traced-worker.ts');
const _TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** Whether the Redis record keeps a task's traceparent (what a retry is produced from). */
/** The lines a child prints; `next(done)` resolves with the first (new or seen) that fits. */
function linesOf(child: ChildProcess) {
  const seen: string[] = [];
  const waiting: { done: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    seen.push(line);
    for (const w of waiting.splice(0)) {
      if (w.done(line)) w.resolve(line);
      else waiting.push(w);
    }
  });
  return {
    next: (done: (line: string) => boolean) =>
      new Promise<string>((resolve) => {
        const found = seen.find(done);
        if (found !== undefined) resolve(found);
        else waiting.push({ done, resolve });
      }),
  };
}

describe('OpenTelemetry: one trace from submit to finish across two processes', () => {
  const names = uniqueNames('tracing');
  const exporter = installMemoryTracing();
  let backend: Backend;
  let child: ChildProcess;
  let echo: TaskHandle;
  let flaky: TaskHandle;
  let request: SpanJson;
  let producers: SpanJson[];
  let worker: SpanJson[];

  before(async () => {
    const config = resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names });
    backend = await createKafkaRedisBackend(config, { clientId: 'tracing-test' });
    const client = new TaskClient(backend);
    // Both produced before the worker joins, to one partition: it claims them as one batch.
    await trace.getTracer('test').startActiveSpan('POST /reports', async (span) => {
      [echo, flaky] = await Promise.all([
        client.submit('traced.echo', 'hello', { partitionKey: 'one' }),
        client.submit('traced.flaky', 'again', { partitionKey: 'one', maxAttempts: 2 }),
      ]);
      span.end();
    });
    child = spawn(process.execPath, [WORKER], {
      env: cliEnv(names),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = linesOf(child);
    await lines.next((line) => line === 'ready');
    assert.equal(await client.result(echo, { timeoutMs: 30_000 }), 'hello');
    assert.equal(await client.result(flaky, { timeoutMs: 30_000 }), 'again on attempt 2');
    child.stdin!.write('stop\n');
    worker = JSON.parse(await lines.next((line) => line.startsWith('['))) as SpanJson[];
    const spans = exporter.getFinishedSpans().map(spanJson);
    request = spans.find((s) => s.name === 'POST /reports')!;
    producers = spans.filter((s) => s.kind === 'PRODUCER');
  });

  after(async () => {
    if (child !== undefined && child.exitCode === null) {
      child.kill();
      await once(child, 'exit');
    }
    await backend?.close();
    await deleteKeys(names.prefix);
  });

  const producerOf = (handle: TaskHandle) =>
    producers.find((s) => s.attributes['yadtq.task.id'] === handle.id)!;
  const processOf = (handle: TaskHandle, attempt: number) =>
    worker.find(
      (s) =>
        s.name === `process ${names.topic}` &&
        s.attributes['yadtq.task.id'] === handle.id &&
        s.attributes['yadtq.task.attempt'] === attempt,
    );

  test('a submit opens a PRODUCER span, child of the active span, with the messaging attributes', () => {
    assert.equal(producers.length, 2);
    for (const [handle, name] of [
      [echo, 'traced.echo'],
      [flaky, 'traced.flaky'],
    ] as const) {
      const span = producerOf(handle);
      assert.equal(span.name, `send ${names.topic}`);
      assert.equal(span.traceId, request.traceId);
      assert.equal(span.parentSpanId, request.spanId);
      assert.deepEqual(
        {
          system: span.attributes['messaging.system'],
          destination: span.attributes['messaging.destination.name'],
          operation: span.attributes['messaging.operation.type'],
          task: span.attributes['yadtq.task.name'],
          attempt: span.attributes['yadtq.task.attempt'],
          outcome: span.attributes['yadtq.submit.outcome'],
        },
        {
          system: 'kafka',
          destination: names.topic,
          operation: 'send',
          task: name,
          attempt: 1,
          outcome: 'created',
        },
      );
    }
  });

  test('the worker process continues the trace with a CONSUMER span per attempt', () => {
    const span = processOf(echo, 1);
    assert.ok(span, JSON.stringify(worker.map((s) => s.name)));
    assert.equal(span.kind, 'CONSUMER');
    assert.equal(span.traceId, request.traceId);
    assert.equal(span.parentSpanId, producerOf(echo).spanId);
    assert.equal(span.attributes['messaging.system'], 'kafka');
    assert.equal(span.attributes['messaging.destination.name'], names.topic);
    assert.equal(span.attributes['messaging.operation.type'], 'process');
    assert.equal(span.attributes['yadtq.task.name'], 'traced.echo');
    assert.equal(span.attributes['yadtq.task.outcome'], 'success');
    assert.match(String(span.attributes['yadtq.worker.id']), /^traced-\d+$/);
    const inner = worker.find((s) => s.name === 'handler work');
    assert.ok(inner, 'the handler opened its span');
    assert.equal(inner.parentSpanId, span.spanId, "the handler's spans are children of the run");
    const first = processOf(flaky, 1);
    assert.ok(first);
    assert.equal(first.parentSpanId, producerOf(flaky).spanId);
    assert.equal(first.attributes['yadtq.task.outcome'], 'retrying');
    assert.equal(first.status, SpanStatusCode.ERROR);
  });

  test('a batched claim links its spans: one receive span linked to each producer', () => {
    const receive = worker.find((s) => s.name === `receive ${names.topic}`);
    assert.ok(receive, 'the two tasks were taken as one batch');
    assert.equal(receive.kind, 'CONSUMER');
    assert.equal(receive.attributes['messaging.operation.type'], 'receive');
    assert.equal(receive.attributes['messaging.batch.message_count'], 2);
    assert.deepEqual(
      receive.links.map((l) => l.spanId).sort(),
      [producerOf(echo).spanId, producerOf(flaky).spanId].sort(),
      'linked through the traceparent headers of the messages',
    );
    for (const handle of [echo, flaky]) {
      assert.deepEqual(
        processOf(handle, 1)!.links.map((l) => l.spanId),
        [receive.spanId],
      );
    }
  });

  test('a task retried once keeps its trace: the second attempt is a child of the submit too', () => {
    const second = processOf(flaky, 2);
    assert.ok(second, JSON.stringify(worker.map((s) => [s.name, s.attributes])));
    assert.equal(second.kind, 'CONSUMER');
    assert.equal(second.traceId, request.traceId);
    assert.equal(second.parentSpanId, producerOf(flaky).spanId);
    assert.equal(second.attributes['yadtq.task.outcome'], 'success');
  });
});

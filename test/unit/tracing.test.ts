import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { taskMessage } from '../../src/core/envelope.ts';
import {
  createMemoryBackend,
  decodeEnvelope,
  encodeEnvelope,
  type TaskEnvelope,
} from '../../src/index.ts';
import { loadTaskTracing } from '../../src/telemetry/task-tracing.ts';
import { formatTraceparent, parseTraceparent } from '../../src/telemetry/traceparent.ts';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const envelope: TaskEnvelope = {
  v: 1,
  id: '01TASK',
  name: 'add',
  args: [1, 2],
  attempt: 1,
  maxAttempts: 3,
  timeoutMs: 1000,
  dedupKey: null,
  submittedAt: 1,
  unset: ['timeoutMs'],
};

test('traceparent: read and written back; malformed, zero or other versions are not read', () => {
  const parsed = parseTraceparent(TRACEPARENT);
  assert.deepEqual(parsed, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
  });
  assert.equal(formatTraceparent(parsed!), TRACEPARENT);
  for (const bad of [
    '',
    '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    `00-${'0'.repeat(32)}-b7ad6b7169203331-01`,
    `00-0af7651916cd43dd8448eb211c80319c-${'0'.repeat(16)}-01`,
    '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
  ])
    assert.equal(parseTraceparent(bad), undefined, bad);
});

test('an envelope carries its traceparent last; a malformed one is dropped, the task kept', () => {
  const text = encodeEnvelope({ ...envelope, traceparent: TRACEPARENT });
  assert.ok(text.endsWith(`,"traceparent":"${TRACEPARENT}"}`));
  assert.equal(decodeEnvelope(text).traceparent, TRACEPARENT);
  const bad = decodeEnvelope(encodeEnvelope({ ...envelope, traceparent: 'nope' }));
  assert.equal(bad.traceparent, undefined);
  assert.equal(bad.id, '01TASK');
  assert.equal('traceparent' in decodeEnvelope(encodeEnvelope(envelope)), false);
});

test('task messages get the traceparent header of their envelope, none otherwise', () => {
  const traced = { ...envelope, traceparent: TRACEPARENT };
  assert.deepEqual(taskMessage(traced, 'a'), {
    key: 'a',
    value: encodeEnvelope(traced),
    headers: { traceparent: TRACEPARENT },
  });
  assert.deepEqual(taskMessage(envelope), { key: envelope.id, value: encodeEnvelope(envelope) });
});

test('without @opentelemetry/api installed nothing loads and tasks run as before', async () => {
  // The package made unresolvable, as in a service that does not install it.
  const script = `
    import { registerHooks } from 'node:module';
    const asked = [];
    registerHooks({
      resolve(specifier, context, next) {
        if (specifier.startsWith('@opentelemetry/')) {
          asked.push(specifier);
          throw Object.assign(new Error('Cannot find package ' + specifier), { code: 'ERR_MODULE_NOT_FOUND' });
        }
        return next(specifier, context);
      },
    });
    const { createMemoryBackend, defineTask, TaskClient, TaskWorker } = await import(${JSON.stringify(join(import.meta.dirname, '..', '..', 'src', 'index.ts'))});
    const backend = createMemoryBackend();
    const add = defineTask('add', ([a, b]) => a + b);
    const worker = new TaskWorker({ ...backend, id: 'no-otel', tasks: [add] });
    await worker.start();
    const client = new TaskClient(backend);
    const handle = await client.submit(add, [2, 3]);
    const result = await client.result(handle, { timeoutMs: 5000 });
    const record = await client.status(handle.id);
    await worker.stop();
    await backend.close();
    console.log(JSON.stringify({ result, asked, traced: 'traceparent' in record }));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--input-type=module',
    '-e',
    script,
  ]);
  const out = JSON.parse(stdout) as { result: number; asked: string[]; traced: boolean };
  assert.equal(out.result, 5);
  assert.deepEqual([...new Set(out.asked)], ['@opentelemetry/api'], 'only the API was asked for');
  assert.equal(out.traced, false);
});

test('with the API installed but no SDK registered, tracing stays off (no no-op spans per task)', async () => {
  const backend = createMemoryBackend();
  assert.equal(await loadTaskTracing(backend.broker), undefined);
  await backend.close();
});

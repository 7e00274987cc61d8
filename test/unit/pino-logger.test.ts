import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { createMemoryBackend, defineTask, TaskClient, TaskWorker } from '../../src/index.ts';

/** A real pino logger writing JSON lines into an array. */
function capturedPino(): { logger: pino.Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) records.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), records };
}

test('a pino logger passed to the worker receives its records with task and worker ids', async () => {
  const backend = createMemoryBackend();
  const { logger, records } = capturedPino();
  const add = defineTask('add', ([a, b]: [number, number]) => a + b);
  const worker = new TaskWorker({
    ...backend,
    id: 'pino-w1',
    tasks: [add],
    logger: logger.child({ service: 'api' }),
  });
  const client = new TaskClient(backend);
  await worker.start();
  try {
    const handle = await client.submit(add, [2, 3]);
    assert.equal(await client.result(handle, { timeoutMs: 5000 }), 5);
    await worker.stop();
    const started = records.find((r) => r.msg === 'worker started');
    assert.ok(started, JSON.stringify(records));
    assert.equal(started.workerId, 'pino-w1');
    assert.equal(started.service, 'api', 'the child bindings are kept');
    assert.equal(started.level, 30);
    const done = records.find((r) => r.msg === 'task success');
    assert.ok(done, JSON.stringify(records));
    assert.equal(done.taskId, handle.id);
    assert.equal(done.workerId, 'pino-w1');
    assert.equal(done.task, 'add');
    assert.ok(records.some((r) => r.msg === 'worker stopped' && r.workerId === 'pino-w1'));
  } finally {
    await worker.stop();
    await backend.close();
  }
});

test('a yadtq logger is still called message first', async () => {
  const backend = createMemoryBackend();
  const lines: [string, string, unknown][] = [];
  const at = (level: string) => (message: string, fields?: unknown) =>
    lines.push([level, message, fields]);
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const worker = new TaskWorker({ ...backend, id: 'plain-w1', tasks: [], logger });
  await worker.start();
  await worker.stop();
  await backend.close();
  assert.ok(lines.some(([level, message]) => level === 'info' && message === 'worker started'));
});

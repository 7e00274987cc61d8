import assert from 'node:assert/strict';
import { test } from 'node:test';
import { yadtq } from '../integration/cli-helpers.ts';

test('yadtq demo runs on the embedded backend: lifecycle, dedup, cache, failure, two workers', async () => {
  const env = { ...process.env };
  delete env.YADTQ_KAFKA_BROKERS;
  delete env.YADTQ_REDIS_URL;
  const run = await yadtq(['demo'], env);
  assert.equal(run.code, 0, run.stderr);
  const out = run.stdout;
  assert.match(out, /embedded backend/);
  assert.match(out, /queued → processing on worker[12]/);
  assert.match(out, /processing → success = 9 in \d+ ms/);
  assert.match(out, /dedup: +the repeated add\[4,5,600\] got the same id/);
  assert.match(
    out,
    /cache: +the later add\[4,5,600\] was answered at once from the cache: result 9, cached true/,
  );
  assert.match(out, /failure: div\[1,0,200\] failed with RangeError: division by zero/);
  const perWorker = [...out.matchAll(/^ {2}(worker[12]) +(\d+) /gm)].map(
    (m) => [m[1], Number(m[2])] as const,
  );
  assert.equal(perWorker.length, 2);
  assert.equal(
    perWorker.reduce((n, [, c]) => n + c, 0),
    8,
  );
  assert.ok(
    perWorker.every(([, c]) => c > 0),
    `both workers ran tasks: ${JSON.stringify(perWorker)}`,
  );
});

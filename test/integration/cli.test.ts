import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createKafkaRedisBackend,
  resolveConfig,
  TaskClient,
  type TaskRecord,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import { BIN, exited, spawnYadtq, yadtq } from './cli-helpers.ts';
import { cliEnv, deleteKeys, KAFKA_BROKERS, REDIS_URL, uniqueNames } from './services.ts';

describe('CLI against Kafka + Redis: two `yadtq worker` processes', () => {
  const names = uniqueNames('cli');
  const env = cliEnv(names);
  const workers = ['w1', 'w2'].map((id) => ({
    id,
    ...spawnYadtq(['worker', id, '--concurrency', '8'], env),
  }));

  before(async () => {
    await until(async () => {
      const listed = await yadtq(['workers', '--json'], env);
      if (listed.code !== 0) return false;
      const infos = JSON.parse(listed.stdout).workers as Array<{
        id: string;
        alive: boolean;
        partitions: number[];
      }>;
      return workers.every((w) =>
        infos.some((i) => i.id === w.id && i.alive && i.partitions.length > 0),
      );
    }, 90_000).catch((error) => {
      throw new Error(`${error.message}\n${workers.map((w) => w.log()).join('\n')}`);
    });
  });

  after(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await deleteKeys(names.prefix);
  });

  test('both workers process tasks of one 4-partition topic, every result right', async () => {
    const backend = await createKafkaRedisBackend(
      resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names }),
    );
    try {
      const client = new TaskClient({ broker: backend.broker, store: backend.store });
      const argsList = Array.from({ length: 60 }, (_, i): [number, number, number] => [
        i,
        1000,
        20,
      ]);
      const handles = await client.submitMany('add', argsList);
      const records: TaskRecord[] = await Promise.all(
        handles.map((h) => client.wait(h, { timeoutMs: 60_000 })),
      );
      const perWorker: Record<string, number> = {};
      records.forEach((r, i) => {
        assert.equal(r.status, 'success');
        assert.equal(r.result, i + 1000);
        perWorker[r.worker!] = (perWorker[r.worker!] ?? 0) + 1;
      });
      assert.deepEqual(
        Object.keys(perWorker).sort(),
        ['w1', 'w2'],
        `tasks per worker: ${JSON.stringify(perWorker)}`,
      );
      console.log(`tasks per worker: ${JSON.stringify(perWorker)}`);
    } finally {
      await backend.close();
    }
  });

  test('submit --wait prints the final record and exits 0; status prints it again', async () => {
    const run = await yadtq(['submit', 'mul', '[6, 7, 50]', '--wait'], env);
    assert.equal(run.code, 0, run.stderr);
    const record = JSON.parse(run.stdout);
    assert.equal(record.status, 'success');
    assert.equal(record.result, 42);
    assert.ok(['w1', 'w2'].includes(record.worker));
    const status = await yadtq(['status', record.id], env);
    assert.equal(status.code, 0, status.stderr);
    const again = JSON.parse(status.stdout);
    assert.deepEqual(Object.keys(again).slice(0, 4), ['id', 'name', 'args', 'status']);
    assert.equal(again.id, record.id);
    assert.equal(again.durationMs, record.durationMs);
  });

  test('a division by zero fails: exit 1, the error stored', async () => {
    const run = await yadtq(['submit', 'div', '[1, 0, 0]', '--wait'], env);
    assert.equal(run.code, 1, run.stderr);
    const record = JSON.parse(run.stdout);
    assert.equal(record.status, 'failed');
    assert.match(record.error.message, /division by zero/);
    assert.equal(record.error.name, 'RangeError');
  });

  test('an identical submit in flight is deduplicated; after success it is a cache hit', async () => {
    const first = await yadtq(['submit', 'sub', '[50, 8, 4000]'], env);
    assert.equal(first.code, 0, first.stderr);
    const second = await yadtq(['submit', 'sub', '[50, 8, 4000]'], env);
    assert.equal(second.stdout.trim(), first.stdout.trim());
    assert.match(second.stderr, /deduplicated/);
    const waited = await yadtq(['submit', 'sub', '[50, 8, 4000]', '--wait'], env);
    assert.equal(JSON.parse(waited.stdout).id, first.stdout.trim());
    const hit = await yadtq(['submit', 'sub', '[50, 8, 4000]', '--wait'], env);
    assert.equal(hit.code, 0, hit.stderr);
    const cached = JSON.parse(hit.stdout);
    assert.equal(cached.cached, true);
    assert.equal(cached.result, 42);
    assert.match(hit.stderr, /cache/);
    const fresh = await yadtq(['submit', 'sub', '[50, 8, 4000]', '--no-cache'], env);
    assert.notEqual(fresh.stdout.trim(), first.stdout.trim());
  });

  test('examples/basic.ts submits a mix and prints every status and result', async () => {
    const example = join(dirname(BIN), '..', 'examples', 'basic.ts');
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [example], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c) => {
        out += c;
      });
      child.stderr.on('data', (c) => {
        out += c;
      });
      child.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /add\[1,2\] success on w[12] .*: result 3/);
    assert.match(run.out, /mul\[6,7,800\] success .*: result 42/);
    assert.match(run.out, /div\[1,0\] failed .*: error: division by zero/);
    assert.match(run.out, /\((deduplicated|from cache)\)/);
  });

  test('workers lists both with counters; SIGTERM stops them cleanly and they show dead', async () => {
    const listed = await yadtq(['workers'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /w1\s+alive/);
    assert.match(listed.stdout, /w2\s+alive/);
    for (const w of workers) w.child.kill('SIGTERM');
    const codes = await Promise.all(workers.map((w) => exited(w.child)));
    assert.deepEqual(codes, [0, 0], workers.map((w) => w.log()).join('\n'));
    const after = JSON.parse((await yadtq(['workers', '--json'], env)).stdout).workers as Array<{
      id: string;
      alive: boolean;
      processed: number;
    }>;
    assert.deepEqual(after.map((w) => [w.id, w.alive]).sort(), [
      ['w1', false],
      ['w2', false],
    ]);
    assert.ok(after.reduce((n, w) => n + w.processed, 0) >= 66);
  });
});

describe('CLI usage errors exit 2 with the usage', () => {
  for (const args of [
    [],
    ['bogus'],
    ['submit'],
    ['submit', 'add', '[1,'],
    ['worker'],
    ['status'],
    ['submit', 'add', '--timeout', 'soon'],
    ['submit', 'add', '[1,2]', '--ordering-key', ''],
    ['submit', 'add', '[1,2]', '--priority', 'urgent'],
    ['workers', '--nope'],
  ]) {
    test(`yadtq ${args.join(' ')}`, async () => {
      const run = await yadtq(args, { ...process.env, YADTQ_KAFKA_BROKERS: '127.0.0.1:1' });
      assert.equal(run.code, 2, `${run.stdout}${run.stderr}`);
      assert.match(run.stdout + run.stderr, /Usage:/);
    });
  }
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKafkaRedisBackend, resolveConfig, TaskClient } from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import { exited, spawnYadtq, yadtq } from './cli-helpers.ts';
import { cliEnv, deleteKeys, KAFKA_BROKERS, REDIS_URL, uniqueNames } from './services.ts';

describe('CLI: retry, cancel, dlq, delayed submits, and recovery from a SIGKILLed worker', () => {
  const names = uniqueNames('cli-fault');
  const env = cliEnv(names);
  const workers = new Map<string, ReturnType<typeof spawnYadtq>>();
  const start = (id: string) =>
    workers.set(id, spawnYadtq(['worker', id, '--concurrency', '20'], env));

  before(async () => {
    start('f1');
    start('f2');
    await until(async () => {
      const listed = await yadtq(['workers', '--json'], env);
      const infos =
        listed.code === 0
          ? (JSON.parse(listed.stdout).workers as Array<{
              id: string;
              alive: boolean;
              partitions: number[];
            }>)
          : [];
      return ['f1', 'f2'].every((id) =>
        infos.some((i) => i.id === id && i.alive && i.partitions.length > 0),
      );
    }, 90_000);
  });

  after(async () => {
    for (const w of workers.values()) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await deleteKeys(names.prefix);
  });

  test('a failed task is listed by dlq and runs again with retry', async () => {
    const failed = JSON.parse((await yadtq(['submit', 'div', '[7, 0, 0]', '--wait'], env)).stdout);
    assert.equal(failed.status, 'failed');
    const dlq = await yadtq(['dlq', '--json'], env);
    assert.equal(dlq.code, 0, dlq.stderr);
    const listed = JSON.parse(dlq.stdout).deadLetters as Array<{ headers: Record<string, string> }>;
    assert.ok(
      listed.some(
        (m) =>
          m.headers['yadtq-task-id'] === failed.id &&
          /division by zero/.test(m.headers['yadtq-error'] ?? ''),
      ),
    );
    const table = await yadtq(['dlq', '--limit', '5'], env);
    assert.match(table.stdout, new RegExp(`${failed.id}\\s+exhausted`));
    const retried = await yadtq(['retry', failed.id], env);
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal(retried.stdout.trim(), failed.id);
    await until(
      async () => JSON.parse((await yadtq(['status', failed.id], env)).stdout).attempt === 2,
      30_000,
    );
    const again = JSON.parse((await yadtq(['status', failed.id], env)).stdout);
    await until(
      async () =>
        ['failed'].includes(JSON.parse((await yadtq(['status', failed.id], env)).stdout).status),
      30_000,
    );
    assert.equal(again.attempt, 2);
    const ok = await yadtq(
      ['retry', JSON.parse((await yadtq(['submit', 'add', '[1, 1, 0]', '--wait'], env)).stdout).id],
      env,
    );
    assert.equal(ok.code, 1);
    assert.match(ok.stderr, /only failed or cancelled tasks can be retried/);
  });

  test('a delayed task can be cancelled before it runs', async () => {
    const id = (
      await yadtq(['submit', 'add', '[40, 2, 0]', '--delay', '5000', '--no-dedup'], env)
    ).stdout.trim();
    assert.equal(JSON.parse((await yadtq(['status', id], env)).stdout).status, 'queued');
    const cancelled = await yadtq(['cancel', id], env);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.deepEqual(JSON.parse(cancelled.stdout), { id, cancelled: true, status: 'cancelled' });
    const twice = await yadtq(['cancel', id], env);
    assert.equal(twice.code, 1);
  });

  test('SIGKILL of a worker with tasks in flight: every task still ends success, on the other worker', async () => {
    const backend = await createKafkaRedisBackend(
      resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names }),
    );
    try {
      const client = new TaskClient({ broker: backend.broker, store: backend.store });
      const handles = await client.submitMany(
        'mul',
        Array.from({ length: 30 }, (_, i) => [i, 2, 1500]),
        { dedup: false },
      );
      await until(async () => (await backend.monitorStore.heldBy('f1')).length > 0, 20_000);
      const held = await backend.monitorStore.heldBy('f1');
      const killedAt = Date.now();
      workers.get('f1')!.child.kill('SIGKILL');
      const records = await Promise.all(handles.map((h) => client.wait(h, { timeoutMs: 60_000 })));
      records.forEach((r, i) => {
        assert.equal(r.status, 'success', JSON.stringify(r));
        assert.equal(r.result, i * 2);
      });
      const recovered = records.filter((r) => held.includes(r.id));
      assert.ok(recovered.length > 0);
      for (const r of recovered) {
        assert.equal(r.worker, 'f2');
        assert.equal(r.losses, 1);
      }
      const doneAt = Math.max(...recovered.map((r) => r.finishedAt ?? 0));
      console.log(
        `recovered ${recovered.length} tasks of the killed worker; all done ${doneAt - killedAt} ms after the kill`,
      );
      const listed = await backend.registry.list();
      assert.equal(listed.find((w) => w.id === 'f1')?.alive, false);
    } finally {
      await backend.close();
    }
    workers.get('f2')!.child.kill('SIGTERM');
    assert.equal(await exited(workers.get('f2')!.child), 0);
  });
});

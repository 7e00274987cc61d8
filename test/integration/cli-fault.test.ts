import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { until } from '../contract/contract.ts';
import { exited, spawnYadtq, yadtq } from './cli-helpers.ts';
import { cliEnv, deleteKeys, uniqueNames } from './services.ts';

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
    const submitted = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        yadtq(['submit', 'mul', `[${i}, 2, 1500]`, '--no-dedup'], env),
      ),
    );
    const ids = submitted.map((r) => r.stdout.trim());
    await until(async () => {
      const infos = JSON.parse((await yadtq(['workers', '--json'], env)).stdout).workers as Array<{
        id: string;
        inFlight: number;
      }>;
      return (infos.find((w) => w.id === 'f1')?.inFlight ?? 0) > 0;
    }, 20_000);
    const killedAt = Date.now();
    workers.get('f1')!.child.kill('SIGKILL');
    const statuses = await Promise.all(
      ids.map(async (id, i) => {
        let record: { status: string; result: number; worker: string; losses: number } | undefined;
        await until(async () => {
          record = JSON.parse((await yadtq(['status', id], env)).stdout);
          return record?.status === 'success';
        }, 60_000);
        assert.equal(record?.result, i * 2);
        return record!;
      }),
    );
    const recoveredMs = Date.now() - killedAt;
    const moved = statuses.filter((r) => r.losses > 0);
    assert.ok(moved.length > 0, 'some tasks were recovered from the killed worker');
    assert.ok(moved.every((r) => r.worker === 'f2'));
    console.log(`recovered ${moved.length} tasks of the killed worker in ${recoveredMs} ms`);
    const listed = JSON.parse((await yadtq(['workers', '--json'], env)).stdout).workers as Array<{
      id: string;
      alive: boolean;
    }>;
    assert.equal(listed.find((w) => w.id === 'f1')?.alive, false);
    workers.get('f2')!.child.kill('SIGTERM');
    assert.equal(await exited(workers.get('f2')!.child), 0);
  });
});

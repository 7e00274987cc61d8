import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/core/logger.ts';
import {
  type Backend,
  createKafkaRedisBackend,
  Monitor,
  resolveConfig,
  TaskClient,
  TaskWorker,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import * as isolated from '../fixtures/hang-tasks-isolated.ts';
import { exited, spawnYadtq } from './cli-helpers.ts';
import { cliEnv, deleteKeys, KAFKA_BROKERS, REDIS_URL, uniqueNames } from './services.ts';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'hang-tasks.ts');

describe('heartbeat watchdog: a busy handler keeps its worker alive, a hung loop ends it', () => {
  const names = uniqueNames('watchdog');
  let backend: Backend;
  let client: TaskClient;
  let monitor: Monitor;
  let rescuer: TaskWorker | undefined;
  const worker = spawnYadtq(
    ['worker', 'wd-a', '--tasks', FIXTURE, '--concurrency', '8'],
    cliEnv(names),
  );

  before(async () => {
    const config = resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names });
    backend = await createKafkaRedisBackend(config, { clientId: 'yadtq-test-watchdog' });
    client = new TaskClient({ broker: backend.broker, store: backend.store });
    // The reaper, in this process: the worker's own monitor is on the loop a handler blocks.
    monitor = new Monitor({
      id: 'wd-monitor',
      broker: backend.broker,
      monitorStore: backend.monitorStore,
      registry: backend.registry,
      intervalMs: 200,
      leaderTtlMs: 1000,
      logger: silentLogger,
    });
    monitor.start();
    await until(async () => {
      const found = (await backend.registry.list()).find((w) => w.id === 'wd-a');
      return found?.alive === true && found.partitions.length > 0;
    }, 90_000);
  });

  after(async () => {
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await rescuer?.stop();
    await monitor.stop();
    await backend.close();
    await deleteKeys(names.prefix);
  });

  test('a handler that busy-loops 10 s (timeout 30 s) ends success after one run, losses 0', async () => {
    const handle = await client.submit('hang.busy', 10_000, { timeoutMs: 30_000, dedup: false });
    const record = await client.wait(handle, { timeoutMs: 40_000 });
    assert.equal(record.status, 'success', JSON.stringify(record.error));
    assert.equal(record.losses, 0);
    assert.equal(record.attempt, 1);
    assert.doesNotMatch(worker.log(), /outcome refused/);
  });

  test('an endless sync loop (timeout 2 s) ends the worker process; its other tasks end success elsewhere', async () => {
    const naps = await client.submitMany('hang.nap', [1500, 1500, 1500], {
      timeoutMs: 3000,
      dedup: false,
    });
    await until(async () => {
      const records = await Promise.all(naps.map((h) => client.status(h.id)));
      return records.every((r) => r?.status === 'processing');
    }, 20_000);
    const spin = await client.submit('hang.spin', null, { timeoutMs: 2000, dedup: false });
    const started = Date.now();
    // Stuck past every running deadline (nap 3 s, spin 2 s) plus the 5 s margin: ended.
    const code = await Promise.race([
      exited(worker.child),
      new Promise((r) => setTimeout(() => r('still running'), 15_000)),
    ]);
    const endedAfterMs = Date.now() - started;
    assert.equal(worker.child.signalCode, 'SIGKILL', `${code}\n${worker.log()}`);
    assert.ok(endedAfterMs < 12_000, `ended after ${endedAfterMs} ms`);
    assert.match(worker.log(), /event loop hung/);
    rescuer = new TaskWorker({
      id: 'wd-b',
      broker: backend.broker,
      store: backend.store,
      registry: backend.registry,
      monitorStore: backend.monitorStore,
      tasks: [isolated.nap, isolated.spin],
      monitor: false,
    });
    await rescuer.start();
    const ends = await Promise.all(naps.map((h) => client.wait(h, { timeoutMs: 30_000 })));
    for (const record of ends) {
      assert.equal(record.status, 'success');
      assert.equal(record.losses, 1);
      assert.equal(record.worker, 'wd-b');
    }
    const spun = await client.wait(spin, { timeoutMs: 30_000 });
    assert.equal(spun.error?.code, 'TASK_TIMEOUT', 'run again, in a sandbox, and ended there');
    assert.equal(spun.losses, 1);
  });
});

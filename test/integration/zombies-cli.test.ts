import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type Backend,
  createKafkaRedisBackend,
  type Overview,
  resolveConfig,
  TaskClient,
  type WorkerInfo,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import { linger } from '../fixtures/zombie-tasks.ts';
import { parsePrometheus, seriesValue } from '../prometheus-text.ts';
import { exited, spawnYadtq, yadtq } from './cli-helpers.ts';
import { cliEnv, deleteKeys, KAFKA_BROKERS, REDIS_URL, uniqueNames } from './services.ts';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'zombie-tasks.ts');

describe('zombie handlers on a CLI worker (Kafka + Redis)', () => {
  const names = uniqueNames('zombies-cli');
  const env = cliEnv(names);
  const worker = spawnYadtq(
    [
      'worker',
      'zc-a',
      '--tasks',
      FIXTURE,
      '--concurrency',
      '4',
      '--max-zombies',
      '1',
      '--metrics-port',
      '0',
    ],
    env,
  );
  let backend: Backend;
  let client: TaskClient;
  let metricsUrl = '';

  before(async () => {
    const config = resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names });
    backend = await createKafkaRedisBackend(config, { clientId: 'yadtq-test-zombies' });
    client = new TaskClient({ broker: backend.broker, store: backend.store });
    await until(() => /"url":"(http:[^"]+)"/.test(worker.log()), 60_000).catch(() => {
      throw new Error(`the worker did not serve metrics:\n${worker.log()}`);
    });
    metricsUrl = /"url":"(http:[^"]+)"/.exec(worker.log())![1]!;
    await until(async () => {
      const found = (await backend.registry.list()).find((w) => w.id === 'zc-a');
      return found?.alive === true && found.partitions.length > 0;
    }, 60_000);
  });

  after(async () => {
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await backend.close();
    await deleteKeys(names.prefix);
  });

  test('a zombie shows in the heartbeat, `yadtq workers`, the overview and /metrics; past --max-zombies the worker exits 3', async () => {
    const first = await client.submit(linger, 60_000);
    const timedOut = await client.wait(first, { timeoutMs: 20_000 });
    assert.equal(timedOut.error?.code, 'TASK_TIMEOUT');
    await until(async () => {
      const run = await yadtq(['workers', '--json'], env);
      const { workers } = JSON.parse(run.stdout) as { workers: WorkerInfo[] };
      return workers.find((w) => w.id === 'zc-a')?.zombies === 1;
    }, 10_000);
    const table = await yadtq(['workers'], env);
    assert.equal(table.code, 0, table.stderr);
    const [header, row] = table.stdout.split('\n');
    const columns = header!.split(/\s{2,}/);
    const cells = row!.split(/\s{2,}/);
    assert.equal(cells[columns.indexOf('ZOMBIES')], '1', table.stdout);
    // What the dashboard shows: the same overview `yadtq stats --json` prints.
    const stats = await yadtq(['stats', '--json'], env);
    const overview = JSON.parse(stats.stdout) as Overview;
    assert.equal(overview.workers.find((w) => w.id === 'zc-a')?.zombies, 1);
    const metrics = parsePrometheus(await (await fetch(metricsUrl)).text());
    assert.equal(seriesValue(metrics, 'yadtq_worker_zombies', { worker: 'zc-a' }), 1);
    assert.equal(worker.child.exitCode, null, 'one zombie is within --max-zombies 1');

    const second = await client.submit(linger, 60_000);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited(worker.child),
      new Promise((r) => {
        timer = setTimeout(() => r('still running'), 20_000);
      }),
    ]);
    clearTimeout(timer);
    assert.equal(code, 3, worker.log());
    assert.match(worker.log(), /worker exiting with code 3 to be restarted: 2 zombie handlers/);
    assert.equal((await client.status(second.id))?.error?.code, 'TASK_TIMEOUT');
    const gone = (await backend.registry.list()).find((w) => w.id === 'zc-a');
    assert.equal(gone?.alive, false, 'it deregistered: a clean drain, not a crash');
  });
});

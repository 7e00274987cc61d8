import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createKafkaRedisBackend,
  type Overview,
  type RecentTask,
  resolveConfig,
  TaskClient,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import { parsePrometheus, seriesValue } from '../prometheus-text.ts';
import { exited, spawnYadtq, yadtq } from './cli-helpers.ts';
import { cliEnv, deleteKeys, KAFKA_BROKERS, REDIS_URL, uniqueNames } from './services.ts';

describe('yadtq stats / tasks against Kafka + Redis, with a `yadtq worker --metrics-port`', () => {
  const names = uniqueNames('stats-cli');
  const env = cliEnv(names);
  const worker = spawnYadtq(['worker', 'sw1', '--concurrency', '8', '--metrics-port', '0'], env);
  const config = resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names });
  let metricsUrl = '';

  const stats = async (): Promise<Overview> => {
    const run = await yadtq(['stats', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as Overview;
  };

  before(async () => {
    await until(() => /"url":"(http:[^"]+)"/.test(worker.log()), 60_000).catch(() => {
      throw new Error(`the worker did not serve metrics:\n${worker.log()}`);
    });
    metricsUrl = /"url":"(http:[^"]+)"/.exec(worker.log())![1]!;
    await until(async () => {
      const view = await stats();
      return view.workers.some((w) => w.id === 'sw1' && w.alive && w.partitions.length === 4);
    }, 60_000);
  });

  after(async () => {
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await deleteKeys(names.prefix);
  });

  test('the worker serves /healthz and /readyz (200 and a JSON report) and its readiness gauges', async () => {
    const probe = async (path: string) => {
      const response = await fetch(new URL(path, metricsUrl));
      return {
        status: response.status,
        report: (await response.json()) as Record<string, unknown>,
      };
    };
    const live = await probe('/healthz');
    assert.equal(live.status, 200);
    assert.equal(live.report.live, true);
    const ready = await probe('/readyz');
    assert.equal(ready.status, 200, JSON.stringify(ready.report));
    assert.deepEqual(ready.report.reasons, []);
    const metrics = parsePrometheus(await (await fetch(metricsUrl)).text());
    assert.equal(seriesValue(metrics, 'yadtq_worker_ready', { worker: 'sw1' }), 1);
    assert.equal(seriesValue(metrics, 'yadtq_worker_store_reachable', { worker: 'sw1' }), 1);
    assert.equal((await fetch(new URL('/nope', metricsUrl))).status, 404);
  });

  test('stats --json counts a known set of tasks; the worker /metrics moves with them', async () => {
    const before = parsePrometheus(await (await fetch(metricsUrl)).text());
    assert.equal(
      seriesValue(before, 'yadtq_tasks_total', { name: 'add', status: 'success' }),
      undefined,
    );
    const backend = await createKafkaRedisBackend(config);
    try {
      const client = new TaskClient({ broker: backend.broker, store: backend.store });
      const adds = await client.submitMany(
        'add',
        Array.from({ length: 6 }, (_, i) => [i, 1, 20]),
      );
      const divs = await client.submitMany('div', [
        [1, 0, 10],
        [2, 0, 10],
      ]);
      const records = await Promise.all(
        [...adds, ...divs].map((h) => client.wait(h, { timeoutMs: 30_000 })),
      );
      assert.deepEqual(
        records.map((r) => r.status),
        [...Array(6).fill('success'), 'failed', 'failed'],
      );
    } finally {
      await backend.close();
    }
    // Outcomes are recorded just after they are stored, offsets committed every 200 ms, and
    // `processing` is what the heartbeats (one a second) last published.
    let view: Overview | undefined;
    await until(async () => {
      view = await stats();
      return view.status.success === 6 && view.lag?.total === 0 && view.status.processing === 0;
    }, 20_000);
    assert.ok(view);
    assert.deepEqual(view.status, {
      queued: 0,
      processing: 0,
      success: 6,
      failed: 2,
      retrying: 0,
      cancelled: 0,
    });
    const byName = Object.fromEntries(view.stats.names.map((n) => [n.name, n]));
    assert.equal(byName.add?.counts.success, 6);
    assert.equal(byName.div?.counts.failed, 2);
    assert.equal(byName.add?.durations.samples, 6);
    assert.ok(byName.add!.durations.p50 >= 20, `p50 ${byName.add!.durations.p50}`);
    assert.deepEqual(
      view.stats.workers.map((w) => [w.workerId, w.processed, w.failed]),
      [['sw1', 6, 2]],
    );
    assert.equal(view.lag?.partitions.length, 4);
    assert.deepEqual(
      view.lag?.partitions.map((p) => p.owner),
      ['sw1', 'sw1', 'sw1', 'sw1'],
    );
    assert.equal(
      view.lag?.partitions.reduce((sum, p) => sum + (p.committedOffset ?? 0), 0),
      8,
    );
    assert.match(view.stats.failures[0]!.error!, /division by zero/);

    const after = parsePrometheus(await (await fetch(metricsUrl)).text());
    assert.equal(seriesValue(after, 'yadtq_tasks_total', { name: 'add', status: 'success' }), 6);
    assert.equal(seriesValue(after, 'yadtq_tasks_total', { name: 'div', status: 'failed' }), 2);
    assert.equal(seriesValue(after, 'yadtq_task_duration_seconds_count', { name: 'add' }), 6);
    assert.equal(seriesValue(after, 'yadtq_worker_up', { worker: 'sw1' }), 1);
    assert.ok(seriesValue(after, 'yadtq_worker_heartbeat_age_seconds', { worker: 'sw1' })! < 5);

    const text = await yadtq(['stats'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /success 6/);
    assert.match(text.stdout, /PARTITION\s+END\s+COMMITTED\s+LAG\s+OLDEST\s+OWNER/);
    console.log(text.stdout);

    const failed = await yadtq(['tasks', '--status', 'failed', '--json'], env);
    assert.equal(failed.code, 0, failed.stderr);
    const tasks = JSON.parse(failed.stdout).tasks as RecentTask[];
    assert.equal(tasks.length, 2);
    assert.ok(tasks.every((t) => t.name === 'div' && /division by zero/.test(t.error ?? '')));
    const recent = await yadtq(['tasks', '--limit', '3'], env);
    assert.equal(recent.code, 0, recent.stderr);
    assert.equal(recent.stdout.trim().split('\n').length, 4, recent.stdout);
  });

  test('with the worker stopped, new tasks show up as lag and queued', async () => {
    worker.child.kill('SIGTERM');
    assert.equal(await exited(worker.child), 0, worker.log());
    const backend = await createKafkaRedisBackend(config);
    try {
      const client = new TaskClient({ broker: backend.broker, store: backend.store });
      await client.submitMany('mul', [
        [1, 2, 0],
        [3, 4, 0],
        [5, 6, 0],
      ]);
    } finally {
      await backend.close();
    }
    const view = await stats();
    assert.equal(view.lag?.total, 3);
    assert.equal(view.status.queued, 3);
    assert.equal(view.status.success, 6);
    assert.ok(view.lag?.partitions.every((p) => p.owner === null));
    assert.equal(view.workers.find((w) => w.id === 'sw1')?.alive, false);
  });

  test('bad flags print the usage and exit 2', async () => {
    for (const args of [
      ['stats', 'extra'],
      ['stats', '--bogus'],
      ['tasks', '--limit', '0'],
      ['tasks', '--status', 'sideways'],
      ['dashboard', '--host', '0.0.0.0'],
      ['dashboard', '--port', 'http'],
      ['worker', 'x', '--metrics-port', 'nope'],
      ['worker', 'x', '--metrics-port', '0.0.0.0:9464'],
      ['worker', 'x', '--metrics-port', '9464', '--metrics-token', 'short'],
    ]) {
      const run = await yadtq(args, env);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /Usage:/);
    }
    const open = await yadtq(['dashboard', '--host', '0.0.0.0'], env);
    assert.match(open.stderr, /without --token/);
    const metrics = await yadtq(['worker', 'x', '--metrics-port', '0.0.0.0:9464'], env);
    assert.match(metrics.stderr, /without --metrics-token/);
  });
});

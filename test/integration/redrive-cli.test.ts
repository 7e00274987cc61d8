import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type Backend,
  createKafkaRedisBackend,
  type DeadLetter,
  DLQ_HEADERS,
  defineTask,
  encodeEnvelope,
  type ReplayReport,
  resolveConfig,
  TaskClient,
  TaskWorker,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import { yadtq } from './cli-helpers.ts';
import { cliEnv, deleteKeys, KAFKA_BROKERS, REDIS_URL, uniqueNames } from './services.ts';

/**
 * 20 dead-lettered tasks of two reasons on Kafka + Redis: 10 `exhausted` (a handler that
 * fails its first attempt, maxAttempts 1) and 10 `expired` (messages whose record is gone:
 * older than the store's retention). Replays run through the CLI, as users do.
 */
describe('dlq replay: the chosen dead-lettered tasks run once more, the others are untouched', () => {
  const names = uniqueNames('redrive');
  const env = cliEnv(names);
  const runs = new Map<string, number>();
  const count = (id: string) => runs.set(id, (runs.get(id) ?? 0) + 1);
  const flaky = defineTask(
    'flaky',
    async ([n]: [number], { taskId, attempt }) => {
      count(taskId);
      if (attempt === 1) throw new Error(`attempt 1 of ${n} fails`);
      return n;
    },
    { maxAttempts: 1 },
  );
  const stale = defineTask('stale', async ([n]: [number], { taskId }) => {
    count(taskId);
    return n;
  });
  let backend: Backend;
  let worker: TaskWorker;
  const exhausted: string[] = [];
  const expired: string[] = [];

  const dlqJson = async (): Promise<DeadLetter[]> => {
    const listed = await yadtq(['dlq', '--json', '--limit', '100'], env);
    assert.equal(listed.code, 0, listed.stderr);
    return JSON.parse(listed.stdout).deadLetters;
  };
  const replay = async (args: string[], code: number): Promise<ReplayReport> => {
    const done = await yadtq(['dlq', 'replay', ...args, '--json'], env);
    assert.equal(done.code, code, done.stderr);
    return JSON.parse(done.stdout);
  };

  before(async () => {
    const config = resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names });
    backend = await createKafkaRedisBackend(config, { clientId: 'yadtq-test-redrive' });
    worker = new TaskWorker({
      ...backend,
      id: 'redrive-w1',
      tasks: [flaky, stale],
      concurrency: 8,
    });
    await worker.start();
    const client = new TaskClient(backend);
    for (const h of await client.submitMany(
      flaky,
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => [n]),
    ))
      exhausted.push(h.id);
    const old = Date.now() - 2 * 86_400_000;
    const messages = Array.from({ length: 10 }, (_, n) => {
      const id = `01STALE${String(n).padStart(19, '0')}`;
      expired.push(id);
      const envelope = {
        ...{ v: 1 as const, id, name: 'stale', args: [n], attempt: 1, maxAttempts: 1 },
        ...{ timeoutMs: 5000, dedupKey: null, submittedAt: old },
      };
      return { key: id, value: encodeEnvelope(envelope) };
    });
    await backend.broker.produce('tasks', messages);
    await until(async () => (await backend.broker.deadLetters(100)).length === 20, 30_000);
  });

  after(async () => {
    await worker?.stop();
    await backend?.close();
    await deleteKeys(names.prefix);
  });

  test('a replay filtered by reason runs exactly the chosen ones once; a second is refused', async () => {
    assert.ok(exhausted.every((id) => runs.get(id) === 1));
    assert.ok(
      expired.every((id) => !runs.has(id)),
      'an expired message is never run',
    );

    const dry = await replay(['--reason', 'exhausted', '--dry-run'], 0);
    assert.equal(dry.replayed, 10);
    assert.ok(
      exhausted.every((id) => runs.get(id) === 1),
      'a dry run runs nothing',
    );

    const first = await replay(['--reason', 'exhausted'], 0);
    assert.equal(first.matched, 10);
    assert.equal(first.replayed, 10);
    assert.deepEqual(first.results.map((r) => r.taskId).sort(), [...exhausted].sort());
    assert.ok(first.results.every((r) => r.from === 'record' && r.attempt === 2));
    await until(async () => {
      const records = await Promise.all(exhausted.map((id) => backend.store.get(id)));
      return records.every((r) => r?.status === 'success');
    }, 20_000);
    for (const id of exhausted) assert.equal(runs.get(id), 2, `task ${id} ran once more`);
    assert.ok(
      expired.every((id) => !runs.has(id)),
      'the other reason is untouched',
    );

    const second = await replay(['--reason', 'exhausted'], 1);
    assert.equal(second.replayed, 0);
    assert.equal(second.refused, 10);
    assert.ok(second.results.every((r) => r.refused === 'already-replayed'));

    const listed = await dlqJson();
    assert.equal(listed.length, 20);
    for (const d of listed) {
      const reason = d.headers?.[DLQ_HEADERS.reason];
      if (reason === 'exhausted') {
        assert.equal(d.replayed?.attempt, 2);
        assert.equal(d.replayed?.from, 'record');
        assert.ok(exhausted.includes(d.replayed!.taskId));
      } else assert.equal(d.replayed, null, `${d.entry} (${reason}) was not replayed`);
    }
    const table = await yadtq(['dlq', '--limit', '100'], env);
    assert.match(table.stdout, /ENTRY +TIME +TASK \/ KEY +REASON +CODE +REPLAYED/);
    assert.match(table.stdout, /exhausted .* \d{4}-\d\d-\d\dT[\d:.]+Z \(attempt 2\)/);
  });

  test('with the record gone the task is made anew from a complete body; --limit caps it', async () => {
    const report = await replay(['--reason', 'expired', '--limit', '3', '--task', 'stale'], 0);
    assert.equal(report.replayed, 3);
    assert.ok(report.results.every((r) => r.from === 'body' && r.attempt === 2));
    const chosen = report.results.map((r) => r.taskId!);
    await until(async () => {
      const records = await Promise.all(chosen.map((id) => backend.store.get(id)));
      return records.every((r) => r?.status === 'success');
    }, 20_000);
    for (const id of expired) assert.equal(runs.get(id), chosen.includes(id) ? 1 : undefined, id);
  });

  test('of concurrent takes of one entry in the Redis ledger exactly one wins', async () => {
    const mark = { at: Date.now(), taskId: 't', attempt: null, from: null };
    const wins = await Promise.all(
      Array.from({ length: 10 }, () => backend.replays.take('9:9:9', mark, 60_000)),
    );
    assert.equal(wins.filter(Boolean).length, 1);
    assert.equal((await backend.replays.marks(['9:9:9', '9:9:8'])).size, 1);
  });

  test('a bad replay call prints the usage and exits 2', async () => {
    for (const args of [
      ['--reason', 'bored'],
      ['--since', 'yesterday'],
      ['--limit', '0'],
      ['--limit', 'x'],
      ['--entry', '3'],
    ]) {
      const bad = await yadtq(['dlq', 'replay', ...args], env);
      assert.equal(bad.code, 2, args.join(' '));
      assert.match(bad.stderr, /Usage: yadtq dlq replay/);
    }
  });
});

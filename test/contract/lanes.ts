import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  defineTask,
  type SubmitOptions,
  TaskClient,
  type TaskRecord,
  TaskWorker,
} from '../../src/index.ts';
import type { BackendFactory } from './contract.ts';
import {
  keysOutOfOrder,
  type LaneRun,
  maxConcurrentGroups,
  overlapsWithinKeys,
  preciseNow,
  runsPerTask,
} from './lane-timeline.ts';

/** Sizes of the ordering-lanes suite. */
export interface LanesSuiteOptions {
  /** Ordering keys (default 20) … */
  keys?: number;
  /** … with this many tasks each (default 50). */
  perKey?: number;
  /** Tasks without an ordering key submitted alongside (default 50). */
  plain?: number;
  /** Workers sharing the backend, in this process (default 3) … */
  workers?: number;
  /** … with this many slots each (default 20). */
  concurrency?: number;
  /** Longest wait for every task of a case to run (default 45 s). */
  waitMs?: number;
}

/** Submit options of a lane task. */
export function laneOptions(orderingKey: string, extra: SubmitOptions = {}): SubmitOptions {
  return { ...extra, orderingKey };
}

type LaneRecord = TaskRecord;

/** Args of the recording task: its key (null for a plain task) and place in its key's submit order. */
interface StepArgs {
  key: string | null;
  seq: number;
  /** Throw after the sleep (a lane task that fails for good). */
  fail?: boolean;
}

/**
 * Ordering lanes: tasks of one `orderingKey` run one at a time across the fleet, in the
 * order they were created, each after the previous one is terminal; other keys and plain
 * tasks run in parallel. Every check reads the start and end times the handlers recorded.
 */
export function runLanesContract(
  label: string,
  makeBackend: BackendFactory,
  options: LanesSuiteOptions = {},
): void {
  const keys = options.keys ?? 20;
  const perKey = options.perKey ?? 50;
  const plain = options.plain ?? 50;
  const workerCount = options.workers ?? 3;
  const concurrency = options.concurrency ?? 20;
  const waitMs = options.waitMs ?? 45_000;

  describe(`ordering lanes: ${label}`, { timeout: waitMs + 60_000 }, () => {
    const open: Array<() => Promise<void>> = [];
    after(async () => {
      for (const close of open.reverse()) await close();
    });

    /** A backend, a client and `workerCount` started workers running the recording task. */
    async function setup(sleepMs: () => number) {
      const runs: LaneRun[] = [];
      const step = defineTask('lane-step', async (args: StepArgs, context) => {
        const startedAt = preciseNow();
        await sleep(sleepMs());
        runs.push({
          taskId: context.taskId,
          key: args.key,
          seq: args.seq,
          startedAt,
          endedAt: preciseNow(),
          workerId: context.workerId,
        });
        if (args.fail === true) throw new Error(`planned failure of ${args.key}#${args.seq}`);
        return args.seq;
      });
      const backend = await makeBackend();
      const workers: TaskWorker[] = [];
      open.push(async () => {
        for (const worker of workers) await worker.stop();
        await backend.close();
      });
      const client = new TaskClient({
        broker: backend.broker,
        store: backend.store,
        tracing: false,
      });
      const tag = Math.random().toString(36).slice(2, 8);
      for (let i = 0; i < workerCount; i++) {
        const worker = new TaskWorker({
          id: `lanes-w${i}-${tag}`,
          broker: backend.broker,
          store: backend.store,
          registry: backend.registry,
          monitorStore: backend.monitorStore,
          tasks: [step],
          concurrency,
        });
        await worker.start();
        workers.push(worker);
      }
      // Every worker owns partitions before the first submit: no rebalance mid-run.
      await waitUntil(
        () => workers.every((w) => w.info().partitions.length > 0),
        30_000,
        () => `partitions ${workers.map((w) => w.info().partitions.length).join('/')}`,
      );
      return { client, step, runs };
    }

    test(`${keys} keys × ${perKey} tasks on ${workerCount} workers: one at a time per key, in submit order, keys and plain tasks in parallel`, async (t) => {
      const { client, step, runs } = await setup(() => 1 + Math.random() * 4);
      const total = keys * perKey;
      const submitted: Array<{ id: string; key: string | null; seq: number; dedup: boolean }> = [];
      // Task i has key i % keys: batches of 100 interleave the keys; one batch's submits
      // are called in order in one tick (one create), the next batch after it is answered.
      const started = preciseNow();
      for (let from = 0; from < total; from += 100) {
        const batch: Array<Promise<(typeof submitted)[number]>> = [];
        for (let i = from; i < Math.min(total, from + 100); i++) {
          const key = `tenant-${i % keys}`;
          const seq = Math.floor(i / keys);
          batch.push(
            client
              .submit(step, { key, seq }, laneOptions(key))
              .then((h) => ({ id: h.id, key, seq, dedup: h.deduplicated })),
          );
        }
        if (from === 0) {
          for (let seq = 0; seq < plain; seq++) {
            batch.push(
              client
                .submit(step, { key: null, seq })
                .then((h) => ({ id: h.id, key: null, seq, dedup: h.deduplicated })),
            );
          }
        }
        submitted.push(...(await Promise.all(batch)));
      }
      await waitUntil(
        () => runs.length >= total + plain,
        waitMs,
        () => `${runs.length} of ${total + plain} tasks ran`,
      );
      const records = (await Promise.all(
        submitted.map((s) => client.wait(s.id, { timeoutMs: 15_000 })),
      )) as LaneRecord[];
      const elapsed = preciseNow() - started;

      const laneRuns = runs.filter((r) => r.key !== null);
      const plainRuns = runs.filter((r) => r.key === null);
      const overlaps = overlapsWithinKeys(runs);
      const disordered = keysOutOfOrder(runs);
      const keysAtOnce = maxConcurrentGroups(laneRuns, (r) => r.key!);
      const plainAtOnce = maxConcurrentGroups(plainRuns, (r) => r.taskId);
      const counts = runsPerTask(runs);
      const notOnce = submitted.filter((s) => counts.get(s.id) !== 1);
      const notSuccess = records.filter((r) => r.status !== 'success');
      const badLaneFields = laneFieldProblems(submitted, records);
      t.diagnostic(
        `${runs.length} runs in ${(elapsed / 1000).toFixed(1)} s: ${overlaps.length} overlaps within keys, ` +
          `${disordered.length} keys out of submit order, at most ${keysAtOnce} keys and ${plainAtOnce} plain tasks at once, ` +
          `${notOnce.length} tasks not run exactly once, ${notSuccess.length} not success, ` +
          `${badLaneFields.length} records without the right orderingKey/laneSeq`,
      );

      assert.equal(submitted.filter((s) => s.dedup).length, 0, 'a submit was answered by dedup');
      assert.equal(
        overlaps.length,
        0,
        `runs overlapped within a key: ${describeOverlap(overlaps)}`,
      );
      assert.equal(
        disordered.length,
        0,
        `keys ran out of submit order, e.g. ${disordered[0]?.key}: ${disordered[0]?.order.join(',')}`,
      );
      assert.ok(keysAtOnce >= 3, `at most ${keysAtOnce} keys ran at the same instant`);
      assert.deepEqual(
        notOnce.map((s) => [s.id, counts.get(s.id) ?? 0]),
        [],
        'tasks not run exactly once (id, runs)',
      );
      assert.deepEqual(
        notSuccess.map((r) => [r.id, r.status]),
        [],
        'tasks not ended success',
      );
      assert.ok(plainAtOnce >= 2, `at most ${plainAtOnce} plain tasks ran at the same instant`);
      assert.deepEqual(badLaneFields.slice(0, 5), [], 'records of lane and plain tasks');
    });

    test('a lane task that fails for good does not block its lane', async () => {
      const { client, step, runs } = await setup(() => 30);
      const key = 'tenant-fails';
      // One after another: the failing task is the lane's head.
      const failing = await client.submit(
        step,
        { key, seq: 0, fail: true },
        laneOptions(key, { maxAttempts: 1 }),
      );
      const second = await client.submit(step, { key, seq: 1 }, laneOptions(key));
      const third = await client.submit(step, { key, seq: 2 }, laneOptions(key));
      const [a, b, c] = await Promise.all(
        [failing, second, third].map((h) => client.wait(h, { timeoutMs: waitMs })),
      );
      assert.equal(a?.status, 'failed');
      assert.equal(b?.status, 'success');
      assert.equal(c?.status, 'success');
      assert.deepEqual(
        [failing, second, third].map((h) => runsPerTask(runs).get(h.id) ?? 0),
        [1, 1, 1],
        'runs of each task',
      );
      assert.deepEqual(overlapsWithinKeys(runs).map(describeOne), [], 'overlaps within the key');
      assert.deepEqual(
        keysOutOfOrder(runs).map((k) => k.order),
        [],
        'start order of the key (submit order 0,1,2)',
      );
    });

    test('cancelling a delayed lane head lets the next task of its key run', async () => {
      const { client, step, runs } = await setup(() => 2);
      const key = 'tenant-cancels';
      const head = await client.submit(
        step,
        { key, seq: 0 },
        laneOptions(key, { delayMs: 3_600_000 }),
      );
      const next = await client.submit(step, { key, seq: 1 }, laneOptions(key));
      // Bounded window in which a free-running task would have run many times over.
      await sleep(1_000);
      // Not pinned to 'queued': a parked task may show a status of its own; not run is what counts.
      const waiting = (await client.status(next.id))?.status;
      assert.ok(
        waiting !== undefined && !['processing', 'success', 'failed'].includes(waiting),
        `the next task waits behind its delayed head (it is ${waiting})`,
      );
      assert.equal(runs.length, 0, 'nothing ran while the head waits for its time');
      const cancelledAt = preciseNow();
      assert.equal((await client.cancel(head.id)).cancelled, true);
      const record = await client.wait(next, { timeoutMs: waitMs });
      assert.equal(record.status, 'success');
      assert.equal((await client.status(head.id))?.status, 'cancelled');
      assert.deepEqual(
        runs.map((r) => r.taskId),
        [next.id],
        'only the next task ran',
      );
      assert.ok(runs[0]!.startedAt >= cancelledAt, 'the next task started after the cancel');
    });
  });
}

/** Polls `condition` every 20 ms; throws with `progress()` once `timeoutMs` passed. */
async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  progress: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms: ${progress()}`);
    await sleep(20);
  }
}

/** Lane records carry their key and an increasing laneSeq in submit order; plain ones neither. */
function laneFieldProblems(
  submitted: ReadonlyArray<{ id: string; key: string | null; seq: number }>,
  records: readonly LaneRecord[],
): string[] {
  const problems: string[] = [];
  const lastSeq = new Map<string, number>();
  submitted.forEach((s, i) => {
    const record = records[i]!;
    if (s.key === null) {
      if (record.orderingKey !== undefined || record.laneSeq !== undefined)
        problems.push(
          `plain ${s.id}: orderingKey ${record.orderingKey}, laneSeq ${record.laneSeq}`,
        );
      return;
    }
    if (record.orderingKey !== s.key)
      problems.push(`${s.key}#${s.seq}: orderingKey ${record.orderingKey}`);
    const previous = lastSeq.get(s.key) ?? Number.NEGATIVE_INFINITY;
    if (typeof record.laneSeq !== 'number' || record.laneSeq <= previous)
      problems.push(`${s.key}#${s.seq}: laneSeq ${record.laneSeq} after ${previous}`);
    else lastSeq.set(s.key, record.laneSeq);
  });
  return problems;
}

function describeOne(overlap: { key: string; earlier: LaneRun; later: LaneRun }): string {
  const { key, earlier, later } = overlap;
  return (
    `${key}: #${later.seq} (${later.workerId}) started ${(earlier.endedAt - later.startedAt).toFixed(2)} ms ` +
    `before #${earlier.seq} (${earlier.workerId}) ended`
  );
}

function describeOverlap(
  overlaps: Array<{ key: string; earlier: LaneRun; later: LaneRun }>,
): string {
  const keys = new Set(overlaps.map((o) => o.key));
  return `${overlaps.length} in ${keys.size} keys, first ${overlaps[0] ? describeOne(overlaps[0]) : ''}`;
}

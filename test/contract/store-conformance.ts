// The store conformance suite: one table of task histories, each step an event with the
// transition it must give, run against decide() (the state machine written once) and
// against every store (memory, Redis: its Lua scripts implement the same table). A store
// that drifts from decide(), or decide() from the table, fails here, case by case.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { decide, type RefusalReason, type TaskEvent } from '../../src/core/state-machine.ts';
import type { ClaimOutcome, ClaimRequest, FinishRequest, Stores } from '../../src/core/store.ts';
import type { TaskRecord, TaskStatus } from '../../src/core/task-record.ts';
import { boom, envelope, record, T0 } from './store-fixtures.ts';

/** What a step must give: a refusal, or the record's status (and fields) after it. */
type Expect =
  | { refused: RefusalReason }
  | {
      status: TaskStatus;
      attempt?: number;
      worker?: string | null;
      losses?: number;
      cancelRequested?: boolean;
      errorCode?: string;
    };

interface Step {
  event: TaskEvent;
  expect: Expect;
  /** After the step, per worker id: whether `runsToStop` tells that worker to stop its run. */
  stops?: Record<string, boolean>;
}

interface Case {
  name: string;
  /** The record as created (queued), before the steps. */
  start?: Partial<TaskRecord>;
  steps: Step[];
}

const claim = (workerId: string, attempt = 1, now = T0 + 10, loneLosses?: number): TaskEvent => ({
  type: 'claim',
  workerId,
  attempt,
  now,
  ...(loneLosses === undefined ? {} : { loneLosses }),
});
/** A claim by a worker that holds other tasks (see `loneLosses`). */
const busyClaim = (workerId: string, loneLosses = 2) => claim(workerId, 1, T0 + 10, loneLosses);
const finish = (
  workerId: string,
  outcome: Extract<TaskEvent, { type: 'finish' }>['outcome'],
  attempt = 1,
  now = T0 + 20,
): TaskEvent => ({ type: 'finish', workerId, attempt, now, outcome });
const cancel = (now = T0 + 30): TaskEvent => ({ type: 'cancel', now });
const requeue = (workerId: string, maxLosses = 3, now = T0 + 40): TaskEvent => ({
  type: 'requeue',
  workerId,
  now,
  maxLosses,
});
const promote = (attempt: number, now = T0 + 50): TaskEvent => ({ type: 'promote', attempt, now });
const resubmit = (now = T0 + 60): TaskEvent => ({ type: 'resubmit', now });
const ok = (
  status: TaskStatus,
  fields: Omit<Extract<Expect, { status: TaskStatus }>, 'status'> = {},
) => ({
  status,
  ...fields,
});

/** The table. Each history starts from a freshly created `queued` record. */
export const CASES: Case[] = [
  {
    name: 'claim, then success',
    steps: [
      {
        event: claim('w1'),
        expect: ok('processing', { worker: 'w1' }),
        stops: { w1: false, w2: true },
      },
      {
        event: finish('w1', { status: 'success', result: 3 }),
        expect: ok('success'),
        stops: { w1: true },
      },
    ],
  },
  {
    name: 'a second claim is refused as held, by the holder itself too',
    steps: [
      { event: claim('w1'), expect: ok('processing') },
      { event: claim('w2'), expect: { refused: 'held' } },
      { event: claim('w1'), expect: { refused: 'held' } },
    ],
  },
  {
    name: 'a claim of another attempt is stale',
    steps: [{ event: claim('w1', 2), expect: { refused: 'stale-attempt' } }],
  },
  {
    name: 'only the holder finishes, and only its attempt',
    steps: [
      { event: claim('w1'), expect: ok('processing') },
      { event: finish('w2', { status: 'success', result: 1 }), expect: { refused: 'not-holder' } },
      {
        event: finish('w1', { status: 'success', result: 1 }, 2),
        expect: { refused: 'stale-attempt' },
      },
      { event: finish('w1', { status: 'success', result: 1 }), expect: ok('success') },
      {
        event: finish('w1', { status: 'success', result: 1 }, 1, T0 + 25),
        expect: { refused: 'terminal' },
      },
    ],
  },
  {
    name: 'a failure with a retry time and attempts left waits as retrying; promote; the last attempt fails',
    start: { maxAttempts: 2 },
    steps: [
      { event: claim('w1'), expect: ok('processing') },
      {
        event: finish('w1', { status: 'failed', error: boom, retryAt: T0 + 1000 }),
        expect: ok('retrying', { attempt: 2 }),
      },
      { event: promote(1), expect: { refused: 'stale-attempt' } },
      { event: promote(2), expect: ok('queued', { attempt: 2 }) },
      { event: claim('w2', 2, T0 + 70), expect: ok('processing', { worker: 'w2' }) },
      {
        event: finish('w2', { status: 'failed', error: boom, retryAt: T0 + 2000 }, 2, T0 + 80),
        expect: ok('failed', { attempt: 2 }),
      },
    ],
  },
  {
    name: 'cancel: a queued task ends at once; a second cancel is refused',
    steps: [
      { event: cancel(), expect: ok('cancelled', { errorCode: 'TASK_CANCELLED' }) },
      { event: cancel(T0 + 31), expect: { refused: 'terminal' } },
      { event: claim('w1'), expect: { refused: 'terminal' } },
    ],
  },
  {
    name: 'cancel of a running task marks it, and its finish ends it cancelled whatever the outcome',
    steps: [
      { event: claim('w1'), expect: ok('processing'), stops: { w1: false } },
      {
        event: cancel(),
        expect: ok('processing', { cancelRequested: true }),
        stops: { w1: true },
      },
      {
        event: finish('w1', { status: 'success', result: 9 }, 1, T0 + 35),
        expect: ok('cancelled', { errorCode: 'TASK_CANCELLED' }),
      },
    ],
  },
  {
    name: 'a requested cancel also wins over a failure with retries left',
    start: { maxAttempts: 3 },
    steps: [
      { event: claim('w1'), expect: ok('processing') },
      { event: cancel(), expect: ok('processing', { cancelRequested: true }) },
      {
        event: finish('w1', { status: 'failed', error: boom, retryAt: T0 + 500 }, 1, T0 + 35),
        expect: ok('cancelled', { attempt: 1 }),
      },
    ],
  },
  {
    name: 'requeue: only from the holder; losses count up to WORKER_LOST',
    steps: [
      { event: claim('w1'), expect: ok('processing') },
      { event: requeue('w2', 2), expect: { refused: 'not-holder' } },
      { event: requeue('w1', 2), expect: ok('queued', { losses: 1 }), stops: { w1: true } },
      {
        event: claim('w2', 1, T0 + 45),
        expect: ok('processing', { worker: 'w2' }),
        stops: { w1: true, w2: false },
      },
      {
        event: requeue('w2', 2, T0 + 46),
        expect: ok('failed', { losses: 2, errorCode: 'WORKER_LOST' }),
      },
    ],
  },
  {
    name: 'requeue of a task whose cancel was requested ends it cancelled',
    steps: [
      { event: claim('w1'), expect: ok('processing') },
      { event: cancel(), expect: ok('processing', { cancelRequested: true }) },
      { event: requeue('w1'), expect: ok('cancelled', { losses: 1 }), stops: { w1: true } },
    ],
  },
  {
    name: 'resubmit: failed and cancelled tasks get one more attempt; others are refused',
    start: { maxAttempts: 1 },
    steps: [
      { event: resubmit(), expect: { refused: 'not-retryable' } },
      { event: claim('w1'), expect: ok('processing') },
      { event: finish('w1', { status: 'failed', error: boom }), expect: ok('failed') },
      { event: resubmit(), expect: ok('queued', { attempt: 2, losses: 0 }) },
      { event: claim('w1', 2, T0 + 70), expect: ok('processing') },
      { event: cancel(T0 + 71), expect: ok('processing', { cancelRequested: true }) },
      {
        event: finish('w1', { status: 'cancelled' }, 2, T0 + 72),
        expect: ok('cancelled', { attempt: 2 }),
      },
      { event: resubmit(T0 + 73), expect: ok('queued', { attempt: 3, cancelRequested: false }) },
    ],
  },
  {
    name: 'promote: only a waiting task of that attempt',
    steps: [
      { event: claim('w1'), expect: ok('processing') },
      { event: promote(1), expect: { refused: 'not-waiting' } },
      { event: promote(2), expect: { refused: 'stale-attempt' } },
    ],
  },
  {
    name: 'a busy claimer (loneLosses) is refused a task one loss from the end (run-alone); an idle one claims it',
    steps: [
      { event: busyClaim('w1'), expect: ok('processing', { worker: 'w1' }) },
      { event: requeue('w1'), expect: ok('queued', { losses: 1 }) },
      { event: busyClaim('w2'), expect: ok('processing', { worker: 'w2' }) },
      { event: requeue('w2'), expect: ok('queued', { losses: 2 }) },
      { event: busyClaim('w3'), expect: { refused: 'run-alone' } },
      { event: claim('w4'), expect: ok('processing', { worker: 'w4', losses: 2 }) },
    ],
  },
];

/** A queued record with no dedup key, as a case starts it. */
function created(start: Partial<TaskRecord> = {}): TaskRecord {
  return record({ dedupKey: null, ...start });
}

/** What a record shows of an {@link Expect}, to compare. */
function seen(record: TaskRecord | null, expect: Expect): unknown {
  if ('refused' in expect || record === null) return null;
  const shown: Record<string, unknown> = { status: record.status };
  if (expect.attempt !== undefined) shown.attempt = record.attempt;
  if (expect.worker !== undefined) shown.worker = record.worker;
  if (expect.losses !== undefined) shown.losses = record.losses;
  if (expect.cancelRequested !== undefined) shown.cancelRequested = record.cancelRequested;
  if (expect.errorCode !== undefined) shown.errorCode = record.error?.code;
  return shown;
}

function wanted(expect: Expect): unknown {
  if ('refused' in expect) return null;
  const { status, attempt, worker, losses, cancelRequested, errorCode } = expect;
  const shown: Record<string, unknown> = { status };
  if (attempt !== undefined) shown.attempt = attempt;
  if (worker !== undefined) shown.worker = worker;
  if (losses !== undefined) shown.losses = losses;
  if (cancelRequested !== undefined) shown.cancelRequested = cancelRequested;
  if (errorCode !== undefined) shown.errorCode = errorCode;
  return shown;
}

/**
 * How claims and finishes are sent: one at a time (`claim`, `finish`), or in a batch
 * (`claimMany`, `finishMany`) between a claim and a finish of two other tasks, which must
 * not change what the case's own step gives (and must themselves go through).
 */
export type StepMode = 'one' | 'many';

/** Claims and finishes another task around the case's step, in the same batch call. */
async function inBatch<T>(
  store: Stores['store'],
  kind: 'claim' | 'finish',
  own: ClaimRequest | FinishRequest,
  pick: (claims: ClaimOutcome[], finishes: boolean[]) => T,
): Promise<T> {
  const [before, after] = [created(), created()];
  await store.createMany([before, after], { dedup: false, useCache: false });
  const decoyClaim = (r: TaskRecord): ClaimRequest => ({
    envelope: envelope(r, 1),
    workerId: 'decoy',
    now: T0,
  });
  if (kind === 'claim') {
    const claims = await store.claimMany([
      decoyClaim(before),
      own as ClaimRequest,
      decoyClaim(after),
    ]);
    assert.ok(claims[0]!.ok && claims[2]!.ok, 'the other tasks of the batch are claimed');
    return pick([claims[1]!], []);
  }
  await store.claimMany([decoyClaim(before), decoyClaim(after)]);
  const done = (r: TaskRecord): FinishRequest => ({
    id: r.id,
    step: {
      workerId: 'decoy',
      attempt: 1,
      now: T0,
      outcome: { status: 'success', result: 1 },
      cacheTtlMs: 0,
    },
  });
  const finishes = await store.finishMany([done(before), own as FinishRequest, done(after)]);
  assert.ok(finishes[0] && finishes[2], 'the other tasks of the batch are finished');
  return pick([], [finishes[1]!]);
}

/** Applies one event through the store's own method; the refusal reason where it tells one. */
async function apply(
  { store, monitorStore }: Stores,
  record: TaskRecord,
  event: TaskEvent,
  mode: StepMode,
): Promise<{ ok: boolean; reason?: RefusalReason }> {
  switch (event.type) {
    case 'claim': {
      const request: ClaimRequest = {
        envelope: envelope(record, event.attempt),
        workerId: event.workerId,
        now: event.now,
        ...(event.fill === undefined ? {} : { fill: event.fill }),
        ...(event.loneLosses === undefined ? {} : { loneLosses: event.loneLosses }),
      };
      const claimed =
        mode === 'one'
          ? await store.claim(
              request.envelope,
              request.workerId,
              request.now,
              request.fill,
              request.loneLosses,
            )
          : await inBatch(store, 'claim', request, ([c]) => c!);
      return claimed.ok ? { ok: true } : { ok: false, reason: claimed.reason };
    }
    case 'finish': {
      const { workerId, attempt, now, outcome } = event;
      const request: FinishRequest = {
        id: record.id,
        step: { workerId, attempt, now, outcome, cacheTtlMs: 0 },
      };
      const stored =
        mode === 'one'
          ? await store.finish(request.id, request.step)
          : await inBatch(store, 'finish', request, (_, [f]) => f!);
      // false also when a requested cancel ended the task instead: the record tells which.
      return { ok: stored };
    }
    case 'cancel':
      return reasonOf(await store.cancel(record.id, event.now));
    case 'requeue':
      return reasonOf(
        await monitorStore.requeue(record.id, event.workerId, event.now, event.maxLosses),
      );
    case 'promote':
      return reasonOf(await monitorStore.promote(record.id, event.attempt, event.now));
    case 'resubmit':
      return reasonOf(await store.resubmit(record.id, event.now));
  }
}

function reasonOf(t: { ok: true } | { ok: false; reason: RefusalReason }) {
  return t.ok ? { ok: true } : { ok: false, reason: t.reason };
}

/** decide() against the table: the reference the stores are held to. */
export function runDecideConformance(): void {
  describe('store conformance: decide() against the table', () => {
    for (const c of CASES) {
      test(c.name, () => {
        let record: TaskRecord | null = created(c.start);
        c.steps.forEach(({ event, expect }, i) => {
          const transition = decide(record, event);
          const at = `step ${i + 1} (${event.type})`;
          if ('refused' in expect) {
            assert.deepEqual(transition, { ok: false, reason: expect.refused }, at);
          } else {
            assert.ok(transition.ok, `${at}: refused ${!transition.ok && transition.reason}`);
            record = transition.record;
            assert.deepEqual(seen(record, expect), wanted(expect), at);
          }
        });
      });
    }
  });
}

/** One store against the table, case by case (each case on a task of its own). */
export function runStoreConformance(
  label: string,
  open: () => Promise<Stores>,
  mode: StepMode = 'one',
): void {
  const how = mode === 'one' ? '' : ', claims and finishes in batches';
  describe(`store conformance: ${label}${how}`, () => {
    let stores: Stores | undefined;
    after(async () => {
      await stores?.close();
    });
    for (const c of CASES) {
      test(c.name, async () => {
        stores ??= await open();
        const { store } = stores;
        const record = created(c.start);
        const [made] = await store.createMany([record], { dedup: false, useCache: false });
        assert.equal(made?.kind, 'created');
        for (const [i, { event, expect, stops }] of c.steps.entries()) {
          const at = `step ${i + 1} (${event.type})`;
          const answer = await apply(stores, record, event, mode);
          const after = await store.get(record.id);
          for (const [workerId, stop] of Object.entries(stops ?? {})) {
            const told = (await store.runsToStop(workerId, [record.id])).includes(record.id);
            assert.equal(told, stop, `${at}: runsToStop for ${workerId}`);
          }
          if ('refused' in expect) {
            assert.equal(answer.ok, false, `${at}: not refused`);
            // finish answers a boolean only; the others name their reason.
            if (answer.reason !== undefined) assert.equal(answer.reason, expect.refused, at);
          } else {
            const cancelledInstead =
              event.type === 'finish' &&
              expect.status === 'cancelled' &&
              event.outcome.status !== 'cancelled';
            assert.equal(answer.ok, !cancelledInstead, `${at}: answered ${answer.ok}`);
            assert.deepEqual(seen(after, expect), wanted(expect), at);
          }
        }
      });
    }
  });
}

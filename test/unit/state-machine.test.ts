import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decide, type RefusalReason, type TaskEvent } from '../../src/core/state-machine.ts';
import type { TaskOutcome, TaskRecord, TaskStatus } from '../../src/core/task-record.ts';

const HOLDER = 'w-holder';
const OTHER = 'w-other';
const ATTEMPT = 2;
const STARTED_AT = 1_764_000_000_000;
const NOW = STARTED_AT + 1234;

/** A record in `status`, last claimed by {@link HOLDER} on {@link ATTEMPT}. */
function recordIn(status: TaskStatus): TaskRecord {
  return {
    id: '01JDTESTTASK0000000000000A',
    name: 'add',
    args: [1, 2],
    status,
    attempt: ATTEMPT,
    maxAttempts: 3,
    timeoutMs: 30_000,
    worker: HOLDER,
    submittedAt: STARTED_AT - 50,
    startedAt: STARTED_AT,
    finishedAt: null,
    durationMs: null,
    result: null,
    error: null,
    dedupKey: 'add:test',
    cached: false,
    useCache: true,
    runAt: null,
    losses: 0,
    cancelRequested: false,
  };
}

const SUCCESS: TaskOutcome = { status: 'success', result: 3 };
const FAILURE: TaskOutcome = { status: 'failed', error: { message: 'boom', name: 'Error' } };

/** The kinds of event the table covers; each becomes a concrete {@link TaskEvent}. */
const EVENTS = {
  'claim by another worker': (attempt) => ({ type: 'claim', workerId: OTHER, attempt, now: NOW }),
  'claim by the holder': (attempt) => ({ type: 'claim', workerId: HOLDER, attempt, now: NOW }),
  'finish success by holder': (attempt) => ({
    type: 'finish',
    workerId: HOLDER,
    attempt,
    now: NOW,
    outcome: SUCCESS,
  }),
  'finish failed by holder': (attempt) => ({
    type: 'finish',
    workerId: HOLDER,
    attempt,
    now: NOW,
    outcome: FAILURE,
  }),
  'finish by another worker': (attempt) => ({
    type: 'finish',
    workerId: OTHER,
    attempt,
    now: NOW,
    outcome: SUCCESS,
  }),
} satisfies Record<string, (attempt: number) => TaskEvent>;

type EventKind = keyof typeof EVENTS;
type Expected = { to: TaskStatus } | { refused: RefusalReason };
/** Expected outcome with the record's own attempt, and with a different attempt. */
type Row = Record<EventKind, { sameAttempt: Expected; otherAttempt: Expected }>;

const to = (status: TaskStatus): Expected => ({ to: status });
const no = (reason: RefusalReason): Expected => ({ refused: reason });

const TERMINAL_ROW: Row = {
  'claim by another worker': { sameAttempt: no('terminal'), otherAttempt: no('terminal') },
  'claim by the holder': { sameAttempt: no('terminal'), otherAttempt: no('terminal') },
  'finish success by holder': { sameAttempt: no('terminal'), otherAttempt: no('terminal') },
  'finish failed by holder': { sameAttempt: no('terminal'), otherAttempt: no('terminal') },
  'finish by another worker': { sameAttempt: no('terminal'), otherAttempt: no('terminal') },
};

const WAITING_ROW: Row = {
  'claim by another worker': { sameAttempt: to('processing'), otherAttempt: no('stale-attempt') },
  'claim by the holder': { sameAttempt: to('processing'), otherAttempt: no('stale-attempt') },
  'finish success by holder': { sameAttempt: no('not-holder'), otherAttempt: no('stale-attempt') },
  'finish failed by holder': { sameAttempt: no('not-holder'), otherAttempt: no('stale-attempt') },
  'finish by another worker': { sameAttempt: no('not-holder'), otherAttempt: no('stale-attempt') },
};

/** The whole transition table: every status (and no record) × every event kind × attempt. */
const TABLE: Record<TaskStatus | 'no record', Row> = {
  'no record': {
    'claim by another worker': { sameAttempt: no('missing'), otherAttempt: no('missing') },
    'claim by the holder': { sameAttempt: no('missing'), otherAttempt: no('missing') },
    'finish success by holder': { sameAttempt: no('missing'), otherAttempt: no('missing') },
    'finish failed by holder': { sameAttempt: no('missing'), otherAttempt: no('missing') },
    'finish by another worker': { sameAttempt: no('missing'), otherAttempt: no('missing') },
  },
  queued: WAITING_ROW,
  retrying: WAITING_ROW,
  processing: {
    'claim by another worker': { sameAttempt: no('held'), otherAttempt: no('stale-attempt') },
    'claim by the holder': { sameAttempt: no('held'), otherAttempt: no('stale-attempt') },
    'finish success by holder': { sameAttempt: to('success'), otherAttempt: no('stale-attempt') },
    'finish failed by holder': { sameAttempt: to('failed'), otherAttempt: no('stale-attempt') },
    'finish by another worker': {
      sameAttempt: no('not-holder'),
      otherAttempt: no('stale-attempt'),
    },
  },
  success: TERMINAL_ROW,
  failed: TERMINAL_ROW,
  cancelled: TERMINAL_ROW,
};

/** What the record must look like after an accepted event: only the named fields change. */
function expectedRecord(before: TaskRecord, event: TaskEvent): TaskRecord {
  if (event.type === 'claim')
    return { ...before, status: 'processing', worker: event.workerId, startedAt: event.now };
  if (event.type !== 'finish' || event.outcome.status === 'cancelled')
    throw new Error('not in the table');
  return {
    ...before,
    status: event.outcome.status,
    finishedAt: event.now,
    durationMs: event.now - STARTED_AT,
    result: event.outcome.status === 'success' ? event.outcome.result : null,
    error: event.outcome.status === 'failed' ? event.outcome.error : null,
    cached: event.outcome.status === 'success' && event.outcome.cached === true,
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

describe('decide: the transition table', () => {
  for (const [status, row] of Object.entries(TABLE) as Array<[TaskStatus | 'no record', Row]>) {
    for (const [kind, expectations] of Object.entries(row) as Array<[EventKind, Row[EventKind]]>) {
      for (const [label, attempt, expected] of [
        ['same attempt', ATTEMPT, expectations.sameAttempt],
        ['other attempt', ATTEMPT + 1, expectations.otherAttempt],
      ] as const) {
        const outcome = 'to' in expected ? `→ ${expected.to}` : `refused: ${expected.refused}`;
        test(`${status} + ${kind} (${label}) ${outcome}`, () => {
          const before = status === 'no record' ? null : deepFreeze(recordIn(status));
          const event = EVENTS[kind](attempt);
          const transition = decide(before, event);
          if ('refused' in expected) {
            assert.deepEqual(transition, { ok: false, reason: expected.refused });
          } else {
            assert.ok(before !== null);
            assert.deepEqual(transition, { ok: true, record: expectedRecord(before, event) });
          }
        });
      }
    }
  }

  test('an older attempt is as stale as a newer one', () => {
    const event = EVENTS['claim by the holder'](ATTEMPT - 1);
    assert.deepEqual(decide(recordIn('queued'), event), { ok: false, reason: 'stale-attempt' });
  });

  test('a processing task refuses even a claim by its holder (the reaper recovers dead ones)', () => {
    const event: TaskEvent = { type: 'claim', workerId: HOLDER, attempt: ATTEMPT, now: NOW };
    assert.deepEqual(decide(recordIn('processing'), event), { ok: false, reason: 'held' });
  });

  test('a queued record that never had a worker can be claimed, but not finished', () => {
    const fresh = { ...recordIn('queued'), worker: null, startedAt: null };
    const claim = decide(fresh, EVENTS['claim by another worker'](ATTEMPT));
    assert.equal(claim.ok && claim.record.worker, OTHER);
    const finish = decide(fresh, EVENTS['finish success by holder'](ATTEMPT));
    assert.deepEqual(finish, { ok: false, reason: 'not-holder' });
  });
});

describe('decide: what finish writes', () => {
  const finishing = (record: TaskRecord, outcome: TaskOutcome, now = NOW) =>
    decide(record, { type: 'finish', workerId: HOLDER, attempt: ATTEMPT, now, outcome });

  test('durationMs is now − startedAt, finishedAt is now', () => {
    const transition = finishing(recordIn('processing'), SUCCESS, STARTED_AT + 987);
    assert.ok(transition.ok);
    assert.equal(transition.record.durationMs, 987);
    assert.equal(transition.record.finishedAt, STARTED_AT + 987);
    assert.equal(transition.record.startedAt, STARTED_AT);
  });

  test('a processing record without startedAt finishes with durationMs 0', () => {
    const transition = finishing({ ...recordIn('processing'), startedAt: null }, SUCCESS);
    assert.ok(transition.ok);
    assert.equal(transition.record.durationMs, 0);
  });

  test('success stores the result and clears an earlier error', () => {
    const before = { ...recordIn('processing'), error: { message: 'attempt 1 failed' } };
    const transition = finishing(before, { status: 'success', result: { sum: 3 } });
    assert.ok(transition.ok);
    assert.deepEqual(transition.record.result, { sum: 3 });
    assert.equal(transition.record.error, null);
  });

  test('failed stores the error and clears an earlier result', () => {
    const before = { ...recordIn('processing'), result: 'stale' };
    const transition = finishing(before, FAILURE);
    assert.ok(transition.ok);
    assert.equal(transition.record.result, null);
    assert.deepEqual(transition.record.error, { message: 'boom', name: 'Error' });
  });

  test('cached is true only for a success reported as cached', () => {
    const cases: Array<[TaskOutcome, boolean]> = [
      [{ status: 'success', result: 3, cached: true }, true],
      [{ status: 'success', result: 3, cached: false }, false],
      [{ status: 'success', result: 3 }, false],
      [FAILURE, false],
    ];
    for (const [outcome, cached] of cases) {
      const transition = finishing({ ...recordIn('processing'), cached: !cached }, outcome);
      assert.ok(transition.ok);
      assert.equal(transition.record.cached, cached, JSON.stringify(outcome));
    }
  });

  test('a falsy result (0, null, false, "") is kept as is', () => {
    for (const result of [0, null, false, '']) {
      const transition = finishing(recordIn('processing'), { status: 'success', result });
      assert.ok(transition.ok);
      assert.equal(transition.record.result, result);
    }
  });
});

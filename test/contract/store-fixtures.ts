// Records, envelopes and steps the store suites share.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import { envelopeOf, type TaskEnvelope } from '../../src/core/envelope.ts';
import type { Stores, TaskStore, WorkerInfo } from '../../src/core/store.ts';
import type { TaskRecord } from '../../src/core/task-record.ts';

/** A fixed clock far from now, so no TTL of the stores is crossed by a case. */
export const T0 = 1_764_000_000_000;
export const boom = { message: 'boom', name: 'Error' };

/** One create, through the contract's one create (`createMany`). */
export async function createOne(
  store: Pick<TaskStore, 'createMany'>,
  r: TaskRecord,
  options: { dedup: boolean; useCache: boolean },
) {
  const [outcome] = await store.createMany([r], options);
  return outcome!;
}

export function record(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: randomUUID(),
    name: 'add',
    args: [1, 2],
    status: 'queued',
    attempt: 1,
    maxAttempts: 3,
    timeoutMs: 30_000,
    worker: null,
    submittedAt: T0,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    result: null,
    error: null,
    dedupKey: 'add:abc',
    cached: false,
    useCache: true,
    runAt: null,
    losses: 0,
    cancelRequested: false,
    ...overrides,
  };
}

export function envelope(r: TaskRecord, attempt = r.attempt): TaskEnvelope {
  return envelopeOf({ ...r, attempt });
}

export function worker(id: string, lastHeartbeat = Date.now()): WorkerInfo {
  return {
    id,
    host: 'test',
    pid: process.pid,
    startedAt: lastHeartbeat,
    lastHeartbeat,
    concurrency: 4,
    processed: 0,
    failed: 0,
    inFlight: 0,
    partitions: [0, 1],
  };
}

export const success = (result: unknown) => ({
  status: 'success' as const,
  result: result as never,
});
export const DEDUP = { dedup: true, useCache: true };

export async function claimed(
  store: Pick<TaskStore, 'claim'>,
  r: TaskRecord,
  workerId: string,
  now: number,
) {
  const claim = await store.claim(envelope(r), workerId, now);
  assert.ok(claim.ok, `claim of ${r.id} by ${workerId}`);
  return claim.record;
}

/** The stores of one suite: `open` once, on first use, closed after the suite. */
export function suiteStores(open: () => Promise<Stores>): () => Promise<Stores> {
  let opened: Promise<Stores> | undefined;
  after(async () => {
    if (opened !== undefined) await (await opened).close();
  });
  return () => {
    opened ??= open();
    return opened;
  };
}

/** `n` new queued records written through `createMany`, no dedup, in order. */
export async function createdTasks(
  store: Pick<TaskStore, 'createMany'>,
  n: number,
  overrides: Partial<TaskRecord> = {},
): Promise<TaskRecord[]> {
  const made = Array.from({ length: n }, () => record({ dedupKey: null, ...overrides }));
  for (const r of made) await createOne(store, r, { dedup: false, useCache: false });
  return made;
}

/** Listens on the store's turn channel; `until` waits (bounded) for an id to be heard. */
export async function listenTurns(store: Pick<TaskStore, 'onTurn'>) {
  const heard: string[] = [];
  const stop = await store.onTurn((id) => heard.push(id));
  return {
    heard,
    stop,
    async until(id: string): Promise<void> {
      const deadline = Date.now() + 5000;
      while (!heard.includes(id)) {
        if (Date.now() > deadline) assert.fail(`no turn for ${id} within 5 s (heard ${heard})`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

import type { ClaimGates } from './concurrency.ts';
import type { TaskEnvelope } from './envelope.ts';
import type { JsonValue } from './json.ts';
import type { RefusalReason, Transition } from './state-machine.ts';
import type { TaskOutcome, TaskRecord } from './task-record.ts';
import type { OptionFill } from './unset-options.ts';

/** What {@link TaskStore.createMany} did with a new task. */
export type CreateOutcome =
  | { kind: 'created' }
  /** An identical task is queued or processing: this is its id; nothing was written. */
  | { kind: 'duplicate'; id: string }
  /** The cache held the answer: the record was written already `success`, `cached: true`. */
  | { kind: 'cached'; record: TaskRecord }
  /**
   * A record with this id exists from another submission (its `submittedAt` differs):
   * nothing was written. The same create sent again answers as the first did.
   */
  | { kind: 'exists'; id: string };

/** The outcome a worker writes for the attempt it holds (see {@link TaskStore.finish}). */
export interface FinishStep {
  workerId: string;
  attempt: number;
  now: number;
  outcome: TaskOutcome;
  /** Cache a successful result under the dedup key for this long (0 = no cache). */
  cacheTtlMs: number;
}

/** What {@link TaskStore.claim} did. */
export type ClaimOutcome =
  | {
      ok: true;
      record: TaskRecord;
      /** Present when the result cache already holds this task's answer. */
      cachedResult?: JsonValue;
    }
  | { ok: false; reason: RefusalReason };

/** One claim of {@link TaskStore.claimMany}: the arguments of {@link TaskStore.claim}. */
export interface ClaimRequest {
  envelope: TaskEnvelope;
  workerId: string;
  now: number;
  fill?: OptionFill;
  loneLosses?: number;
  gates?: ClaimGates;
}

/** The {@link ClaimRequest} of a {@link TaskStore.claim} call (absent options left out). */
export function claimRequest(
  envelope: TaskEnvelope,
  workerId: string,
  now: number,
  fill?: OptionFill,
  loneLosses?: number,
  gates?: ClaimGates,
): ClaimRequest {
  const request: ClaimRequest = { envelope, workerId, now };
  if (fill !== undefined) request.fill = fill;
  if (loneLosses !== undefined) request.loneLosses = loneLosses;
  if (gates !== undefined) request.gates = gates;
  return request;
}

/** One finish of {@link TaskStore.finishMany}: the arguments of {@link TaskStore.finish}. */
export interface FinishRequest {
  id: string;
  step: FinishStep;
}

/** A worker's self-description, refreshed by its heartbeat. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  lastHeartbeat: number;
  concurrency: number;
  processed: number;
  failed: number;
  inFlight: number;
  /**
   * Handlers given up at their timeout or cancel that still run (they ignore their
   * `AbortSignal`); each holds a slot until it returns. Absent from older workers.
   */
  zombies?: number;
  partitions: number[];
  /** Messages this worker sent to the dead-letter topic as they came (malformed or expired). */
  deadLettered?: number;
  /** Filled in when listed: whether the heartbeat key is still alive. */
  alive?: boolean;
}

/**
 * Task state: records, results, dedup keys and the result cache. Every method that
 * changes a task is one atomic step. Implementations: Redis (`redis/`) and memory.
 */
export interface TaskStore {
  /**
   * Creates each record in order, atomically one by one (a later record sees the earlier
   * ones): answers from the cache, or returns the in-flight duplicate, or writes the record.
   * In as few round trips as the store can.
   */
  createMany(
    records: readonly TaskRecord[],
    options: { dedup: boolean; useCache: boolean },
  ): Promise<CreateOutcome[]>;
  /** Removes a record that was never produced (and its dedup key). */
  discard(id: string): Promise<void>;
  /**
   * Claims the attempt in `envelope` for `workerId`, creating the record if missing, unless
   * the envelope is older than the record retention ({@link isExpired}): its record ended
   * and expired, so it is refused as `expired` rather than made anew and run again. A
   * `fill` (the definition's values of the options the submitter left unset) is written
   * into the record by the same step. With `loneLosses` (the claimer holds other tasks),
   * a task with that many losses or more is refused as `run-alone` and left as it was.
   * A task of an ordering lane is claimed only in its turn, and with `gates` only while
   * its rate limit's window has room and its concurrency group holds fewer than its limit;
   * else it is parked and refused `parked` (handed on through {@link onTurn} and
   * {@link MonitorStore.takeRecovered} when its turn comes).
   */
  claim(
    envelope: TaskEnvelope,
    workerId: string,
    now: number,
    fill?: OptionFill,
    loneLosses?: number,
    gates?: ClaimGates,
  ): Promise<ClaimOutcome>;
  /**
   * Writes the outcome if `workerId` still holds the claim; false when fenced off. The
   * same step sent again once it was written answers true again (see `holdsFinish`).
   * A task whose cancel was requested ends `cancelled` instead (its result discarded,
   * nothing cached, no retry), and the answer is false unless the outcome was `cancelled`.
   */
  finish(id: string, step: FinishStep): Promise<boolean>;
  /**
   * {@link claim} for each request, in order, each one atomic step under the same rules
   * (a later request sees the earlier ones), in as few round trips as the store can.
   */
  claimMany(requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]>;
  /** {@link finish} for each request, in order, each one atomic step under the same rules. */
  finishMany(requests: readonly FinishRequest[]): Promise<boolean[]>;
  /** The record, or null when unknown or expired. */
  get(id: string): Promise<TaskRecord | null>;
  /** Resolves with the record once it is terminal. @throws YadtqError WAIT_TIMEOUT, TASK_NOT_FOUND */
  waitFor(id: string, timeoutMs: number): Promise<TaskRecord>;
  /** Cancels: `queued`/`retrying` end `cancelled`; `processing` is marked and its holder told. */
  cancel(id: string, now: number): Promise<Transition>;
  /** Gives a `failed`/`cancelled` task one more attempt (`queued`); the caller produces it. */
  resubmit(id: string, now: number): Promise<Transition>;
  /**
   * Of `ids`, the tasks `workerId` runs, those whose run should stop (one round trip): a
   * cancel was requested, or the record no longer shows the task `processing` under this
   * worker (the monitor ended or requeued it, another worker took it over, or it is gone).
   */
  runsToStop(workerId: string, ids: readonly string[]): Promise<string[]>;
  /** Calls `listener` with the id of each running task whose cancel is requested. */
  onCancel(listener: (id: string) => void): Promise<() => Promise<void>>;
  /**
   * Calls `listener` with the id of each parked task whose turn came in its ordering lane
   * (offered through {@link MonitorStore.takeRecovered}), so a worker with free slots takes
   * it at once rather than at its next poll.
   */
  onTurn(listener: (id: string) => void): Promise<() => Promise<void>>;
  /**
   * Offers the `queued` ones of `ids` to the workers ahead of the task log (through
   * {@link MonitorStore.takeRecovered}, at once, and {@link onTurn}): high-priority tasks,
   * once they are produced.
   */
  prioritize(ids: readonly string[]): Promise<void>;
}

/**
 * The worker registry: each worker's heartbeat (alive while it is fresh) and the info it
 * last published, alive or dead.
 */
export interface WorkerRegistry {
  /** Claims a worker id. @throws YadtqError WORKER_ID_IN_USE while its heartbeat is alive. */
  register(info: WorkerInfo, ttlMs: number): Promise<void>;
  /** Refreshes the heartbeat key and the worker's published counters. */
  heartbeat(info: WorkerInfo, ttlMs: number): Promise<void>;
  /** Deletes the heartbeat key at a clean shutdown (the worker stays listed as not alive). */
  deregister(id: string): Promise<void>;
  /** Every known worker, alive or not, newest heartbeat first. */
  list(): Promise<WorkerInfo[]>;
}

/**
 * What the monitor (one leader at a time) needs: the leader lock, the tasks each worker
 * holds, the reaper's requeue, and the scheduled set of delayed and retrying tasks.
 */
export interface MonitorStore {
  /** Takes or renews the leader lock for `candidateId` (TTL `ttlMs`); true while held. */
  lead(candidateId: string, ttlMs: number): Promise<boolean>;
  /** Releases the lock if `candidateId` holds it. */
  resign(candidateId: string): Promise<void>;
  /** Ids of the tasks `workerId` claimed and has not finished. */
  heldBy(workerId: string): Promise<string[]>;
  /**
   * The reaper's step for one task of dead worker `workerId` (state-machine event
   * `requeue`), refused `alive` when its heartbeat is alive again (checked in the same
   * atomic step). A task back in `queued` is also offered through {@link takeRecovered}.
   */
  requeue(id: string, workerId: string, now: number, maxLosses: number): Promise<Transition>;
  /**
   * Up to `limit` requeued tasks still `queued`, longest waiting first, for a live worker to
   * claim without waiting for the task log. Each is leased for `leaseMs`: offered to no one
   * else until then (a taker that dies before its claim does not strand it).
   */
  takeRecovered(now: number, limit: number, leaseMs: number): Promise<TaskRecord[]>;
  /** Waiting tasks whose `runAt` has come, earliest first (stale set entries are dropped). */
  dueTasks(now: number, limit: number): Promise<TaskRecord[]>;
  /**
   * Low-priority tasks not produced yet, oldest first (for the leader to produce while the
   * task log's backlog is small; each is due by its runAt anyway).
   */
  waitingLow(limit: number): Promise<TaskRecord[]>;
  /** After the scheduler produced `attempt`: `retrying`/delayed → `queued`, out of the set. */
  promote(id: string, attempt: number, now: number): Promise<Transition>;
  /** Parked tasks (waiting for their turn), in all and per lane or limit: for monitoring. */
  parked(limit: number): Promise<ParkedCounts>;
}

/** Parked tasks, as {@link MonitorStore.parked} counts them. */
export interface ParkedCounts {
  /** Every parked task. */
  total: number;
  /** Per group (`lane:<key>`, `limit:<name>[:<key>]`, `rate:<name>[:<key>]`), most parked first, at most the limit asked. */
  groups: Array<{ group: string; tasks: number }>;
  /** How many groups have parked tasks (more than `groups` holds when past the limit). */
  groupCount: number;
}

/** {@link ParkedCounts} of a group → count table, the `limit` largest groups kept. */
export function parkedCounts(counts: Iterable<[string, number]>, limit: number): ParkedCounts {
  const groups = [...counts]
    .filter(([, tasks]) => tasks > 0)
    .map(([group, tasks]) => ({ group, tasks }))
    .sort((a, b) => b.tasks - a.tasks || a.group.localeCompare(b.group));
  const total = groups.reduce((sum, g) => sum + g.tasks, 0);
  return { total, groups: groups.slice(0, Math.max(0, limit)), groupCount: groups.length };
}

/**
 * The three store contracts of one backend, sharing its connections, closed together.
 * Each component takes only the contract (or the methods) it uses.
 */
export interface Stores {
  readonly store: TaskStore;
  readonly registry: WorkerRegistry;
  readonly monitorStore: MonitorStore;
  /** Closes the connections the stores opened. */
  close(): Promise<void>;
}

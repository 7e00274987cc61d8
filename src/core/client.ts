import {
  endSubmitSpans,
  loadTaskTracing,
  type TaskSpan,
  type TaskTracing,
} from '../telemetry/task-tracing.ts';
import type { Broker } from './broker.ts';
import { DEFAULTS } from './defaults.ts';
import type { TaskDefinition } from './define-task.ts';
import { envelopeOf, type TaskEnvelope, taskMessage } from './envelope.ts';
import { YadtqError } from './errors.ts';
import { ulid } from './ids.ts';
import { dedupKeyOf, explicitDedupKey, type JsonValue, toJson } from './json.ts';
import { check, finite, nonEmpty, positive, rule, wholeNumber } from './options.ts';
import type { PauseControl } from './pause.ts';
import { buildSchedule, type ScheduleOptions } from './schedule/define-schedule.ts';
import type { Schedule, ScheduleStore } from './schedule/schedule.ts';
import type { TaskStore } from './store.ts';
import { ORDERING_KEY, PRIORITY, type SubmitOptions, type TaskHandle } from './submit-options.ts';
import { SubmitQueue } from './submit-queue.ts';
import { recordFromEnvelope, type TaskRecord, type TaskStatus } from './task-record.ts';
import { UNSET_OPTIONS, type UnsetOption } from './unset-options.ts';

/** The task-state methods a client uses. */
export type ClientStore = Pick<
  TaskStore,
  'createMany' | 'discard' | 'get' | 'waitFor' | 'cancel' | 'resubmit' | 'prioritize'
>;

/** Options of {@link TaskClient}. */
export interface TaskClientOptions {
  broker: Broker;
  /** What the client reads and writes of task state. */
  store: ClientStore;
  /**
   * Time limit of a task run, in ms, when neither the submit nor a definition names one
   * (a worker's definition of a task submitted by name comes first). Default
   * `DEFAULTS.timeoutMs`.
   */
  timeoutMs?: number;
  /** Largest serialised args accepted, in bytes. Default `DEFAULTS.maxPayloadBytes` (1,000,000). */
  maxPayloadBytes?: number;
  /**
   * Tasks submitted and not yet written (store and broker) before a submit fails at once
   * with SUBMIT_BACKLOG_FULL. Default `DEFAULTS.maxPendingSubmits` (100,000).
   */
  maxPendingSubmits?: number;
  /**
   * Open a producer span per submit and carry its `traceparent` with the task, when
   * `@opentelemetry/api` is installed and an SDK registered before the client is made
   * (without the package nothing loads). Default true.
   */
  tracing?: boolean;
  /** Where `schedule`, `unschedule` and `schedules` keep schedules (a backend's `schedules`). */
  schedules?: ScheduleStore;
  /** Where `pause`, `resume` and `paused` act (a backend's `pauses`). */
  pauses?: PauseControl;
}

export {
  ORDERING_KEY,
  PRIORITY,
  type SubmitOptions,
  type TaskHandle,
  type TaskPriority,
} from './submit-options.ts';

type TaskRef<A, R> = TaskDefinition<A, R> | string;

/** Submits tasks and follows them: status, wait, result. */
export class TaskClient {
  #broker: Broker;
  #store: ClientStore;
  #timeoutMs: number;
  #maxPayloadBytes: number;
  #submits: SubmitQueue;
  #schedules: ScheduleStore | undefined;
  #pauses: PauseControl | undefined;
  /** Set once `@opentelemetry/api` loaded (never without it, nor with `tracing: false`). */
  #tracing: TaskTracing | undefined;
  /** Until the first submit after the tracing load settled. */
  #tracingLoad: Promise<void> | undefined;

  constructor(options: TaskClientOptions) {
    if (!options?.broker || !options.store)
      throw new YadtqError('INVALID_OPTION', 'TaskClient needs a broker and a store');
    this.#broker = options.broker;
    this.#store = options.store;
    this.#schedules = options.schedules;
    this.#pauses = options.pauses;
    if (options.tracing !== false) {
      this.#tracingLoad = loadTaskTracing(options.broker).then((tracing) => {
        this.#tracing = tracing;
      });
    }
    this.#submits = new SubmitQueue(
      options.store,
      options.broker,
      check('maxPendingSubmits', options.maxPendingSubmits ?? DEFAULTS.maxPendingSubmits, positive),
    );
    this.#timeoutMs = check('timeoutMs', options.timeoutMs ?? DEFAULTS.timeoutMs, positive);
    this.#maxPayloadBytes = check(
      'maxPayloadBytes',
      options.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes,
      positive,
    );
  }

  /**
   * Submits one task; resolves once it is durably queued (or answered by dedup or cache).
   * Submits made in the same tick are written together (one create per 100, one produce).
   */
  async submit<A, R>(
    task: TaskRef<A, R>,
    args: A,
    options: SubmitOptions = {},
  ): Promise<TaskHandle<R>> {
    const [handle] = await this.submitMany(task, [args], options);
    return handle!;
  }

  /** Submits many tasks of one kind, produced to the broker in one batch (with this tick's other submits). */
  async submitMany<A, R>(
    task: TaskRef<A, R>,
    argsList: readonly A[],
    options: SubmitOptions = {},
  ): Promise<TaskHandle<R>[]> {
    if (this.#tracingLoad !== undefined) {
      await this.#tracingLoad;
      this.#tracingLoad = undefined;
    }
    const tracing = this.#tracing;
    const name = typeof task === 'string' ? task : task.name;
    if (typeof name !== 'string' || name.length === 0)
      throw new YadtqError('INVALID_ARGS', 'task name must be a non-empty string');
    const definition = typeof task === 'string' ? undefined : task.options;
    if (options.dedupKey !== undefined) check('dedupKey', options.dedupKey, nonEmpty);
    const { orderingKey } = options;
    if (orderingKey !== undefined) check('orderingKey', orderingKey, ORDERING_KEY);
    const priority =
      options.priority === undefined ? 'normal' : check('priority', options.priority, PRIORITY);
    const high = priority === 'high';
    if (priority === 'low' && (options.delayMs !== undefined || options.runAt !== undefined))
      throw new YadtqError('INVALID_OPTION', 'priority low takes no delayMs or runAt');
    // What neither the submit nor the definition sets: the worker's definition decides.
    const unset: UnsetOption[] = UNSET_OPTIONS.filter(
      (option) => options[option] === undefined && definition?.[option] === undefined,
    );
    const timeoutMs = check(
      'timeoutMs',
      options.timeoutMs ?? definition?.timeoutMs ?? this.#timeoutMs,
      positive,
    );
    const dedup = options.dedup ?? definition?.dedup ?? true;
    const useCache = options.cache ?? true;
    const maxAttempts = check(
      'maxAttempts',
      options.maxAttempts ?? definition?.maxAttempts ?? DEFAULTS.maxAttempts,
      positive,
    );
    const now = Date.now();
    // A low task waits in the store's scheduled set; its runAt is the longest it gives way.
    const runAt =
      priority === 'low' ? now + DEFAULTS.lowPriorityMaxWaitMs : scheduledTime(options, now);
    const spans: TaskSpan[] | undefined = tracing === undefined ? undefined : [];
    const prepared = argsList.map((args) => {
      const text = toJson(args, `args of task "${name}"`);
      const bytes = Buffer.byteLength(text);
      if (bytes > this.#maxPayloadBytes) {
        throw new YadtqError(
          'PAYLOAD_TOO_LARGE',
          `args of task "${name}" are ${bytes} bytes; the limit is ${this.#maxPayloadBytes}`,
        );
      }
      // toJson checked that the args are plain JSON, so they are used as given (no parse of
      // the text back); the store and the message are written from them before any await.
      const json = args as JsonValue;
      const envelope: TaskEnvelope = {
        v: 1,
        id: ulid(now),
        name,
        args: json,
        attempt: 1,
        maxAttempts,
        timeoutMs,
        dedupKey:
          options.dedupKey === undefined
            ? dedupKeyOf(name, json)
            : explicitDedupKey(name, options.dedupKey),
        submittedAt: now,
        ...(unset.length > 0 ? { unset } : {}),
        ...(orderingKey === undefined ? {} : { orderingKey }),
      };
      if (spans !== undefined) {
        const span = tracing!.submit(envelope);
        spans.push(span);
        if (span.traceparent !== undefined) envelope.traceparent = span.traceparent;
      }
      return { envelope, message: taskMessage(envelope, options.partitionKey) };
    });

    // With every other submit of this tick: one create per 100 records, one produce.
    const adding = this.#submits.add(
      prepared.map(({ envelope, message }) => ({
        record: {
          ...recordFromEnvelope(envelope),
          runAt,
          ...(priority === 'normal' ? {} : { priority }),
        },
        message,
        dedup,
        useCache,
        // A delayed task waits in the store's scheduled set; the monitor produces it when due.
        produce: runAt === null,
      })),
    );
    const outcomes = await (spans === undefined ? adding : endSubmitSpans(spans, adding));
    // Produced: a high task is offered ahead of the log too. Best effort: without it (the
    // store failed just now) the task still runs, from the log, in its turn there.
    if (high && runAt === null) {
      const ids = prepared
        .filter((_, i) => outcomes[i]!.kind === 'created')
        .map((p) => p.envelope.id);
      await this.#store.prioritize(ids).catch(() => {});
    }
    const handles = prepared.map(({ envelope }, index): TaskHandle<R> => {
      const outcome = outcomes[index]!;
      if (outcome.kind === 'duplicate')
        return { id: outcome.id, status: 'queued', deduplicated: true, cached: false };
      if (outcome.kind === 'cached')
        return { id: envelope.id, status: 'success', deduplicated: false, cached: true };
      // A fresh ULID never meets a record of another submission; if it did, nothing was written.
      if (outcome.kind === 'exists')
        throw new YadtqError('TASK_EXISTS', `a task with id ${outcome.id} exists already`);
      return { id: envelope.id, status: 'queued', deduplicated: false, cached: false };
    });
    return handles;
  }

  /**
   * Cancels a task: a queued or retrying one is never run; a running one's `AbortSignal`
   * fires and it ends `cancelled`. `cancelled` is false when it had already finished.
   * @throws YadtqError TASK_NOT_FOUND
   */
  async cancel(id: string): Promise<{ cancelled: boolean; status: TaskStatus }> {
    const transition = await this.#store.cancel(id, Date.now());
    if (transition.ok) return { cancelled: true, status: transition.record.status };
    if (transition.reason === 'missing')
      throw new YadtqError('TASK_NOT_FOUND', `task ${id} is not known (or has expired)`);
    const record = await this.#store.get(id);
    return { cancelled: false, status: record?.status ?? 'cancelled' };
  }

  /**
   * Runs a `failed` or `cancelled` task again, as its next attempt under the same id.
   * @throws YadtqError TASK_NOT_FOUND, or INVALID_ARGS when the task is not failed/cancelled
   */
  async retry(id: string): Promise<TaskHandle> {
    const transition = await this.#store.resubmit(id, Date.now());
    if (!transition.ok) {
      if (transition.reason === 'missing')
        throw new YadtqError('TASK_NOT_FOUND', `task ${id} is not known (or has expired)`);
      const record = await this.#store.get(id);
      throw new YadtqError(
        'INVALID_ARGS',
        `task ${id} is ${record?.status ?? 'unknown'}: only failed or cancelled tasks can be retried`,
      );
    }
    await this.#broker.produce('tasks', [taskMessage(envelopeOf(transition.record))]);
    return { id, status: 'queued', deduplicated: false, cached: false };
  }

  /**
   * Adds (or replaces) the schedule `name`: at each tick of its cron the monitor leader of
   * the workers creates one task `<name>:<tick time>` of `task` with `args` (see the README,
   * "Schedules"). Returns the schedule as stored, with its first tick.
   * @throws YadtqError INVALID_OPTION (a bad name, cron or time zone, no schedule store)
   */
  async schedule<A, R>(
    name: string,
    task: TaskRef<A, R>,
    args: A,
    options: ScheduleOptions,
  ): Promise<Schedule> {
    const taskName = typeof task === 'string' ? task : task.name;
    const definition = typeof task === 'string' ? undefined : task.options;
    const schedule = buildSchedule(name, taskName, args, options, definition, Date.now());
    await this.#scheduleStore().putSchedule(schedule);
    return schedule;
  }

  /** Removes the schedule `name`; false when there was none. Tasks it created stay. */
  unschedule(name: string): Promise<boolean> {
    return this.#scheduleStore().removeSchedule(name);
  }

  /** Every schedule, by name, with its next and last tick. */
  schedules(): Promise<Schedule[]> {
    return this.#scheduleStore().schedules();
  }

  #scheduleStore(): ScheduleStore {
    if (this.#schedules === undefined)
      throw new YadtqError(
        'INVALID_OPTION',
        "this TaskClient was made without `schedules` (a backend's schedules)",
      );
    return this.#schedules;
  }

  /**
   * Pauses the task name across the fleet: its running tasks finish; new, retried, due
   * and recovered ones park (none dropped) until {@link resume}. False if paused already.
   */
  pause(name: string): Promise<boolean> {
    return this.#pauseControl(name).pause(name);
  }

  /** Resumes a paused task name: its parked tasks are offered again; how many. */
  resume(name: string): Promise<number> {
    return this.#pauseControl(name).resume(name);
  }

  /** The paused task names. */
  paused(): Promise<string[]> {
    return this.#pauseControl().paused();
  }

  #pauseControl(name?: string): PauseControl {
    if (name !== undefined) check('task name', name, nonEmpty);
    if (this.#pauses === undefined)
      throw new YadtqError(
        'INVALID_OPTION',
        "this TaskClient was made without `pauses` (a backend's pauses)",
      );
    return this.#pauses;
  }

  /** The task's record, or null when unknown or expired. */
  status(id: string): Promise<TaskRecord | null> {
    return this.#store.get(id);
  }

  /** Waits until the task is terminal and returns its record. @throws YadtqError WAIT_TIMEOUT */
  wait(task: string | TaskHandle, options: { timeoutMs?: number } = {}): Promise<TaskRecord> {
    const id = typeof task === 'string' ? task : task.id;
    return this.#store.waitFor(id, options.timeoutMs ?? DEFAULTS.timeoutMs * 2);
  }

  /** Waits and returns the result. @throws YadtqError TASK_FAILED (cause: the stored error), TASK_CANCELLED */
  async result<R>(task: TaskHandle<R> | string, options: { timeoutMs?: number } = {}): Promise<R> {
    const record = await this.wait(task, options);
    if (record.status === 'success') return record.result as R;
    if (record.status === 'cancelled')
      throw new YadtqError('TASK_CANCELLED', `task ${record.id} was cancelled`);
    const error = record.error;
    throw new YadtqError(
      'TASK_FAILED',
      `task ${record.id} (${record.name}) failed: ${error?.message ?? 'unknown error'}`,
      {
        cause: error,
      },
    );
  }

  /** Submits and returns the result: `await client.run(add, [1, 2])`. */
  async run<A, R>(
    task: TaskRef<A, R>,
    args: A,
    options: SubmitOptions & { waitMs?: number } = {},
  ): Promise<R> {
    const handle = await this.submit(task, args, options);
    return this.result(handle, {
      timeoutMs: options.waitMs ?? (options.timeoutMs ?? this.#timeoutMs) * 2,
    });
  }
}

/** A submit's `runAt`: ms since the epoch. */
const TIME = rule<number>('a time in ms', finite.accepts);

function scheduledTime(options: SubmitOptions, now: number): number | null {
  if (options.delayMs !== undefined && options.runAt !== undefined) {
    throw new YadtqError('INVALID_OPTION', 'give delayMs or runAt, not both');
  }
  if (options.delayMs !== undefined) {
    const delayMs = check('delayMs', options.delayMs, wholeNumber(0));
    return delayMs === 0 ? null : now + delayMs;
  }
  if (options.runAt !== undefined) {
    const runAt = check('runAt', options.runAt, TIME);
    return runAt > now ? runAt : null;
  }
  return null;
}

import { isOrderingKey, MAX_ORDERING_KEY } from './envelope.ts';
import { oneOf, type Rule, rule } from './options.ts';
import type { TaskStatus } from './task-record.ts';

/** What `SubmitOptions.orderingKey` must be (the CLI's `--ordering-key` checks it too). */
export const ORDERING_KEY: Rule<string> = rule(
  `a string of 1 to ${MAX_ORDERING_KEY} characters`,
  isOrderingKey,
);

/** Per-submit options. */
export interface SubmitOptions {
  /** Time limit of the run, in ms (overrides the definition's). */
  timeoutMs?: number;
  /**
   * Explicit dedup key (instead of name + canonical args), of this task name: another
   * task name with the same key is another task, with its own cache entry.
   */
  dedupKey?: string;
  /**
   * Share an identical in-flight task. Default: the definition's, else true. Decided at
   * submit: a task submitted by name shares (and may be answered from the cache) unless
   * the submit says otherwise, whatever the worker's definition says.
   */
  dedup?: boolean;
  /** May be answered from the result cache. Default true. */
  cache?: boolean;
  /**
   * Ordering lane: tasks with the same key run one at a time across the fleet, in the
   * order of their create (the next starts once the previous one is terminal); tasks of
   * other keys run in parallel. See the README, "Ordering lanes". At most 1,000 characters.
   */
  orderingKey?: string;
  /**
   * Kafka key, which picks the partition: placement only (tasks of one partition run in
   * parallel, in any order; ordering is `orderingKey`'s job). Default: the ordering key,
   * else the task id.
   */
  partitionKey?: string;
  /**
   * Attempts (1 = no retry). Default: the definition's (for a task submitted by name, the
   * definition of the worker that runs it), else `DEFAULTS.maxAttempts`.
   */
  maxAttempts?: number;
  /**
   * `high`: once produced, the task is also offered to the workers ahead of the task log,
   * so it starts at the next free slot of any worker, before tasks not yet taken up.
   * `low`: held in the store and produced once the log's backlog is small (at the latest
   * after `DEFAULTS.lowPriorityMaxWaitMs`); not with `delayMs`/`runAt`. See the README,
   * "Priorities". Default `normal`.
   */
  priority?: TaskPriority;
  /** Run no earlier than this many ms from now (held in the scheduled set until due). */
  delayMs?: number;
  /** Run no earlier than this time (ms since the epoch). */
  runAt?: number;
}

/** How soon a task starts among those waiting (`SubmitOptions.priority`). */
export type TaskPriority = 'high' | 'normal' | 'low';

/** What `SubmitOptions.priority` must be (the CLI's `--priority` checks it too). */
export const PRIORITY: Rule<TaskPriority> = oneOf<TaskPriority>(['high', 'normal', 'low']);

/** A submitted task. `R` is the result type when submitted through a definition. */
export interface TaskHandle<R = unknown> {
  id: string;
  status: TaskStatus;
  /** True when an identical in-flight task was returned instead of a new one. */
  deduplicated: boolean;
  /** True when the result cache answered at once. */
  cached: boolean;
  /** Type-only marker of the result type. */
  readonly __result?: R;
}

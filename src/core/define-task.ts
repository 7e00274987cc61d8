import { YadtqError } from './errors.ts';

/** What a handler receives besides its arguments. */
export interface TaskContext {
  readonly taskId: string;
  readonly attempt: number;
  readonly workerId: string;
  /** Fires when the task times out (or is cancelled); a result after that is discarded. */
  readonly signal: AbortSignal;
}

/** Per-definition options. */
export interface TaskOptions {
  /** Time limit of one run, in ms. Default: the submit's, else `DEFAULTS.timeoutMs`. */
  timeoutMs?: number;
  /** Cache successful results under the task's dedup key for this long (ms); 0 = no cache. Default 0. */
  cacheTtlMs?: number;
  /** Whether identical submits while one is in flight share one task. Default true. */
  dedup?: boolean;
  /** Attempts when submitted through this definition. Default `DEFAULTS.maxAttempts` (1). */
  maxAttempts?: number;
  /** First retry delay in ms (doubling, with jitter). Default `DEFAULTS.backoffMs`. */
  backoffMs?: number;
  /** Longest retry delay in ms. Default `DEFAULTS.backoffMaxMs`. */
  backoffMaxMs?: number;
}

/** A task handler: JSON args in, JSON result out. */
export type TaskHandler<A, R> = (args: A, context: TaskContext) => R | Promise<R>;

/** A named, typed task. Submitting through it type-checks the args and the result. */
export interface TaskDefinition<A = unknown, R = unknown> {
  readonly name: string;
  readonly handler: TaskHandler<A, R>;
  readonly options: Readonly<TaskOptions>;
}

const NAME = /^[A-Za-z0-9_.:-]{1,200}$/;

/**
 * Defines a task.
 * @example const add = defineTask('add', ([a, b]: [number, number]) => a + b);
 * @throws YadtqError INVALID_OPTION for a bad name or option.
 */
export function defineTask<A, R>(
  name: string,
  handler: TaskHandler<A, R>,
  options: TaskOptions = {},
): TaskDefinition<A, R> {
  if (!NAME.test(name)) {
    throw new YadtqError(
      'INVALID_OPTION',
      `task name ${JSON.stringify(name)} must be 1-200 of A-Z a-z 0-9 _ . : -`,
    );
  }
  if (typeof handler !== 'function')
    throw new YadtqError('INVALID_OPTION', `task "${name}": handler must be a function`);
  const limits = {
    timeoutMs: 1,
    cacheTtlMs: 0,
    maxAttempts: 1,
    backoffMs: 0,
    backoffMaxMs: 0,
  } as const;
  for (const [key, min] of Object.entries(limits) as Array<[keyof typeof limits, number]>) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= min)) {
      throw new YadtqError(
        'INVALID_OPTION',
        `task "${name}": ${key} must be a whole number ≥ ${min}, got ${value}`,
      );
    }
  }
  return Object.freeze({ name, handler, options: Object.freeze({ ...options }) });
}

import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getCallSites } from 'node:util';
import {
  type ConcurrencyLimit,
  checkConcurrency,
  checkRateLimit,
  type RateLimit,
} from './concurrency.ts';
import { YadtqError } from './errors.ts';
import { check, identifier, oneOf, type Rule, show, wholeNumber } from './options.ts';

/** What a handler receives besides its arguments. */
export interface TaskContext {
  readonly taskId: string;
  readonly attempt: number;
  readonly workerId: string;
  /** Fires when the task times out (or is cancelled); a result after that is discarded. */
  readonly signal: AbortSignal;
}

/** Per-definition options; `A` is the args type (for {@link TaskOptions.concurrency}'s key). */
export interface TaskOptions<A = unknown> {
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
  /**
   * Run the handler in a sandbox instead of on the worker's event loop: `'thread'` (a
   * worker thread) or `'process'` (a child process). A timeout or cancel then ends the
   * sandbox, and `process.exit` or an uncaught exception inside fails only this task
   * (SANDBOX_EXITED). The sandbox imports {@link TaskOptions.module} to find the handler,
   * so define the task at the top level of a module without side effects. Default: none.
   */
  isolate?: TaskIsolation;
  /**
   * The module (file URL or path) that defines this task, for the sandbox to import.
   * Default: the file that called `defineTask` (pass `import.meta.url` when the call is
   * made from a helper in another module).
   */
  module?: string | URL;
  /**
   * At most `limit` of this task running at once across the fleet, or per `key(args)`
   * (e.g. per tenant); a task over it is parked and handed on when one of its group
   * stops. See the README, "Concurrency limits". Default: none.
   */
  concurrency?: ConcurrencyLimit<A>;
  /**
   * At most `limit` starts in any window of `intervalMs` across the fleet, per task name
   * or per `key(args)`; a task that comes while the window is full is parked and offered
   * when it has room. See the README, "Rate limits". Default: none.
   */
  rateLimit?: RateLimit<A>;
}

/** Where an isolated handler runs (see {@link TaskOptions.isolate}). */
export type TaskIsolation = 'thread' | 'process';

/** A task handler: JSON args in, JSON result out. */
export type TaskHandler<A, R> = (args: A, context: TaskContext) => R | Promise<R>;

/** A named, typed task. Submitting through it type-checks the args and the result. */
export interface TaskDefinition<A = unknown, R = unknown> {
  readonly name: string;
  readonly handler: TaskHandler<A, R>;
  readonly options: Readonly<TaskOptions>;
}

const ISOLATION = oneOf<TaskIsolation>(['thread', 'process']);

/**
 * Isolated definitions by module URL, then name, shared by every copy of this module in
 * the realm: a sandbox imports the defining module and finds its definition here.
 */
const REGISTRY = Symbol.for('yadtq.isolatedTasks');
const realm = globalThis as { [REGISTRY]?: Map<string, Map<string, TaskDefinition>> };
realm[REGISTRY] ??= new Map();
const ISOLATED = realm[REGISTRY];

const NAME = identifier(200);

/** The form of each numeric option of a definition. */
const LIMITS = {
  timeoutMs: wholeNumber(1),
  cacheTtlMs: wholeNumber(0),
  maxAttempts: wholeNumber(1),
  backoffMs: wholeNumber(0),
  backoffMaxMs: wholeNumber(0),
} as const;

/**
 * Defines a task.
 * @example const add = defineTask('add', ([a, b]: [number, number]) => a + b);
 * @throws YadtqError INVALID_OPTION for a bad name or option.
 */
export function defineTask<A, R>(
  name: string,
  handler: TaskHandler<A, R>,
  options: TaskOptions<A> = {},
): TaskDefinition<A, R> {
  if (!NAME.accepts(name)) {
    throw new YadtqError('INVALID_OPTION', `task name ${show(name)} must be ${NAME.says}`);
  }
  if (typeof handler !== 'function')
    throw new YadtqError('INVALID_OPTION', `task "${name}": handler must be a function`);
  for (const [key, must] of Object.entries(LIMITS) as Array<[keyof typeof LIMITS, Rule<number>]>) {
    if (options[key] !== undefined) check(`task "${name}": ${key}`, options[key], must);
  }
  if (options.concurrency !== undefined) checkConcurrency(name, options.concurrency);
  if (options.rateLimit !== undefined) checkRateLimit(name, options.rateLimit);
  if (options.isolate === undefined) {
    return Object.freeze({
      name,
      handler,
      options: Object.freeze({ ...options }) as TaskOptions,
    });
  }
  check(`task "${name}": isolate`, options.isolate, ISOLATION);
  const module = moduleUrl(name, options.module);
  const definition = Object.freeze({
    name,
    handler,
    options: Object.freeze({ ...options, module }) as TaskOptions,
  });
  const named = ISOLATED.get(module) ?? new Map<string, TaskDefinition>();
  ISOLATED.set(module, named.set(name, definition as TaskDefinition));
  return definition;
}

/** The isolated definition `name` that `module` (a URL as stored in its options) made. */
export function isolatedDefinition(module: string, name: string): TaskDefinition | undefined {
  return ISOLATED.get(module)?.get(name);
}

function moduleUrl(name: string, given: string | URL | undefined): string {
  if (given instanceof URL) return given.href;
  if (typeof given === 'string' && given !== '') {
    return given.startsWith('file:') ? new URL(given).href : pathToFileURL(given).href;
  }
  if (given !== undefined) {
    throw new YadtqError('INVALID_OPTION', `task "${name}": module must be a file URL or path`);
  }
  // The first frame outside this file is the caller of defineTask.
  const caller = getCallSites().find((site) => site.scriptName !== import.meta.url)?.scriptName;
  if (caller === undefined || !(caller.startsWith('file:') || isAbsolute(caller))) {
    throw new YadtqError(
      'INVALID_OPTION',
      `task "${name}": cannot tell which module defines it; pass { module: import.meta.url }`,
    );
  }
  return caller.startsWith('file:') ? caller : pathToFileURL(caller).href;
}

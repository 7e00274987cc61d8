import type { Logger } from '../logger.ts';

/** A handler given up at its timeout or cancel that has not returned yet. */
interface Zombie {
  name: string;
  attempt: number;
  since: number;
  returned: Promise<void>;
}

/** Options of {@link Zombies}. */
export interface ZombiesOptions {
  workerId: string;
  /** Zombies the worker keeps; one more and {@link ZombiesOptions.onLimit} is called. */
  limit: number;
  logger: Logger;
  /** Called when the worker should drain and exit for a restart, with why. */
  onLimit(reason: string): void;
  /** Called when a zombie returned: its slot is free again. */
  onReturned(): void;
}

/** How a wait for a task's zombie ended. */
export type ZombieWait = 'returned' | 'stopped' | 'expired';

/**
 * The handlers that ignored their `AbortSignal`: the worker gave them up (their task
 * failed TASK_TIMEOUT or ended cancelled) but they still run. Each keeps its slot until
 * it really returns, so zombies cannot push a worker past its concurrency; the next
 * attempt of the same task waits here ({@link waitFor}) rather than run beside it. Past
 * the limit the worker is told to drain and exit, since only a restart ends them.
 */
export class Zombies {
  readonly #options: ZombiesOptions;
  readonly #byTask = new Map<string, Zombie>();
  readonly #waiters = new Set<() => void>();
  #closed = false;

  constructor(options: ZombiesOptions) {
    this.#options = options;
  }

  /** Zombies running now. */
  get size(): number {
    return this.#byTask.size;
  }

  /** Whether task `taskId` has a zombie on this worker. */
  has(taskId: string): boolean {
    return this.#byTask.has(taskId);
  }

  /** Counts the handler of `task` as a zombie until `returned` resolves. */
  add(
    task: { id: string; name: string; attempt: number },
    returned: Promise<void>,
    now = Date.now(),
  ): void {
    const { logger, workerId, limit } = this.#options;
    const fields = { workerId, taskId: task.id, task: task.name, attempt: task.attempt };
    this.#byTask.set(task.id, { name: task.name, attempt: task.attempt, since: now, returned });
    logger.warn('handler ignored its abort signal: it keeps its slot until it returns', {
      ...fields,
      zombies: this.size,
    });
    void returned.then(() => {
      this.#byTask.delete(task.id);
      logger.info('a zombie handler returned; its slot is free', {
        ...fields,
        ranPastItsEndMs: Date.now() - now,
        zombies: this.size,
      });
      for (const wake of [...this.#waiters]) wake();
      this.#options.onReturned();
    });
    if (this.size > limit) {
      this.#options.onLimit(
        `${this.size} zombie handlers (handlers that ignored their abort signal) hold slots, more than the ${limit} allowed: draining and exiting for a restart`,
      );
    }
  }

  /**
   * Waits until task `taskId` has no zombie here ('returned'), the worker stops
   * ('stopped'), or `maxMs` passed ('expired': the limit is then reached too, since a
   * zombie that holds up its own task's next attempt this long only ends with a restart).
   */
  async waitFor(taskId: string, maxMs: number): Promise<ZombieWait> {
    const zombie = this.#byTask.get(taskId);
    if (zombie === undefined) return 'returned';
    const deadline = Date.now() + maxMs;
    while (!this.#closed && this.#byTask.has(taskId)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.#options.onLimit(
          `the handler of task ${taskId} (${zombie.name}, attempt ${zombie.attempt}) ignored its abort signal and has not returned for ${Date.now() - zombie.since} ms, holding up its next attempt: draining and exiting for a restart`,
        );
        return 'expired';
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
    return this.#closed ? 'stopped' : 'returned';
  }

  /** Ends every wait ('stopped'): the worker is stopping. */
  close(): void {
    this.#closed = true;
    for (const wake of [...this.#waiters]) wake();
  }
}

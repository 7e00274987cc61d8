// The `yadtq/demo` entry: the seed's four arithmetic tasks, for the CLI's default worker,
// `yadtq demo` and trying yadtq out. They are not part of the library's main entry.
import { defineTask } from './core/define-task.ts';
import { YadtqError } from './core/errors.ts';

/** The seed's arguments: `[a, b]` or `[a, b, sleepMs]` (default sleep 500 ms). */
export type ArithmeticArgs = [number, number] | [number, number, number];

const DEFAULT_SLEEP_MS = 500;

function arithmetic(name: string, op: (a: number, b: number) => number) {
  return defineTask(
    name,
    async (args: ArithmeticArgs, { signal }) => {
      if (
        !Array.isArray(args) ||
        args.length < 2 ||
        args.length > 3 ||
        !args.every((n) => typeof n === 'number' && Number.isFinite(n))
      ) {
        throw new YadtqError(
          'INVALID_ARGS',
          `${name} takes [a, b] or [a, b, sleepMs] of numbers, got ${JSON.stringify(args)}`,
        );
      }
      const [a, b, sleepMs = DEFAULT_SLEEP_MS] = args;
      await sleep(sleepMs, signal);
      return op(a, b);
    },
    { cacheTtlMs: 10 * 60 * 1000 },
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ms <= 0) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `[a, b, sleepMs?]` → a + b. */
export const add = arithmetic('add', (a, b) => a + b);
/** `[a, b, sleepMs?]` → a − b. */
export const sub = arithmetic('sub', (a, b) => a - b);
/** `[a, b, sleepMs?]` → a × b. */
export const mul = arithmetic('mul', (a, b) => a * b);
/** `[a, b, sleepMs?]` → a ÷ b; fails with "division by zero" when b is 0. */
export const div = arithmetic('div', (a, b) => {
  if (b === 0) throw new RangeError(`division by zero: ${a} / 0`);
  return a / b;
});

/** The seed's four demo tasks. */
export const demoTasks = [add, sub, mul, div];

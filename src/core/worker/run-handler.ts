import type { TaskContext, TaskDefinition } from '../define-task.ts';
import { YadtqError } from '../errors.ts';
import { type JsonValue, toJson } from '../json.ts';
import type { TaskErrorInfo } from '../task-record.ts';
import { capText } from '../text-limits.ts';
import { isRetriable } from './retry-policy.ts';

/** How one run ended. */
export type RunResult =
  | { status: 'success'; result: JsonValue }
  | { status: 'failed'; error: TaskErrorInfo; retriable: boolean }
  | { status: 'cancelled' };

/**
 * Runs one handler under a time limit. The handler's `AbortSignal` fires at the limit or
 * when `cancel` fires, and the run ends at once (TASK_TIMEOUT, or cancelled); a result
 * that arrives later is discarded. A result that is not JSON fails with INVALID_RESULT.
 * A handler still running when the run ended (it ignored its signal) is a zombie:
 * `onZombie` gets a promise that resolves once it really returns or throws.
 */
export async function runHandler(
  definition: TaskDefinition,
  args: JsonValue,
  context: Omit<TaskContext, 'signal'>,
  timeoutMs: number,
  cancel: AbortSignal,
  onZombie?: (returned: Promise<void>) => void,
): Promise<RunResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onCancel: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new YadtqError(
        'TASK_TIMEOUT',
        `task ${context.taskId} (${definition.name}) timed out after ${timeoutMs} ms`,
        {
          retriable: true,
        },
      );
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    onCancel = () => {
      const error = new YadtqError('TASK_CANCELLED', `task ${context.taskId} was cancelled`);
      controller.abort(error);
      reject(error);
    };
    if (cancel.aborted) onCancel();
    else cancel.addEventListener('abort', onCancel, { once: true });
  });
  let returned = false;
  let running: Promise<unknown> | undefined;
  try {
    running = Promise.resolve().then(() =>
      definition.handler(args, { ...context, signal: controller.signal }),
    );
    running.then(
      () => {
        returned = true;
      },
      () => {
        returned = true;
      },
    );
    const value = await Promise.race([running, stopped]);
    const result =
      value === undefined
        ? null
        : (JSON.parse(
            toJson(value, `result of task "${definition.name}"`, 'INVALID_RESULT'),
          ) as JsonValue);
    return { status: 'success', result };
  } catch (error) {
    if (cancel.aborted) return { status: 'cancelled' };
    return { status: 'failed', error: errorInfo(error), retriable: isRetriable(error) };
  } finally {
    clearTimeout(timer);
    if (onCancel) cancel.removeEventListener('abort', onCancel);
    // Settled handlers have flagged themselves by now: the race saw the stop first only
    // when the handler was still pending (its own callbacks ran before the race's).
    if (!returned && running !== undefined && onZombie !== undefined) {
      onZombie(
        running.then(
          () => {},
          () => {},
        ),
      );
    }
  }
}

/**
 * What is kept of a thrown value: message, name, code and stack when it has them, each
 * capped ({@link capText}: about 8 KiB), so one huge error cannot block what follows.
 */
export function errorInfo(error: unknown): TaskErrorInfo {
  if (error instanceof Error) {
    const info: TaskErrorInfo = {
      message: capText(String(error.message)),
      name: capText(error.name, 200),
    };
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') info.code = capText(code, 200);
    if (typeof error.stack === 'string') info.stack = capText(error.stack);
    return info;
  }
  let text: string;
  try {
    text = typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
  } catch {
    text = String(error);
  }
  return { message: capText(`a non-Error value was thrown: ${text}`), name: 'NonError' };
}

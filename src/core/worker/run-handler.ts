import type { TaskContext, TaskDefinition } from '../define-task.ts';
import { YadtqError } from '../errors.ts';
import { type JsonValue, toJson } from '../json.ts';
import type { TaskErrorInfo, TaskOutcome } from '../task-record.ts';

/**
 * Runs one handler under a time limit. The handler's `AbortSignal` fires at the limit
 * and the run ends `failed` with TASK_TIMEOUT at once; a result that arrives later is
 * discarded. A result that is not JSON fails the run with INVALID_RESULT.
 */
export async function runHandler(
  definition: TaskDefinition,
  args: JsonValue,
  context: Omit<TaskContext, 'signal'>,
  timeoutMs: number,
): Promise<TaskOutcome> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new YadtqError(
        'TASK_TIMEOUT',
        `task ${context.taskId} (${definition.name}) timed out after ${timeoutMs} ms`,
      );
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    const running = Promise.resolve().then(() =>
      definition.handler(args, { ...context, signal: controller.signal }),
    );
    const value = await Promise.race([running, timedOut]);
    const result =
      value === undefined
        ? null
        : (JSON.parse(
            toJson(value, `result of task "${definition.name}"`, 'INVALID_RESULT'),
          ) as JsonValue);
    return { status: 'success', result };
  } catch (error) {
    return { status: 'failed', error: errorInfo(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** What is kept of a thrown value: message, name, code and stack when it has them. */
export function errorInfo(error: unknown): TaskErrorInfo {
  if (error instanceof Error) {
    const info: TaskErrorInfo = { message: error.message, name: error.name };
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') info.code = code;
    if (error.stack !== undefined) info.stack = error.stack;
    return info;
  }
  let text: string;
  try {
    text = typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
  } catch {
    text = String(error);
  }
  return { message: `a non-Error value was thrown: ${text}`, name: 'NonError' };
}

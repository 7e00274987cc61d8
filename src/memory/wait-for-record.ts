import type { EventEmitter } from 'node:events';
import { YadtqError } from '../core/errors.ts';
import { isTerminal, type TaskRecord } from '../core/task-record.ts';

/**
 * Resolves with a copy of the record once it is terminal, woken by `events`' `finished`
 * (the id of a task that ended). @throws YadtqError WAIT_TIMEOUT, TASK_NOT_FOUND
 */
export function waitForRecord(
  events: EventEmitter,
  lookup: (id: string) => TaskRecord | undefined,
  id: string,
  timeoutMs: number,
): Promise<TaskRecord> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const record = lookup(id);
      if (record === undefined)
        done(new YadtqError('TASK_NOT_FOUND', `task ${id} is not known (or has expired)`));
      else if (isTerminal(record.status)) done(null, structuredClone(record));
    };
    const onFinished = (finishedId: string) => {
      if (finishedId === id) check();
    };
    const timer = setTimeout(
      () =>
        done(new YadtqError('WAIT_TIMEOUT', `task ${id} did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const done = (error: YadtqError | null, record?: TaskRecord) => {
      clearTimeout(timer);
      events.off('finished', onFinished);
      if (error) reject(error);
      else resolve(record as TaskRecord);
    };
    events.on('finished', onFinished);
    check();
  });
}

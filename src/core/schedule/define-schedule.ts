import { DEFAULTS } from '../defaults.ts';
import type { TaskOptions } from '../define-task.ts';
import { YadtqError } from '../errors.ts';
import { type JsonValue, toJson } from '../json.ts';
import { check, positive } from '../options.ts';
import { checkCron, nextTick } from './cron.ts';
import { checkScheduleName, type Schedule } from './schedule.ts';

/** What `TaskClient.schedule` takes beside the name, the task and its args. */
export interface ScheduleOptions {
  /** Five fields (minute hour day month weekday), or six with seconds first. */
  cron: string;
  /** An IANA time zone the cron is read in (`Europe/Paris`). Default UTC. */
  tz?: string;
  /**
   * Ticks missed while no monitor ran: false (default) runs the latest of them once; true
   * runs each (the newest `DEFAULTS.scheduleCatchUpTicks`).
   */
  catchUp?: boolean;
  /** Attempts of each tick's task (default: the worker's definition, else 1). */
  maxAttempts?: number;
  /** Time limit of each tick's task, in ms (default: the worker's definition, else 30 s). */
  timeoutMs?: number;
}

/**
 * The schedule these arguments describe, first firing at the cron's next tick after `now`.
 * @throws YadtqError INVALID_OPTION or INVALID_ARGS naming what is wrong.
 */
export function buildSchedule(
  name: string,
  task: string,
  args: unknown,
  options: ScheduleOptions,
  definition: Readonly<TaskOptions> | undefined,
  now: number,
): Schedule {
  checkScheduleName(name);
  if (typeof task !== 'string' || task.length === 0)
    throw new YadtqError('INVALID_ARGS', 'task name must be a non-empty string');
  if (options === null || typeof options !== 'object')
    throw new YadtqError('INVALID_OPTION', 'schedule options must be an object with a cron');
  const { cron, tz, catchUp = false } = options;
  checkCron({ cron, ...(tz === undefined ? {} : { tz }) });
  if (typeof catchUp !== 'boolean')
    throw new YadtqError(
      'INVALID_OPTION',
      `catchUp must be true or false, got ${JSON.stringify(catchUp)}`,
    );
  const text = toJson(args, `args of schedule "${name}"`);
  if (Buffer.byteLength(text) > DEFAULTS.maxPayloadBytes)
    throw new YadtqError(
      'PAYLOAD_TOO_LARGE',
      `args of schedule "${name}" are over ${DEFAULTS.maxPayloadBytes} bytes`,
    );
  const maxAttempts = options.maxAttempts ?? definition?.maxAttempts;
  const timeoutMs = options.timeoutMs ?? definition?.timeoutMs;
  const spec = { cron: cron.trim(), ...(tz === undefined ? {} : { tz }) };
  return {
    name,
    task,
    args: args as JsonValue,
    ...spec,
    catchUp,
    ...(maxAttempts === undefined
      ? {}
      : { maxAttempts: check('maxAttempts', maxAttempts, positive) }),
    ...(timeoutMs === undefined ? {} : { timeoutMs: check('timeoutMs', timeoutMs, positive) }),
    createdAt: now,
    next: nextTick(spec, now),
  };
}

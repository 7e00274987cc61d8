import { DEFAULTS } from '../defaults.ts';
import type { TaskEnvelope } from '../envelope.ts';
import { YadtqError } from '../errors.ts';
import type { JsonValue } from '../json.ts';
import { recordFromEnvelope, type TaskRecord } from '../task-record.ts';
import type { UnsetOption } from '../unset-options.ts';
import type { CronSpec } from './cron.ts';

/** A schedule's name: what its tick tasks' ids start with (`<name>:<tick time>`). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** What a schedule creates at each of its ticks, and when. */
export interface ScheduleDefinition extends CronSpec {
  name: string;
  /** The task's name, as workers define it. */
  task: string;
  args: JsonValue;
  /**
   * Ticks missed while no monitor ran (an outage): false runs the latest of them once;
   * true runs each, up to `DEFAULTS.scheduleCatchUpTicks` of the newest.
   */
  catchUp: boolean;
  /** Unset: the worker's definition decides (else yadtq's default). */
  maxAttempts?: number;
  /** Unset: the worker's definition decides (else yadtq's default). */
  timeoutMs?: number;
  createdAt: number;
}

/** A schedule as stored: its definition, when it fires next and last fired. */
export interface Schedule extends ScheduleDefinition {
  /** Its next tick (ms since the epoch): fired by the monitor leader once that is past. */
  next: number;
  /** The last tick it created a task for, if any. */
  lastTick?: number;
}

/**
 * Where schedules are kept (Redis: `<prefix>schedules` and `<prefix>schedule-next`, no
 * TTL; memory: in the process). The monitor leader fires the due ones.
 */
export interface ScheduleStore {
  /** Adds the schedule, or replaces the one of its name. */
  putSchedule(schedule: Schedule): Promise<void>;
  /** False when there was none of that name. */
  removeSchedule(name: string): Promise<boolean>;
  /** Every schedule, by name. */
  schedules(): Promise<Schedule[]>;
  /** The schedules whose next tick is at or before `now`, earliest first, at most `limit`. */
  dueSchedules(now: number, limit: number): Promise<Schedule[]>;
  /**
   * Moves the schedule's next tick from `from` to `to`, noting `fired` as its last tick when
   * given; in one step, and only while its next tick is still `from` (false, nothing
   * changed: another monitor moved it, or it was removed or replaced).
   */
  advanceSchedule(name: string, from: number, to: number, fired?: number): Promise<boolean>;
}

/** @throws YadtqError INVALID_OPTION when `name` cannot name a schedule. */
export function checkScheduleName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new YadtqError(
      'INVALID_OPTION',
      `schedule name ${JSON.stringify(name)} must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  return name;
}

/** The id of the task a schedule creates at `tick`: the same on every monitor. */
export function tickTaskId(name: string, tick: number): string {
  return `${name}:${new Date(tick).toISOString()}`;
}

/**
 * The record of the task `schedule` creates for `tick`: due at once (the monitor's due
 * step produces it), its options unset where the schedule leaves them to the definition.
 */
export function tickRecord(schedule: Schedule, tick: number, now: number): TaskRecord {
  const unset: UnsetOption[] = [];
  if (schedule.maxAttempts === undefined) unset.push('maxAttempts');
  if (schedule.timeoutMs === undefined) unset.push('timeoutMs');
  const envelope: TaskEnvelope = {
    v: 1,
    id: tickTaskId(schedule.name, tick),
    name: schedule.task,
    args: schedule.args,
    attempt: 1,
    maxAttempts: schedule.maxAttempts ?? DEFAULTS.maxAttempts,
    timeoutMs: schedule.timeoutMs ?? DEFAULTS.timeoutMs,
    dedupKey: null,
    submittedAt: now,
    ...(unset.length > 0 ? { unset } : {}),
  };
  return { ...recordFromEnvelope(envelope), runAt: now };
}

import { CronExpressionParser } from 'cron-parser';
import { YadtqError } from '../errors.ts';

/** A cron expression with its time zone, checked: what a schedule fires on. */
export interface CronSpec {
  /** Five fields (minute hour day month weekday), or six with seconds first. */
  cron: string;
  /** An IANA time zone (`Europe/Paris`); default UTC. */
  tz?: string;
}

/**
 * Checks a cron expression and its time zone (cron-parser reads the expression).
 * @throws YadtqError INVALID_OPTION naming what is wrong.
 */
export function checkCron(spec: CronSpec): void {
  const { cron, tz } = spec;
  if (typeof cron !== 'string' || cron.trim().length === 0)
    throw new YadtqError('INVALID_OPTION', 'cron must be a non-empty cron expression');
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6)
    throw new YadtqError(
      'INVALID_OPTION',
      `cron "${cron}" has ${fields} fields: give 5 (minute hour day month weekday) or 6 (seconds first)`,
    );
  if (tz !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
    } catch {
      throw new YadtqError('INVALID_OPTION', `tz "${tz}" is not a known IANA time zone`);
    }
  }
  try {
    parse(spec, Date.now()).next();
  } catch (error) {
    throw new YadtqError(
      'INVALID_OPTION',
      `cron "${cron}" is not valid: ${(error as Error).message}`,
    );
  }
}

/** The first tick strictly after `after` (ms since the epoch). */
export function nextTick(spec: CronSpec, after: number): number {
  return parse(spec, after).next().getTime();
}

/**
 * The ticks in `(after, upTo]`, oldest first, at most `limit` (the newest `limit` of them
 * when there are more: a long outage caught up does not run a backlog of old ticks).
 */
export function ticksBetween(spec: CronSpec, after: number, upTo: number, limit: number): number[] {
  const ticks: number[] = [];
  const expression = parse(spec, upTo + 1);
  while (ticks.length < limit) {
    const tick = expression.prev().getTime();
    if (tick <= after) break;
    ticks.push(tick);
  }
  return ticks.reverse();
}

function parse(spec: CronSpec, from: number) {
  return CronExpressionParser.parse(spec.cron, {
    currentDate: new Date(from),
    tz: spec.tz ?? 'UTC',
  });
}

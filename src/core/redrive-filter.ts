import type { DeadLetterReason } from './dead-letter.ts';
import { YadtqError } from './errors.ts';
import { check, finite, nonEmpty, oneOf, positive, type Rule, rule } from './options.ts';

/** Every reason a message is dead-lettered for (`DLQ_HEADERS.reason`). */
export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = [
  'exhausted',
  'worker-lost',
  'invalid-message',
  'expired',
];

/** What a dead-letter reason must be. */
export const DEAD_LETTER_REASON: Rule<DeadLetterReason> = oneOf(DEAD_LETTER_REASONS);

/** A dead-letter entry's id as people give it: `<partition>:<offset>`. */
export const ENTRY_ID: Rule<string> = rule(
  'an entry id <partition>:<offset> (e.g. 0:17)',
  (v) => typeof v === 'string' && /^\d{1,9}:\d{1,15}$/.test(v),
);

/**
 * Which dead-letter entries a replay chooses: all of them unless told; each field given
 * narrows the choice. Entries are taken oldest first.
 */
export interface DeadLetterFilter {
  /** Only entries dead-lettered for this reason. */
  reason?: DeadLetterReason;
  /** Only entries of this task name (from the dead-letter body, else the task's record). */
  task?: string;
  /** Only entries dead-lettered at or after this time (ms since the epoch). */
  since?: number;
  /** Only these entries (`<partition>:<offset>`, as `yadtq dlq` lists them). */
  entries?: readonly string[];
  /** Replay at most this many (entries refused do not count). */
  limit?: number;
}

/**
 * `filter` checked, fields left undefined dropped.
 * @throws YadtqError INVALID_OPTION naming the first bad field.
 */
export function checkFilter(filter: DeadLetterFilter): DeadLetterFilter {
  if (filter === null || typeof filter !== 'object')
    throw new YadtqError('INVALID_OPTION', 'a dead-letter filter must be an object');
  const checked: DeadLetterFilter = {};
  if (filter.reason !== undefined)
    checked.reason = check('reason', filter.reason, DEAD_LETTER_REASON);
  if (filter.task !== undefined) checked.task = check('task', filter.task, nonEmpty);
  if (filter.since !== undefined) checked.since = check('since', filter.since, finite);
  if (filter.limit !== undefined) checked.limit = check('limit', filter.limit, positive);
  if (filter.entries !== undefined) {
    if (!Array.isArray(filter.entries))
      throw new YadtqError('INVALID_OPTION', 'entries must be an array of <partition>:<offset>');
    checked.entries = filter.entries.map((entry, i) => check(`entries[${i}]`, entry, ENTRY_ID));
  }
  return checked;
}

const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** What `--since` must be. */
export const SINCE_TEXT: Rule<string> = rule(
  'an ISO time (2026-01-31T12:00:00Z) or a duration ago (30s, 30m, 2h, 1d)',
  (v) => typeof v === 'string' && parseSince(v, 0) !== undefined,
);

/**
 * `--since` as a time in ms: an ISO 8601 time (a date, or a date and time), or a
 * duration (`30s`, `30m`, `2h`, `1d`) meaning that long before `now`. Undefined when it
 * is neither.
 */
export function parseSince(text: string, now: number): number | undefined {
  const duration = /^(\d{1,9})([smhd])$/.exec(text.trim());
  if (duration !== null) return now - Number(duration[1]) * UNITS_MS[duration[2]!]!;
  // Date.parse reads more than ISO (e.g. "March 7"): only ISO-shaped text is taken.
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text))
    return undefined;
  const at = Date.parse(text);
  return Number.isFinite(at) ? at : undefined;
}

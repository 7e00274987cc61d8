import { YadtqError } from './errors.ts';

/**
 * What a valid value is: a test and the words that say it ("a whole number ≥ 1"), so
 * every message about a bad value is written the same way. The one place where an
 * option's form is checked; each component names its own rules from these.
 */
export interface Rule<T> {
  /** Completes "must be …" in a message, e.g. `a whole number ≥ 1`. */
  readonly says: string;
  accepts(value: unknown): value is T;
}

/** A rule from a test and its words. */
export function rule<T>(says: string, accepts: (value: unknown) => boolean): Rule<T> {
  return { says, accepts: accepts as (value: unknown) => value is T };
}

/** A whole number (a safe integer) from `min` up to `max`. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): Rule<number> {
  const says =
    max === Number.MAX_SAFE_INTEGER
      ? `a whole number ≥ ${min}`
      : `a whole number from ${min} to ${max}`;
  return rule(says, (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max);
}

/** A whole number > 0: a count, a size or a duration in ms. */
export const positive: Rule<number> = rule(
  'a whole number > 0',
  (v) => Number.isSafeInteger(v) && (v as number) > 0,
);

/** A TCP port; 0 asks the system for a free one. */
export const port: Rule<number> = rule('a port number (0-65535)', wholeNumber(0, 65535).accepts);

/** A number that is not NaN or infinite. */
export const finite: Rule<number> = rule('a finite number', (v) => Number.isFinite(v));

/** `rule`, or exactly `value` (e.g. `'auto'`, or -1 for "forever"). */
export function or<T, V extends string | number>(base: Rule<T>, value: V): Rule<T | V> {
  return rule(`${base.says} or ${show(value)}`, (v) => v === value || base.accepts(v));
}

/** One of `values`. */
export function oneOf<T extends string | number>(values: readonly T[]): Rule<T> {
  const listed = values.map(show);
  const says = listed.length === 2 ? `${listed[0]} or ${listed[1]}` : `one of ${listed.join(', ')}`;
  return rule(says, (v) => values.includes(v as T));
}

/** A string of at least one character. */
export const nonEmpty: Rule<string> = rule(
  'a non-empty string',
  (v) => typeof v === 'string' && v.length > 0,
);

/** A string of at least `min` characters (a secret). */
export function atLeastChars(min: number): Rule<string> {
  return rule(`at least ${min} characters`, (v) => typeof v === 'string' && v.length >= min);
}

/** A dashboard or metrics token: a shorter secret is refused. */
export const token: Rule<string> = atLeastChars(8);

/** A non-empty string without whitespace (a group or client id). */
export const word: Rule<string> = rule(
  'a non-empty string without whitespace',
  (v) => typeof v === 'string' && /^\S+$/.test(v),
);

/** A name of 1 to `max` characters from A-Z a-z 0-9 _ . : - (task names, worker ids). */
export function identifier(max: number): Rule<string> {
  const pattern = new RegExp(`^[A-Za-z0-9_.:-]{1,${max}}$`);
  return rule(`1-${max} of A-Z a-z 0-9 _ . : -`, (v) => typeof v === 'string' && pattern.test(v));
}

/**
 * The one topic-name rule: Kafka's (letters, digits, `.`, `_`, `-`; at most 249), less
 * the 4 characters of the dead-letter topic's `.dlq` suffix.
 */
export const topicName: Rule<string> = rule(
  '1-245 characters of letters, digits, ".", "_" or "-"',
  (v) => typeof v === 'string' && /^[a-zA-Z0-9._-]{1,245}$/.test(v),
);

/** `host:port`, the host a name, an IPv4 address or a bracketed IPv6 address. */
export const hostPort: Rule<string> = rule(
  '"host:port"',
  (v) => typeof v === 'string' && /^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(v),
);

/** An absolute URL whose scheme is one of `protocols` (each with its colon, `redis:`). */
export function url(protocols: readonly string[]): Rule<string> {
  const names = protocols.map((p) => `${p}//`);
  const says = `a ${names.slice(0, -1).join(', ')}${names.length > 1 ? ' or ' : ''}${names.at(-1)} URL`;
  return rule(says, (v) => typeof v === 'string' && protocols.includes(protocolOf(v)));
}

/** A non-empty array of values `each` accepts. */
export function listOf<T>(each: Rule<T>): Rule<T[]> {
  return rule(
    `a non-empty list of ${each.says}`,
    (v) => Array.isArray(v) && v.length > 0 && v.every((item) => each.accepts(item)),
  );
}

/** Where Redis is: `redis://…`, or `rediss://…` for TLS. */
export const redisUrl: Rule<string> = url(['redis:', 'rediss:']);

/** A plain object (not null, not an array). */
export const object: Rule<object> = rule(
  'an object',
  (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
);

/** `true` or `false`. */
export const boolean: Rule<boolean> = rule('true or false', (v) => typeof v === 'boolean');

/** A value as a message shows it: numbers as written (`NaN`), everything else as JSON. */
export function show(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || value === undefined)
    return String(value);
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `<label> must be <rule>, got <value>`: the one wording of a bad option. */
export function mustBe(label: string, must: Rule<unknown>, value: unknown): string {
  return `${label} must be ${must.says}, got ${show(value)}`;
}

/**
 * `value` when `must` accepts it.
 * @throws YadtqError INVALID_OPTION `<label> must be <rule>, got <value>`
 */
export function check<T>(label: string, value: unknown, must: Rule<T>): T {
  if (!must.accepts(value)) throw new YadtqError('INVALID_OPTION', mustBe(label, must, value));
  return value;
}

/**
 * `fallback` when `value` is `undefined` (an option given as `undefined` keeps its
 * default), else `value` checked by `must`.
 * @throws YadtqError INVALID_OPTION `<label> must be <rule>, got <value>`
 */
export function optional<T>(label: string, value: unknown, must: Rule<T>, fallback: T): T {
  return value === undefined ? fallback : check(label, value, must);
}

/**
 * A rule for text that holds a number (a flag, an environment variable): the text is
 * read as a number, then checked by `must`. `parse` gives the number.
 */
export function numberText(must: Rule<number>): Rule<string | number> & {
  parse(value: string | number): number;
} {
  const parse = (value: string | number) =>
    typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  return {
    says: must.says,
    accepts: (v): v is string | number =>
      (typeof v === 'string' || typeof v === 'number') && must.accepts(parse(v)),
    parse,
  };
}

/**
 * `defaults` with every option of `given` that is set: an option given as `undefined`
 * keeps its default (a plain spread would let `{ intervalMs: undefined }` erase it).
 */
export function withDefaults<T extends object>(
  defaults: T,
  given: { [K in keyof T]?: T[K] | undefined },
): T {
  const merged = { ...defaults };
  for (const key of Object.keys(given) as (keyof T)[]) {
    const value = given[key];
    if (value !== undefined) merged[key] = value as T[keyof T];
  }
  return merged;
}

function protocolOf(text: string): string {
  try {
    return new URL(text).protocol;
  } catch {
    return '';
  }
}

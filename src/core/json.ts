import { createHash } from 'node:crypto';
import { YadtqError } from './errors.ts';

/** Any value that survives `JSON.stringify` → `JSON.parse` unchanged. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * Checks that `value` is plain JSON (no functions, BigInt, cycles, class instances,
 * non-finite numbers or undefined) and returns its serialised form.
 * @throws YadtqError INVALID_ARGS (or `code`) naming the path of the first bad part.
 */
export function toJson(
  value: unknown,
  what: string,
  code: 'INVALID_ARGS' | 'INVALID_RESULT' = 'INVALID_ARGS',
): string {
  assertJson(value, what, code, new Set());
  return JSON.stringify(value);
}

function assertJson(
  value: unknown,
  path: string,
  code: 'INVALID_ARGS' | 'INVALID_RESULT',
  seen: Set<object>,
): void {
  const fail = (why: string): never => {
    throw new YadtqError(code, `${path} is not JSON: ${why}`);
  };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(`${value} is not a finite number`);
    return;
  }
  if (typeof value !== 'object') {
    fail(`${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`} cannot be sent`);
    return;
  }
  if (seen.has(value)) fail('it contains a cycle');
  seen.add(value);
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) assertJson(item, `${path}[${index}]`, code, seen);
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null)
      fail(`a ${proto?.constructor?.name ?? 'class'} instance is not a plain object`);
    for (const [key, item] of Object.entries(value)) assertJson(item, `${path}.${key}`, code, seen);
  }
  seen.delete(value);
}

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The dedup key of a task: its name and a SHA-256 of its canonical arguments. */
export function dedupKeyOf(name: string, args: JsonValue): string {
  const digest = createHash('sha256').update(canonicalJson(args)).digest('base64url');
  return `${name}:${digest}`;
}

/**
 * The dedup (and result cache) key of a task submitted with an explicit key: the key
 * belongs to the task name, so two task names given one key stay two tasks. `#` never
 * occurs in a task name nor in {@link dedupKeyOf}'s keys, so neither kind can collide.
 */
export function explicitDedupKey(name: string, key: string): string {
  return `${name}#${key}`;
}

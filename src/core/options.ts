import { YadtqError } from './errors.ts';

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

/**
 * `value` when it is a whole number ≥ `min`.
 * @throws YadtqError INVALID_OPTION naming the option
 */
export function wholeNumber(name: string, value: number, min: number): number {
  if (!(Number.isInteger(value) && value >= min)) {
    throw new YadtqError('INVALID_OPTION', `${name} must be a whole number ≥ ${min}, got ${value}`);
  }
  return value;
}

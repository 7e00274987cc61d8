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

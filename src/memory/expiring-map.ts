/** A map whose entries expire: the memory store's stand-in for Redis keys with a TTL. */
export class ExpiringMap<V> {
  #entries = new Map<string, { value: V; expiresAt: number }>();

  /** The live value, or undefined when absent or expired (then it is dropped). */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.#entries.set(key, { value, expiresAt: Date.now() + ttlMs });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Live entries. */
  *entries(): Generator<[string, V]> {
    for (const key of [...this.#entries.keys()]) {
      const value = this.get(key);
      if (value !== undefined) yield [key, value];
    }
  }

  /** Drops every expired entry. */
  sweep(): void {
    for (const key of [...this.#entries.keys()]) this.get(key);
  }
}

/** Ids of `set` (id → time in ms) whose time is at or before `now`, earliest first. */
export function dueIds(set: ReadonlyMap<string, number>, now: number): string[] {
  return [...set]
    .filter(([, at]) => at <= now)
    .sort((a, b) => a[1] - b[1])
    .map(([id]) => id);
}

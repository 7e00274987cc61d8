import type { ReplayLedger, ReplayMark } from '../core/replay-ledger.ts';

/** The embedded {@link ReplayLedger}: marks in this process, expiring like Redis keys. */
export class MemoryReplays implements ReplayLedger {
  readonly #marks = new Map<string, { mark: ReplayMark; expiresAt: number }>();

  async take(entry: string, mark: ReplayMark, ttlMs: number): Promise<boolean> {
    if (this.#live(entry) !== undefined) return false;
    this.#marks.set(entry, { mark: { ...mark }, expiresAt: Date.now() + ttlMs });
    return true;
  }

  async update(entry: string, mark: ReplayMark): Promise<void> {
    const held = this.#live(entry);
    if (held !== undefined) held.mark = { ...mark };
  }

  async release(entry: string): Promise<void> {
    this.#marks.delete(entry);
  }

  async marks(entries: readonly string[]): Promise<Map<string, ReplayMark>> {
    const found = new Map<string, ReplayMark>();
    for (const entry of entries) {
      const held = this.#live(entry);
      if (held !== undefined) found.set(entry, { ...held.mark });
    }
    return found;
  }

  /** The entry's mark while it lives (an expired one is dropped). */
  #live(entry: string): { mark: ReplayMark; expiresAt: number } | undefined {
    const held = this.#marks.get(entry);
    if (held !== undefined && held.expiresAt <= Date.now()) {
      this.#marks.delete(entry);
      return undefined;
    }
    return held;
  }
}

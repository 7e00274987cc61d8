/**
 * Which dead-letter entries were replayed: one small mark per replayed entry, taken
 * atomically before the task runs again, so an entry is replayed at most once however
 * many replays run at the same time. Implementations: Redis (`redis/redis-replays.ts`,
 * one key per mark under the store's prefix) and memory (`memory/memory-replays.ts`).
 */
export interface ReplayLedger {
  /**
   * Marks `entry` replayed unless it is marked already (one atomic step): true when this
   * call took it, false when another replay holds it. The mark lives `ttlMs`.
   */
  take(entry: string, mark: ReplayMark, ttlMs: number): Promise<boolean>;
  /** Rewrites the mark of an entry this replay took (e.g. with the attempt it became), keeping its TTL. */
  update(entry: string, mark: ReplayMark): Promise<void>;
  /** Drops the mark of an entry this replay took and then did not replay. */
  release(entry: string): Promise<void>;
  /** The live marks of `entries` (absent ones are left out), in one round trip. */
  marks(entries: readonly string[]): Promise<Map<string, ReplayMark>>;
}

/** What a replay noted about an entry it replayed. */
export interface ReplayMark {
  /** When it was replayed (ms since the epoch). */
  at: number;
  /** The task it ran again. */
  taskId: string;
  /** The attempt it became; null while the replay is under way. */
  attempt: number | null;
  /** `record`: the task's record got a new attempt; `body`: the record was gone and made anew from the dead-letter body. */
  from: 'record' | 'body' | null;
}

/** The ledger key of a dead-letter entry: its partition, offset and append time. */
export function ledgerEntry(entry: {
  partition: number;
  offset: number;
  timestamp?: number;
}): string {
  // The append time tells a new message at a reused offset (the topic deleted and made
  // again) from the one that was marked, so an old mark cannot refuse a new entry.
  return `${entry.partition}:${entry.offset}:${entry.timestamp ?? 0}`;
}

/** A mark as stored, or null when it is not one (written by someone else). */
export function parseMark(text: string | null | undefined): ReplayMark | null {
  if (typeof text !== 'string') return null;
  try {
    const value = JSON.parse(text) as Partial<ReplayMark>;
    if (typeof value.at !== 'number' || typeof value.taskId !== 'string') return null;
    return {
      at: value.at,
      taskId: value.taskId,
      attempt: typeof value.attempt === 'number' ? value.attempt : null,
      from: value.from === 'record' || value.from === 'body' ? value.from : null,
    };
  } catch {
    return null;
  }
}

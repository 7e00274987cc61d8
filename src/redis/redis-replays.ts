import { parseMark, type ReplayLedger, type ReplayMark } from '../core/replay-ledger.ts';
import { wholeMs } from './redis-monitor.ts';
import type { StoreContext } from './scripts.ts';

/**
 * The Redis {@link ReplayLedger}, built by `RedisStores` on its shared connection: one
 * string key `<prefix>replayed:<entry>` per replayed dead-letter entry, holding its mark
 * as JSON. Taken with SET NX (one atomic step, so of two replays only one wins), with a
 * TTL so marks do not outlive the entries they mark by much.
 */
export class RedisReplays implements ReplayLedger {
  readonly #context: Pick<StoreContext, 'redis' | 'run' | 'key'>;

  constructor(context: Pick<StoreContext, 'redis' | 'run' | 'key'>) {
    this.#context = context;
  }

  async take(entry: string, mark: ReplayMark, ttlMs: number): Promise<boolean> {
    const { run, redis, key } = this.#context;
    const taken = await run(() =>
      redis.set(key('replayed', entry), JSON.stringify(mark), 'PX', wholeMs(ttlMs), 'NX'),
    );
    return taken === 'OK';
  }

  async update(entry: string, mark: ReplayMark): Promise<void> {
    const { run, redis, key } = this.#context;
    await run(() => redis.set(key('replayed', entry), JSON.stringify(mark), 'KEEPTTL', 'XX'));
  }

  async release(entry: string): Promise<void> {
    const { run, redis, key } = this.#context;
    await run(() => redis.del(key('replayed', entry)));
  }

  async marks(entries: readonly string[]): Promise<Map<string, ReplayMark>> {
    const found = new Map<string, ReplayMark>();
    if (entries.length === 0) return found;
    const { run, redis, key } = this.#context;
    // Each key alone (not one MGET): in a Redis Cluster the keys sit in different slots.
    const values = await run(() =>
      Promise.all(entries.map((entry) => redis.get(key('replayed', entry)))),
    );
    entries.forEach((entry, index) => {
      const mark = parseMark(values[index]);
      if (mark !== null) found.set(entry, mark);
    });
    return found;
  }
}

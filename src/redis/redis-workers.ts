import { YadtqError } from '../core/errors.ts';
import type { WorkerInfo, WorkerRegistry } from '../core/store.ts';
import type { Watchdog, WatchdogConfig, WatchdogStore } from '../core/worker/watchdog.ts';
import { wholeMs } from './redis-monitor.ts';
import { startRedisWatchdog } from './redis-watchdog.ts';
import type { StoreContext } from './scripts.ts';

/**
 * The Redis {@link WorkerRegistry}, built by `RedisStores` on its shared connection: each worker's
 * heartbeat key `<prefix>worker:<id>` (TTL: alive while it exists) and the hash
 * `<prefix>workers` of every worker's last published info, alive or dead (dead ones are
 * dropped after the retention).
 */
export class RedisWorkers implements WorkerRegistry, WatchdogStore {
  readonly #context: StoreContext;

  constructor(context: StoreContext) {
    this.#context = context;
  }

  /** @throws YadtqError WORKER_ID_IN_USE while the id's heartbeat is alive. */
  async register(info: WorkerInfo, ttlMs: number): Promise<void> {
    const { run, scripts, key } = this.#context;
    const [registered, pttl] = await run(() =>
      scripts.yadtqRegisterWorker(
        key('worker', info.id),
        key('workers'),
        info.id,
        workerJson(info),
        wholeMs(ttlMs),
      ),
    );
    if (registered === 1) return;
    const expiry = pttl >= 0 ? `it expires in ${pttl} ms unless refreshed` : 'it has no expiry';
    throw new YadtqError(
      'WORKER_ID_IN_USE',
      `worker id "${info.id}" is in use: its heartbeat is alive (${expiry}); ` +
        'stop that worker or choose another id',
    );
  }

  /** Beats from a worker thread with a connection of its own (see `WatchdogStore`). */
  startWatchdog(config: WatchdogConfig): Watchdog | undefined {
    const { options, key } = this.#context;
    const keys = { heartbeatKey: key('worker', config.info.id), workersKey: key('workers') };
    return startRedisWatchdog(options, keys, config);
  }

  async heartbeat(info: WorkerInfo, ttlMs: number): Promise<void> {
    const { run, scripts, key } = this.#context;
    await run(() =>
      scripts.yadtqHeartbeat(
        key('worker', info.id),
        key('workers'),
        info.id,
        workerJson(info),
        wholeMs(ttlMs),
      ),
    );
  }

  async deregister(id: string): Promise<void> {
    const { run, redis, key } = this.#context;
    await run(() => redis.del(key('worker', id)));
  }

  /** Every listed worker, newest heartbeat first; unreadable and long-dead entries are dropped. */
  async list(): Promise<WorkerInfo[]> {
    const { run, redis, key, options } = this.#context;
    const workersKey = key('workers');
    const entries = await run(() => redis.hgetall(workersKey));
    const ids = Object.keys(entries);
    const alive = await run(() => Promise.all(ids.map((id) => redis.exists(key('worker', id)))));
    const oldest = Date.now() - options.retentionMs;
    const listed: WorkerInfo[] = [];
    const stale: string[] = [];
    ids.forEach((id, index) => {
      const info = parseWorker(entries[id]!);
      const isAlive = alive[index] === 1;
      if (info === null || (!isAlive && info.lastHeartbeat < oldest)) stale.push(id);
      else listed.push({ ...info, alive: isAlive });
    });
    if (stale.length > 0) await run(() => redis.hdel(workersKey, ...stale));
    return listed.sort((a, b) => b.lastHeartbeat - a.lastHeartbeat);
  }
}

function workerJson(info: WorkerInfo): string {
  const { alive: _alive, ...stored } = info;
  return JSON.stringify(stored);
}

function parseWorker(json: string): WorkerInfo | null {
  try {
    const info = JSON.parse(json) as WorkerInfo;
    return typeof info?.id === 'string' && typeof info.lastHeartbeat === 'number' ? info : null;
  } catch {
    return null;
  }
}

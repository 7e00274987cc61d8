import { YadtqError } from '../core/errors.ts';
import type { WorkerInfo, WorkerRegistry } from '../core/store.ts';
import { ExpiringMap } from './expiring-map.ts';

/** The memory store's worker registry: heartbeats with their TTL, and what each published. */
export class MemoryWorkers implements WorkerRegistry {
  readonly #heartbeats = new ExpiringMap<WorkerInfo>();
  readonly #workers = new Map<string, WorkerInfo>();

  /** Whether the worker's heartbeat is alive. */
  alive(id: string): boolean {
    return this.#heartbeats.get(id) !== undefined;
  }

  async register(info: WorkerInfo, ttlMs: number): Promise<void> {
    if (this.alive(info.id)) {
      throw new YadtqError(
        'WORKER_ID_IN_USE',
        `worker id "${info.id}" is in use: its heartbeat is alive`,
      );
    }
    await this.heartbeat(info, ttlMs);
  }

  async heartbeat(info: WorkerInfo, ttlMs: number): Promise<void> {
    const copy = structuredClone(info);
    this.#heartbeats.set(info.id, copy, ttlMs);
    this.#workers.set(info.id, copy);
  }

  async deregister(id: string): Promise<void> {
    this.#heartbeats.delete(id);
  }

  async list(): Promise<WorkerInfo[]> {
    return [...this.#workers.values()]
      .map((info) => ({ ...structuredClone(info), alive: this.alive(info.id) }))
      .sort((a, b) => b.lastHeartbeat - a.lastHeartbeat);
  }

  /** Drops expired heartbeats. */
  sweep(): void {
    this.#heartbeats.sweep();
  }
}

import type { WorkerInfo } from '../store.ts';

/** What a store needs to beat for a worker from a thread of its own. */
export interface WatchdogConfig {
  /** The info first published; later ones come through {@link Watchdog.publish}. */
  info: WorkerInfo;
  intervalMs: number;
  ttlMs: number;
  /** A `LoopClock` buffer the main loop keeps current. */
  clock: SharedArrayBuffer;
  /** Told (on the main loop) of each beat: answered, or failed with this error text. */
  onBeat(error?: string): void;
  /** Called (on the main loop) if the watchdog thread fails and beats no more. */
  onFailure(error: Error): void;
}

/** A running watchdog: beats every interval while the main loop is alive or merely busy. */
export interface Watchdog {
  /** The counters the next beats carry (sent from the main loop whenever it runs). */
  publish(info: WorkerInfo): void;
  stop(): Promise<void>;
}

/**
 * A store that can keep a worker's heartbeat off the main event loop (Redis does, on a
 * connection of its own in a worker thread; the memory store has no one else to tell).
 * The watchdog beats while the main loop runs or a handler keeps it busy within its time
 * limit; once the loop has been stuck past the `LoopClock` limit, it deletes the heartbeat
 * key and ends the process (a supervisor restarts it), so the reaper recovers its tasks.
 */
export interface WatchdogStore {
  /** Starts one, or returns undefined when this store cannot (the caller beats in-loop). */
  startWatchdog(config: WatchdogConfig): Watchdog | undefined;
}

/** True when `store` offers {@link WatchdogStore.startWatchdog}. */
export function offersWatchdog(store: object): store is WatchdogStore {
  return typeof (store as Partial<WatchdogStore>).startWatchdog === 'function';
}

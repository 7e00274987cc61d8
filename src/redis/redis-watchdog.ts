import { once } from 'node:events';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WorkerInfo } from '../core/store.ts';
import type { Watchdog, WatchdogConfig } from '../core/worker/watchdog.ts';
import type { ResolvedRedisStoreOptions } from './options.ts';

// The thread's file has this file's extension: .ts when run from source, .js when built.
const THREAD = new URL(
  `./watchdog-thread${extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);

/** What the watchdog thread is started with (`workerData`). */
export interface WatchdogThreadData {
  url: string;
  redis: ResolvedRedisStoreOptions['redis'];
  connectTimeoutMs: number;
  heartbeatKey: string;
  workersKey: string;
  info: WorkerInfo;
  intervalMs: number;
  ttlMs: number;
  clock: SharedArrayBuffer;
}

/** Messages from the main loop to the watchdog thread. */
export type WatchdogMessage = { type: 'info'; info: WorkerInfo } | { type: 'stop' };

/** What the watchdog thread tells the main loop: one beat's answer (or its error). */
export interface WatchdogBeat {
  type: 'beat';
  error?: string;
}

/**
 * Starts the Redis store's watchdog thread (`watchdog-thread.ts`), or returns undefined
 * when the store's connection cannot be opened again from another thread: a `client` the
 * caller passed in, or ioredis options that cannot be copied (functions, sockets).
 */
export function startRedisWatchdog(
  options: ResolvedRedisStoreOptions,
  keys: { heartbeatKey: string; workersKey: string },
  config: WatchdogConfig,
): Watchdog | undefined {
  if (options.client !== null) return undefined;
  const data: WatchdogThreadData = {
    url: options.url,
    redis: options.redis,
    connectTimeoutMs: options.connectTimeoutMs,
    ...keys,
    info: config.info,
    intervalMs: config.intervalMs,
    ttlMs: config.ttlMs,
    clock: config.clock,
  };
  let thread: Worker;
  try {
    thread = new Worker(THREAD, { workerData: data });
  } catch {
    return undefined;
  }
  // The watchdog never keeps the process alive on its own.
  thread.unref();
  let stopping = false;
  thread.on('message', (beat: WatchdogBeat) => config.onBeat(beat.error));
  thread.on('error', (error) => {
    if (!stopping) config.onFailure(error);
  });
  thread.on('exit', (code) => {
    if (!stopping) config.onFailure(new Error(`the watchdog thread exited (code ${code})`));
  });
  const send = (message: WatchdogMessage) => thread.postMessage(message);
  return {
    publish: (info) => send({ type: 'info', info }),
    async stop() {
      if (stopping) return;
      stopping = true;
      const exited = once(thread, 'exit');
      send({ type: 'stop' });
      const timer = setTimeout(() => void thread.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}

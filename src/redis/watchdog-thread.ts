// The Redis store's watchdog, in a worker thread with a connection of its own: it beats
// for the worker while the main event loop runs or is merely busy, and ends the process
// once the loop is hung (stuck past the LoopClock's limit). See WatchdogStore.
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { readLoopClock } from '../core/worker/loop-clock.ts';
import type { WatchdogBeat, WatchdogMessage, WatchdogThreadData } from './redis-watchdog.ts';
import { defineScripts } from './scripts.ts';

const data = workerData as WatchdogThreadData;
let info = data.info;
const redis = new Redis(data.url, {
  connectTimeout: data.connectTimeoutMs,
  ...data.redis,
  // A beat that cannot be sent now is worthless later: fail it, the next one follows.
  enableOfflineQueue: false,
  enableAutoPipelining: false,
});
redis.on('error', () => {});
const scripts = defineScripts(redis);
let beating = false;

function log(level: string, msg: string, fields: Record<string, unknown>): void {
  // Straight to fd 2: a worker thread's console is printed by the main loop, which is stuck.
  const line = { time: new Date().toISOString(), level, msg, workerId: info.id, ...fields };
  writeSync(2, `${JSON.stringify(line)}\n`);
}

async function endProcess(stalledMs: number): Promise<void> {
  clearInterval(timer);
  log('error', 'event loop hung past every running task time limit: ending the process', {
    stalledMs,
    inFlight: info.inFlight,
  });
  // Without the key the reaper recovers this worker's tasks now, not a TTL later.
  await Promise.race([redis.del(data.heartbeatKey), new Promise((r) => setTimeout(r, 1000))]).catch(
    () => {},
  );
  process.kill(process.pid, 'SIGKILL');
}

async function tick(): Promise<void> {
  const now = Date.now();
  const { tick: lastTick, limit } = readLoopClock(data.clock);
  if (now > limit) return endProcess(now - lastTick);
  if (beating) return;
  beating = true;
  try {
    const beat = { ...info, lastHeartbeat: now };
    await scripts.yadtqHeartbeat(
      data.heartbeatKey,
      data.workersKey,
      info.id,
      JSON.stringify(beat),
      data.ttlMs,
    );
    parentPort?.postMessage({ type: 'beat' } satisfies WatchdogBeat);
  } catch (error) {
    // The key's TTL, not one beat, decides whether the worker counts as alive.
    parentPort?.postMessage({ type: 'beat', error: String(error) } satisfies WatchdogBeat);
  } finally {
    beating = false;
  }
}

const timer = setInterval(() => void tick(), data.intervalMs);

parentPort?.on('message', async (message: WatchdogMessage) => {
  if (message.type === 'info') {
    info = message.info;
    return;
  }
  clearInterval(timer);
  await redis.quit().catch(() => redis.disconnect());
  process.exit(0);
});

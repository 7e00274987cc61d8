/** Slots of {@link LoopClock.buffer}, as a BigInt64Array. */
export const CLOCK_TICK = 0;
export const CLOCK_LIMIT = 1;

/**
 * What the main event loop tells a watchdog on another thread, through shared memory
 * that needs no message (a stuck loop sends none): when the loop last ran (`tick`), and
 * until when a stall is no sign of a hang (`limit`: the latest deadline of the in-loop
 * handlers running now, or the last tick, plus the margin). Past `limit`, even a handler
 * that blocks the loop should have timed out: the loop is hung.
 */
export class LoopClock {
  /** Two BigInt64 slots: {@link CLOCK_TICK} and {@link CLOCK_LIMIT}, ms since the epoch. */
  readonly buffer = new SharedArrayBuffer(16);
  readonly #slots = new BigInt64Array(this.buffer);
  readonly #marginMs: number;
  readonly #deadlines = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  /** @param marginMs how long past every deadline a stall still counts as a busy handler. */
  constructor(marginMs: number) {
    this.#marginMs = marginMs;
    this.tick();
  }

  /** Ticks every `everyMs` until {@link LoopClock.stop}. */
  start(everyMs: number): void {
    this.#timer = setInterval(() => this.tick(), everyMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** A handler that runs on this loop started, and must end within `timeoutMs`. */
  started(key: string, timeoutMs: number): void {
    this.#deadlines.set(key, Date.now() + timeoutMs);
    this.tick();
  }

  ended(key: string): void {
    this.#deadlines.delete(key);
  }

  /** The loop runs now. */
  tick(): void {
    const now = Date.now();
    let latest = now;
    for (const deadline of this.#deadlines.values()) latest = Math.max(latest, deadline);
    Atomics.store(this.#slots, CLOCK_TICK, BigInt(now));
    Atomics.store(this.#slots, CLOCK_LIMIT, BigInt(latest + this.#marginMs));
  }
}

/** Reads a {@link LoopClock}'s buffer from the watchdog's side. */
export function readLoopClock(buffer: SharedArrayBuffer): { tick: number; limit: number } {
  const slots = new BigInt64Array(buffer);
  return {
    tick: Number(Atomics.load(slots, CLOCK_TICK)),
    limit: Number(Atomics.load(slots, CLOCK_LIMIT)),
  };
}

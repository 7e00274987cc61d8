import { type PauseControl, pauseGroup } from '../core/pause.ts';
import type { StoreContext } from './scripts.ts';

/** Tasks offered per resume.lua call: a long pause's backlog does not block Redis. */
const RESUME_CHUNK = 1000;

/**
 * The Redis {@link PauseControl}: `<prefix>paused` (the paused names, no TTL) read by
 * claim.lua, and per name `<prefix>waiting:pause:<name>` (its parked tasks, in order).
 */
export class RedisPauses implements PauseControl {
  readonly #context: StoreContext;

  constructor(context: StoreContext) {
    this.#context = context;
  }

  async pause(name: string): Promise<boolean> {
    const { run, redis, key } = this.#context;
    return (await run(() => redis.sadd(key('paused'), name))) === 1;
  }

  async resume(name: string): Promise<number> {
    const { run, scripts, key, options } = this.#context;
    let offered = 0;
    for (;;) {
      const [count, left] = await run(() =>
        scripts.yadtqResume(
          key('paused'),
          key('waiting', pauseGroup(name)),
          options.prefix,
          name,
          RESUME_CHUNK,
        ),
      );
      offered += count;
      if (left === 0) return offered;
    }
  }

  async paused(): Promise<string[]> {
    const { run, redis, key } = this.#context;
    return (await run(() => redis.smembers(key('paused')))).sort();
  }
}

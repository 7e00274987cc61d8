import type { Redis } from 'ioredis';
import { YadtqError } from '../core/errors.ts';
import type { TaskRecord } from '../core/task-record.ts';
import { isTerminal } from '../core/task-record.ts';
import { closeConnection } from './connection.ts';
import { decodeRecordReply } from './record-codec.ts';

/** What {@link TaskEvents} needs from the store. */
export interface TaskEventsOptions {
  /**
   * The pub/sub channel that ended tasks are announced on: the id alone, or the id, a
   * newline and the record as a JSON array of field, value, … (see lua/lib/task.lua).
   */
  channel: string;
  /** The pub/sub channel that ids of running tasks to cancel are published on. */
  cancelChannel: string;
  /** The pub/sub channel that ids of parked tasks whose turn came are published on. */
  turnChannel: string;
  /** Opens the subscriber connection (a duplicate of the store's own). */
  connect: () => Redis;
  /** Runs a command once the connection is ready (the store's connection guard). */
  call: <T>(connection: Redis, command: () => Promise<T>) => Promise<T>;
  /** Reads a task record. */
  read: (id: string) => Promise<TaskRecord | null>;
}

interface Waiter {
  resolve: (record: TaskRecord) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** The longest delay `setTimeout` honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The store's pub/sub, on one subscriber connection opened on first use:
 * - waiting for tasks to finish: one subscription to the events channel, shared by every
 *   waiter; an announcement that carries the record settles them with no read, one with
 *   the id alone is read once, however many wait on it;
 * - cancel requests and lane turns: the cancel and turn channels, each subscribed while
 *   any listener of it is registered.
 */
export class TaskEvents {
  readonly #options: TaskEventsOptions;
  readonly #waiters = new Map<string, Set<Waiter>>();
  /** Per channel other than the events channel: its listeners. */
  readonly #listeners = new Map<string, Set<(id: string) => void>>();
  #subscriber: Redis | null = null;
  /** Per channel: the SUBSCRIBE in progress or done. */
  readonly #subscriptions = new Map<string, Promise<void>>();
  #closed = false;

  constructor(options: TaskEventsOptions) {
    this.#options = options;
  }

  /** Resolves with the record once terminal. @throws YadtqError WAIT_TIMEOUT, TASK_NOT_FOUND */
  waitFor(id: string, timeoutMs: number): Promise<TaskRecord> {
    return new Promise<TaskRecord>((resolve, reject) => {
      const delay = Math.min(Math.max(0, timeoutMs), MAX_TIMER_MS);
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#remove(id, waiter);
          reject(
            new YadtqError('WAIT_TIMEOUT', `task ${id} did not finish within ${timeoutMs} ms`),
          );
        }, delay),
      };
      const waiters = this.#waiters.get(id) ?? new Set();
      this.#waiters.set(id, waiters.add(waiter));
      // Subscribe before reading, so a finish between the two is seen by one or the other.
      this.#subscribe(this.#options.channel).then(
        () => this.#settle(id),
        (error: Error) => {
          clearTimeout(waiter.timer);
          this.#remove(id, waiter);
          reject(error);
        },
      );
    });
  }

  /**
   * Calls `listener` with each id published on the cancel channel, from when the returned
   * promise resolves; its result stops that. Messages published while the subscriber is
   * reconnecting are lost (pub/sub keeps nothing): the record's cancelRequested stays.
   */
  onCancel(listener: (id: string) => void): Promise<() => Promise<void>> {
    return this.#listen(this.#options.cancelChannel, listener);
  }

  /**
   * Calls `listener` with each id published on the turn channel, as {@link onCancel}. A
   * message lost while reconnecting is made up by the workers' poll of the recovering set.
   */
  onTurn(listener: (id: string) => void): Promise<() => Promise<void>> {
    return this.#listen(this.#options.turnChannel, listener);
  }

  async #listen(channel: string, listener: (id: string) => void): Promise<() => Promise<void>> {
    const wrapped = (id: string): void => listener(id);
    const listeners = this.#listeners.get(channel) ?? new Set();
    this.#listeners.set(channel, listeners.add(wrapped));
    try {
      await this.#subscribe(channel);
    } catch (error) {
      listeners.delete(wrapped);
      throw error;
    }
    return async () => {
      if (!listeners.delete(wrapped) || listeners.size > 0) return;
      const subscriber = this.#subscriber;
      if (this.#closed || subscriber === null || !this.#subscriptions.has(channel)) return;
      // Forgotten before UNSUBSCRIBE is sent: a new listener's SUBSCRIBE then follows it.
      this.#subscriptions.delete(channel);
      await this.#options.call(subscriber, () => subscriber.unsubscribe(channel)).catch(() => {});
    };
  }

  /** Rejects every waiter with `error` and closes the subscriber connection. */
  async close(error: Error): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    for (const waiters of this.#waiters.values()) {
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(error);
      }
    }
    this.#waiters.clear();
    if (this.#subscriber !== null) await closeConnection(this.#subscriber);
  }

  /** Subscribes to `channel` once; concurrent and later callers share the SUBSCRIBE. */
  #subscribe(channel: string): Promise<void> {
    const existing = this.#subscriptions.get(channel);
    if (existing !== undefined) return existing;
    const subscriber = this.#connection();
    const subscribed = this.#options
      .call(subscriber, () => subscriber.subscribe(channel))
      .then(
        () => {},
        (error: unknown) => {
          // Forget the failed connection: the next caller tries afresh.
          if (this.#subscriptions.get(channel) === subscribed) this.#subscriptions.delete(channel);
          if (this.#subscriber === subscriber) {
            this.#subscriber = null;
            this.#subscriptions.clear();
            subscriber.disconnect();
          }
          throw error;
        },
      );
    this.#subscriptions.set(channel, subscribed);
    return subscribed;
  }

  /** The subscriber connection, opened on first use. */
  #connection(): Redis {
    if (this.#subscriber !== null) return this.#subscriber;
    const subscriber = this.#options.connect();
    subscriber.on('message', (channel: string, message: string) => {
      const listeners = this.#listeners.get(channel);
      if (listeners !== undefined) {
        for (const listener of [...listeners]) {
          try {
            listener(message);
          } catch {
            // A listener's failure is its own: the others still hear, the connection lives.
          }
        }
        return;
      }
      const newline = message.indexOf('\n');
      const id = newline === -1 ? message : message.slice(0, newline);
      if (!this.#waiters.has(id)) return;
      const record = newline === -1 ? null : announcedRecord(message.slice(newline + 1), id);
      if (record !== null) this.#deliver(id, record);
      else void this.#settle(id);
    });
    subscriber.on('ready', () => {
      // After a reconnect ioredis resubscribes right after 'ready'; the PING answers once
      // that took effect, and reading then catches finishes announced while disconnected.
      process.nextTick(() => {
        subscriber.ping().then(
          () => {
            for (const id of this.#waiters.keys()) void this.#settle(id);
          },
          () => {},
        );
      });
    });
    this.#subscriber = subscriber;
    return subscriber;
  }

  /** Reads the record and hands it to every waiter of `id` once it is terminal. */
  async #settle(id: string): Promise<void> {
    let outcome: TaskRecord | Error;
    try {
      const record = await this.#options.read(id);
      if (record !== null && !isTerminal(record.status)) return;
      outcome =
        record ??
        new YadtqError('TASK_NOT_FOUND', `task ${id} is not known (or its record has expired)`);
    } catch (error) {
      outcome = error as Error;
    }
    this.#deliver(id, outcome);
  }

  /** Hands `outcome` to every waiter of `id`. */
  #deliver(id: string, outcome: TaskRecord | Error): void {
    const waiters = this.#waiters.get(id);
    if (waiters === undefined) return;
    this.#waiters.delete(id);
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      if (outcome instanceof Error) waiter.reject(outcome);
      else waiter.resolve(outcome);
    }
  }

  #remove(id: string, waiter: Waiter): void {
    const waiters = this.#waiters.get(id);
    waiters?.delete(waiter);
    if (waiters?.size === 0) this.#waiters.delete(id);
  }
}

/** The terminal record an announcement carries; null when it is not one (then read it). */
function announcedRecord(json: string, id: string): TaskRecord | null {
  try {
    const fields: unknown = JSON.parse(json);
    if (!Array.isArray(fields)) return null;
    const record = decodeRecordReply(fields as string[]);
    return record !== null && record.id === id && isTerminal(record.status) ? record : null;
  } catch {
    return null;
  }
}

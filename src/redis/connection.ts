import type { Redis } from 'ioredis';
import type { YadtqError } from '../core/errors.ts';

const pendingReady = new WeakMap<Redis, Promise<void>>();

/**
 * Resolves once `connection` is ready; rejects with `unavailable()` after `timeoutMs`, or
 * when the connection ends. ioredis would otherwise queue commands offline for ever.
 * Concurrent callers share one wait, so thousands of them add one listener, not thousands.
 */
export function whenReady(
  connection: Redis,
  timeoutMs: number,
  unavailable: () => YadtqError,
): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  let pending = pendingReady.get(connection);
  if (pending !== undefined) return pending;
  if (connection.status === 'end') return Promise.reject(unavailable());
  pending = new Promise<void>((resolve, reject) => {
    const settle = (error?: YadtqError): void => {
      clearTimeout(timer);
      connection.off('ready', onReady);
      connection.off('end', onEnd);
      pendingReady.delete(connection);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onReady = (): void => settle();
    const onEnd = (): void => settle(unavailable());
    const timer = setTimeout(() => settle(unavailable()), timeoutMs);
    connection.once('ready', onReady);
    connection.once('end', onEnd);
  });
  pendingReady.set(connection, pending);
  if (connection.status === 'wait') connection.connect().catch(() => {});
  return pending;
}

/** Quits politely when connected; otherwise stops the reconnect loop at once. */
export async function closeConnection(connection: Redis): Promise<void> {
  if (connection.status === 'ready') {
    await connection.quit().catch(() => connection.disconnect());
  } else {
    connection.disconnect();
  }
}

/** The URL without its password, for error messages. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

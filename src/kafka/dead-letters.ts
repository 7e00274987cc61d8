import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import type { StoredMessage } from '../core/broker.ts';
import type { YadtqError } from '../core/errors.ts';
import {
  clientOptions,
  READ_ATTEMPTS,
  READ_CLIENT_RETRIES,
  toYadtqError,
  withDeadline,
} from './client.ts';
import type { ResolvedKafkaBrokerOptions } from './options.ts';

/**
 * Reads the newest `limit` messages of `<topic>.dlq`: its end offsets first, then
 * everything below them from the earliest offset, through a throwaway consumer group
 * that commits nothing. A retriable failure (a leader lost with its broker) is tried again
 * with a new reader, {@link READ_ATTEMPTS} times in all.
 */
export async function readDeadLetters(
  options: ResolvedKafkaBrokerOptions,
  topic: string,
  limit: number,
): Promise<StoredMessage[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readOnce(options, topic, limit);
    } catch (error) {
      // A leader lost with its broker: a new reader asks again where the partitions are.
      if (attempt >= READ_ATTEMPTS || !(error as YadtqError).retriable) throw error;
      await sleep(250 * attempt);
    }
  }
}

async function readOnce(
  options: ResolvedKafkaBrokerOptions,
  topic: string,
  limit: number,
): Promise<StoredMessage[]> {
  const consumer = new Consumer<string, string, string, string>({
    ...clientOptions(options, `${options.clientId}-dlq-reader`),
    retries: READ_CLIENT_RETRIES,
    groupId: `${options.groupId}.dlq-reader.${process.pid}.${Date.now()}`,
    deserializers: stringDeserializers,
    autocommit: false,
    maxWaitTime: 200,
  });
  const what = `cannot read ${topic} at ${options.brokers.join(',')}`;
  try {
    const ends = await withDeadline(
      consumer.listOffsets({ topics: [topic] }),
      options.connectTimeoutMs,
      what,
      () => {},
    );
    const remaining = new Map<number, bigint>();
    for (const [partition, end] of (ends.get(topic) ?? []).entries())
      if (end > 0n) remaining.set(partition, end);
    const found: StoredMessage[] = [];
    if (remaining.size === 0) return found;
    const stream = await withDeadline(
      consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false }),
      options.connectTimeoutMs,
      what,
      () => {},
    );
    for await (const message of stream) {
      const end = remaining.get(message.partition);
      if (end === undefined || message.offset >= end) continue;
      found.push({
        key: message.key ?? '',
        value: message.value ?? '',
        headers: Object.fromEntries(message.headers ?? []),
        partition: message.partition,
        offset: Number(message.offset),
        timestamp: Number(message.timestamp),
      });
      if (message.offset + 1n >= end) remaining.delete(message.partition);
      if (remaining.size === 0) break;
    }
    found.sort(
      (a, b) =>
        (a.timestamp ?? 0) - (b.timestamp ?? 0) || a.partition - b.partition || a.offset - b.offset,
    );
    return found.slice(-limit);
  } catch (error) {
    throw toYadtqError(error, what);
  } finally {
    await consumer.close(true).catch(() => {});
  }
}

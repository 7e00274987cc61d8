import { type Admin, Consumer, stringDeserializers } from '@platformatic/kafka';
import { clientOptions } from './client.ts';
import type { ResolvedKafkaBrokerOptions } from './options.ts';

/** How long a record's timestamp is reused before the record at a new offset is read. */
const REFRESH_MS = 5000;
/** Bytes one read may return (Kafka still returns the whole batch holding the offset). */
const READ_MAX_BYTES = 64 * 1024;

interface Seen {
  offset: number;
  timestamp: number;
  readAt: number;
}

/**
 * Reads the append time of the record at a partition's committed offset (the oldest one
 * the group has not taken up) with one Fetch of that offset, without joining any group.
 * A timestamp is kept while the offset stays, and for up to {@link REFRESH_MS} after it
 * moved (an age read then errs on the old side), so a dashboard polling every second
 * costs a fetch per partition every few seconds at most.
 */
export class RecordAges {
  readonly #options: ResolvedKafkaBrokerOptions;
  readonly #seen = new Map<number, Seen>();
  #consumer: Consumer<string, string, string, string> | undefined;

  constructor(options: ResolvedKafkaBrokerOptions) {
    this.#options = options;
  }

  /**
   * The append time (ms since the epoch) of the record at `offset` of each partition given;
   * partitions whose record cannot be read are left out.
   */
  async timestamps(
    admin: Admin,
    topic: string,
    offsets: ReadonlyMap<number, number>,
    now: number,
  ): Promise<Map<number, number>> {
    const found = new Map<number, number>();
    const toRead: number[] = [];
    for (const [partition, offset] of offsets) {
      const seen = this.#seen.get(partition);
      if (seen !== undefined && (seen.offset === offset || now - seen.readAt < REFRESH_MS)) {
        found.set(partition, seen.timestamp);
      } else toRead.push(partition);
    }
    for (const partition of this.#seen.keys())
      if (!offsets.has(partition)) this.#seen.delete(partition);
    if (toRead.length === 0) return found;
    const metadata = await admin.metadata({ topics: [topic] });
    const info = metadata.topics.get(topic);
    if (info === undefined) return found;
    this.#consumer ??= new Consumer<string, string, string, string>({
      ...clientOptions(this.#options, `${this.#options.clientId}-record-age`),
      groupId: `${this.#options.groupId}-record-age`,
      deserializers: stringDeserializers,
      autocommit: false,
    });
    const consumer = this.#consumer;
    await Promise.all(
      toRead.map(async (partition) => {
        const leader = info.partitions[partition]?.leader;
        const offset = offsets.get(partition)!;
        if (leader === undefined || leader < 0) return;
        const response = await consumer.fetch({
          node: leader,
          maxWaitTime: 0,
          minBytes: 1,
          maxBytes: READ_MAX_BYTES,
          topics: [
            {
              topicId: info.id,
              partitions: [
                {
                  partition,
                  fetchOffset: BigInt(offset),
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                  partitionMaxBytes: READ_MAX_BYTES,
                },
              ],
            },
          ],
        });
        const timestamp = recordTimestamp(response.responses, offset);
        if (timestamp === undefined) return;
        this.#seen.set(partition, { offset, timestamp, readAt: now });
        found.set(partition, timestamp);
      }),
    );
    return found;
  }

  async close(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    this.#seen.clear();
    await consumer?.close(true).catch(() => {});
  }
}

type FetchResponses = Awaited<ReturnType<Consumer['fetch']>>['responses'];

/** The timestamp of the first record at or after `offset` in a fetch response. */
function recordTimestamp(responses: FetchResponses, offset: number): number | undefined {
  for (const topic of responses) {
    for (const partition of topic.partitions) {
      for (const batch of partition.records ?? []) {
        for (const record of batch.records) {
          if (Number(batch.firstOffset) + record.offsetDelta >= offset) {
            return Number(batch.firstTimestamp + record.timestampDelta);
          }
        }
      }
    }
  }
  return undefined;
}

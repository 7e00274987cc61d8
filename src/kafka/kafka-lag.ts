import { Admin } from '@platformatic/kafka';
import { DEFAULTS } from '../core/defaults.ts';
import { type LagSnapshot, nearRetention, type PartitionLag } from '../core/stats.ts';
import { clientOptions, toYadtqError, withDeadline } from './client.ts';
import {
  type KafkaBrokerOptions,
  type ResolvedKafkaBrokerOptions,
  resolveKafkaBrokerOptions,
} from './options.ts';
import { RecordAges } from './record-age.ts';
import { readRetentionMs } from './topic-retention.ts';

/** How long the topic's retention, once read, is taken as it is. */
const RETENTION_REFRESH_MS = 60_000;

/** ListOffsets timestamps that ask for the log end and the log start offset. */
const LATEST = -1n;
const EARLIEST = -2n;

/**
 * Consumer lag of the task topic for the workers' group, read with the Kafka admin API:
 * log end offsets (ListOffsets), the group's committed offsets (OffsetFetch), and which
 * member owns each partition (DescribeGroups; a worker's consumer client id is its id).
 * With it, the topic's retention (DescribeConfigs) and the age of the oldest record not
 * yet taken up in each partition ({@link RecordAges}).
 */
export class KafkaLag {
  readonly #options: ResolvedKafkaBrokerOptions;
  readonly #ages: RecordAges;
  #admin: Admin | undefined;
  #retention: { ms: number | null; readAt: number } | undefined;

  /** @throws YadtqError INVALID_OPTION naming the first bad option. */
  constructor(options: KafkaBrokerOptions = {}) {
    this.#options = resolveKafkaBrokerOptions(options);
    this.#ages = new RecordAges(this.#options);
  }

  /** @throws YadtqError BROKER_UNAVAILABLE */
  async lag(): Promise<LagSnapshot> {
    const { topic, groupId, connectTimeoutMs, brokers, clientId } = this.#options;
    this.#admin ??= new Admin(clientOptions(this.#options, `${clientId}-lag`));
    const admin = this.#admin;
    const what = `cannot read the consumer lag of group "${groupId}" at ${brokers.join(',')}`;
    try {
      return await withDeadline(this.#read(admin, topic, groupId), connectTimeoutMs, what, () =>
        this.close(),
      );
    } catch (error) {
      throw toYadtqError(error, what);
    }
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    await Promise.all([admin?.close().catch(() => {}), this.#ages.close()]);
  }

  async #read(admin: Admin, topic: string, groupId: string): Promise<LagSnapshot> {
    // Asking for the metadata of a topic that does not exist yet retries until the deadline.
    if (!(await admin.listTopics()).includes(topic)) {
      return { topic, group: groupId, partitions: [], total: 0 };
    }
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    const partitions = Array.from({ length: count }, (_, p) => p);
    const offsetsAt = async (timestamp: bigint) => {
      const listed = await admin.listOffsets({
        topics: [
          { name: topic, partitions: partitions.map((p) => ({ partitionIndex: p, timestamp })) },
        ],
      });
      const byPartition = new Map<number, number>();
      for (const t of listed)
        for (const p of t.partitions) byPartition.set(p.partitionIndex, Number(p.offset));
      return byPartition;
    };
    const [ends, starts, committedGroups, groups] = await Promise.all([
      offsetsAt(LATEST),
      offsetsAt(EARLIEST),
      admin.listConsumerGroupOffsets({
        groups: [{ groupId, topics: [{ name: topic, partitionIndexes: partitions }] }],
      }),
      admin.describeGroups({ groups: [groupId] }),
    ]);
    const committed = new Map<number, number>();
    for (const group of committedGroups)
      for (const t of group.topics)
        for (const p of t.partitions)
          if (t.name === topic && p.committedOffset >= 0n)
            committed.set(p.partitionIndex, Number(p.committedOffset));
    const owners = new Map<number, string>();
    for (const member of groups.get(groupId)?.members.values() ?? []) {
      for (const p of member.assignments?.get(topic)?.partitions ?? [])
        owners.set(p, member.clientId);
    }
    const waiting = new Map<number, number>();
    for (const partition of partitions) {
      const end = ends.get(partition) ?? 0;
      // A committed offset below the log start was deleted already: the oldest left counts.
      const from = Math.max(committed.get(partition) ?? 0, starts.get(partition) ?? 0);
      if (end > from) waiting.set(partition, from);
    }
    const now = Date.now();
    const [retentionMs, timestamps] = await Promise.all([
      // Neither may cost the lag itself (a broker may refuse DescribeConfigs to this user).
      this.#retentionMs(admin, topic, now).catch(() => null),
      this.#ages.timestamps(admin, topic, waiting, now).catch(() => new Map<number, number>()),
    ]);
    const rows: PartitionLag[] = partitions.map((partition) => {
      const endOffset = ends.get(partition) ?? 0;
      const committedOffset = committed.get(partition) ?? null;
      const from = committedOffset ?? starts.get(partition) ?? 0;
      const timestamp = timestamps.get(partition);
      const oldestAgeMs = timestamp === undefined ? null : Math.max(0, now - timestamp);
      return {
        partition,
        endOffset,
        committedOffset,
        lag: Math.max(0, endOffset - from),
        owner: owners.get(partition) ?? null,
        oldestAgeMs,
        nearRetention: nearRetention(oldestAgeMs, retentionMs, DEFAULTS.retentionWarningRatio),
      };
    });
    return {
      topic,
      group: groupId,
      partitions: rows,
      total: rows.reduce((sum, row) => sum + row.lag, 0),
      retentionMs,
    };
  }

  async #retentionMs(admin: Admin, topic: string, now: number): Promise<number | null> {
    if (this.#retention === undefined || now - this.#retention.readAt > RETENTION_REFRESH_MS) {
      this.#retention = { ms: await readRetentionMs(admin, topic), readAt: now };
    }
    return this.#retention.ms;
  }
}

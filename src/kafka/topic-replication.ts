import { type Admin, ConfigResourceTypes } from '@platformatic/kafka';
import type { ResolvedKafkaBrokerOptions } from './options.ts';

/** How many replicas yadtq creates its topics with, `'auto'` resolved for one cluster. */
export interface TopicReplication {
  replicationFactor: number;
  /** The topics' `min.insync.replicas`; undefined leaves the broker's default. */
  minInSyncReplicas: number | undefined;
}

/** Replicas `'auto'` asks for on a cluster of two or more brokers. */
const CLUSTER_REPLICAS = 3;
/** `min.insync.replicas` `'auto'` asks for once there are this many replicas or more. */
const CLUSTER_MIN_INSYNC = 2;

/** The replication of the options on a cluster that reports `liveBrokers` brokers. */
export function replicationFor(
  options: Pick<ResolvedKafkaBrokerOptions, 'replicationFactor' | 'minInSyncReplicas'>,
  liveBrokers: number,
): TopicReplication {
  const replicationFactor =
    options.replicationFactor === 'auto'
      ? liveBrokers >= 2
        ? CLUSTER_REPLICAS
        : 1
      : options.replicationFactor;
  const minInSyncReplicas =
    options.minInSyncReplicas === 'auto'
      ? replicationFactor >= CLUSTER_REPLICAS
        ? CLUSTER_MIN_INSYNC
        : undefined
      : options.minInSyncReplicas;
  return { replicationFactor, minInSyncReplicas };
}

/** The topic configs a topic is created with for `replication` (for createTopics). */
export function topicConfigs(replication: TopicReplication): { name: string; value: string }[] {
  return replication.minInSyncReplicas === undefined
    ? []
    : [{ name: 'min.insync.replicas', value: String(replication.minInSyncReplicas) }];
}

/**
 * What the cluster has for `topics` that falls short of `replication`, one sentence each:
 * a topic created earlier with fewer replicas or a lower `min.insync.replicas`, and
 * partitions with fewer in-sync replicas than their `min.insync.replicas` (produces to
 * them are refused until their brokers are back) or no leader at all.
 */
export async function replicationShortfalls(
  admin: Admin,
  topics: readonly string[],
  replication: TopicReplication,
): Promise<string[]> {
  const [metadata, described] = await Promise.all([
    admin.metadata({ topics: [...topics], forceUpdate: true }),
    admin.describeConfigs({
      resources: topics.map((resourceName) => ({
        resourceType: ConfigResourceTypes.TOPIC,
        resourceName,
        configurationKeys: ['min.insync.replicas'],
      })),
    }),
  ]);
  const minIsr = new Map<string, number>();
  for (const { resourceName, configs } of described) {
    const value = Number(configs.find((c) => c.name === 'min.insync.replicas')?.value);
    if (Number.isSafeInteger(value) && value > 0) minIsr.set(resourceName, value);
  }
  const found: string[] = [];
  for (const topic of topics) {
    const partitions = metadata.topics.get(topic)?.partitions ?? [];
    const replicas = Math.min(...partitions.map((p) => p.replicas.length));
    if (partitions.length > 0 && replicas < replication.replicationFactor) {
      found.push(
        `topic "${topic}" has ${replicas} replica(s) per partition, fewer than the ${replication.replicationFactor} asked for (it was created before): a broker lost can lose its messages`,
      );
    }
    const wanted = replication.minInSyncReplicas;
    const actual = minIsr.get(topic) ?? 1;
    if (wanted !== undefined && actual < wanted) {
      found.push(
        `topic "${topic}" has min.insync.replicas=${actual}, below the ${wanted} asked for: a produce is acknowledged by fewer replicas`,
      );
    }
    const leaderless = partitions.flatMap((p, i) => (p.leader < 0 ? [i] : []));
    if (leaderless.length > 0) {
      found.push(
        `topic "${topic}": partition(s) ${leaderless.join(', ')} have no leader: their brokers are down`,
      );
    }
    const short = partitions.flatMap((p, i) => (p.leader >= 0 && p.isr.length < actual ? [i] : []));
    if (short.length > 0) {
      found.push(
        `topic "${topic}": partition(s) ${short.join(', ')} have fewer in-sync replicas than min.insync.replicas=${actual}: produces to them are refused (retriable) until their brokers are back`,
      );
    }
  }
  return found;
}

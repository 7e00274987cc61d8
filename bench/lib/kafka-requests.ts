import { channel } from 'node:diagnostics_channel';

const KAFKA_APIS: Record<number, string> = {
  0: 'Produce',
  1: 'Fetch',
  2: 'ListOffsets',
  3: 'Metadata',
  8: 'OffsetCommit',
  9: 'OffsetFetch',
  10: 'FindCoordinator',
  11: 'JoinGroup',
  12: 'Heartbeat',
  13: 'LeaveGroup',
  14: 'SyncGroup',
  18: 'ApiVersions',
  19: 'CreateTopics',
  22: 'InitProducerId',
};

/**
 * Counts the Kafka requests this process sends, by API name, from the diagnostics channel
 * @platformatic/kafka publishes every request on.
 */
export function countKafkaRequests(): Record<string, number> {
  const counts: Record<string, number> = {};
  channel('tracing:plt:kafka:connections:api:start').subscribe((message) => {
    const key = (message as { apiKey?: number }).apiKey ?? -1;
    const name = KAFKA_APIS[key] ?? `api${key}`;
    counts[name] = (counts[name] ?? 0) + 1;
  });
  return counts;
}

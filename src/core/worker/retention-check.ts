import type { Broker } from '../broker.ts';
import type { Logger } from '../logger.ts';

/**
 * Warns when the task topic keeps messages for less time than this client creates it
 * with (the pending TTL by default): a topic made earlier, by hand, or with the broker's
 * default deletes a backlog older than that without a word. Never fails the start.
 */
export async function checkTopicRetention(
  broker: Pick<Broker, 'topicRetention'>,
  logger: Logger,
  workerId: string,
): Promise<void> {
  if (broker.topicRetention === undefined) return;
  try {
    const { topic, retentionMs, wantedMs } = await broker.topicRetention();
    if (retentionMs === null || (wantedMs !== null && retentionMs >= wantedMs)) return;
    logger.warn('the task topic keeps messages for less than the pending TTL', {
      workerId,
      topic,
      retentionMs,
      wantedMs,
      consequence: `tasks waiting longer than ${retentionMs} ms are deleted by Kafka unrun`,
      fix: `kafka-configs --alter --entity-type topics --entity-name ${topic} --add-config retention.ms=${wantedMs ?? -1}`,
    });
  } catch (error) {
    logger.warn('could not read the task topic retention', { workerId, error: String(error) });
  }
}

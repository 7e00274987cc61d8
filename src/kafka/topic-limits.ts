import { type Admin, ConfigResourceTypes } from '@platformatic/kafka';

/** Kafka's default `max.message.bytes` of a topic (1 MiB plus the batch overhead). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * Each topic's `max.message.bytes`: the largest record batch the broker accepts for it.
 * A topic whose value cannot be read gets Kafka's default.
 */
export async function readMaxMessageBytes(
  admin: Admin,
  topics: readonly string[],
): Promise<Map<string, number>> {
  const described = await admin.describeConfigs({
    resources: topics.map((resourceName) => ({
      resourceType: ConfigResourceTypes.TOPIC,
      resourceName,
      configurationKeys: ['max.message.bytes'],
    })),
  });
  const limits = new Map<string, number>();
  for (const topic of topics) limits.set(topic, DEFAULT_MAX_MESSAGE_BYTES);
  for (const { resourceName, configs } of described) {
    const value = Number(configs.find((c) => c.name === 'max.message.bytes')?.value);
    if (Number.isSafeInteger(value) && value > 0) limits.set(resourceName, value);
  }
  return limits;
}

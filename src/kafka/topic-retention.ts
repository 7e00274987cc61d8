import { type Admin, ConfigResourceTypes } from '@platformatic/kafka';

/** The `retention.ms` of `topic` as the broker has it (ms); null when unlimited (-1). */
export async function readRetentionMs(admin: Admin, topic: string): Promise<number | null> {
  const described = await admin.describeConfigs({
    resources: [
      {
        resourceType: ConfigResourceTypes.TOPIC,
        resourceName: topic,
        configurationKeys: ['retention.ms'],
      },
    ],
  });
  const value = described[0]?.configs.find((c) => c.name === 'retention.ms')?.value;
  const ms = Number(value);
  return value == null || !Number.isFinite(ms) || ms < 0 ? null : ms;
}

/** The topic config yadtq creates the task topic with. */
export function retentionConfig(retentionMs: number): { name: string; value: string } {
  return { name: 'retention.ms', value: String(retentionMs) };
}

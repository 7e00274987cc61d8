// The chaos run's one broker restart: a controlled stop and start of a single broker, or,
// on a cluster, a SIGKILL of the broker leading most task partitions, brought back with
// its data after `brokerDownMs`.
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import type { LocalKafka } from '../scripts/services/index.ts';
import type { BrokerRestart } from './report.ts';

/**
 * Restarts the broker (see above); `t0` is the chaos phase's start, which the returned
 * times are relative to.
 */
export async function restartBroker(options: {
  kafka: LocalKafka;
  brokers: string;
  topic: string;
  brokerDownMs: number;
  t0: number;
  log: (line: string) => void;
}): Promise<BrokerRestart> {
  const { kafka, t0, log } = options;
  let killedBroker: number | null = null;
  let stoppedAt: number;
  if (kafka.count > 1) {
    killedBroker = await leaderOfMost(options.brokers, options.topic);
    stoppedAt = Date.now();
    log(`+${stoppedAt - t0} ms: SIGKILL Kafka broker ${killedBroker} of ${kafka.count}`);
    await kafka.kill(killedBroker);
    await sleep(options.brokerDownMs);
  } else {
    stoppedAt = Date.now();
    log(`+${stoppedAt - t0} ms: stopping the Kafka broker`);
    await kafka.stop();
  }
  await kafka.start(true);
  const backAt = Date.now();
  log(`+${backAt - t0} ms: the Kafka broker is back (down ${backAt - stoppedAt} ms)`);
  return {
    stoppedAtMs: stoppedAt - t0,
    backAtMs: backAt - t0,
    downMs: backAt - stoppedAt,
    killedBroker,
  };
}

/** The broker that leads most partitions of `topic`. */
async function leaderOfMost(brokers: string, topic: string): Promise<number> {
  const admin = new Admin({ clientId: 'yadtq-chaos-admin', bootstrapBrokers: brokers.split(',') });
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const led = new Map<number, number>();
    for (const p of metadata.topics.get(topic)?.partitions ?? [])
      led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
    const [leader] = [...led].sort((a, b) => b[1] - a[1])[0] ?? [1];
    return leader;
  } finally {
    await admin.close().catch(() => {});
  }
}

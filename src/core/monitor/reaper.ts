import type { Broker } from '../broker.ts';
import { deadLetterTask } from '../dead-letter.ts';
import { envelopeOf, taskMessage } from '../envelope.ts';
import type { Logger } from '../logger.ts';
import type { MonitorStore, WorkerRegistry } from '../store.ts';

/**
 * Finds workers whose heartbeat expired and puts the tasks they held back to `queued`:
 * live workers take them from the store (see `RecoveryPoller`) and they are produced
 * again (Kafka's own redelivery of the same messages is then refused by the claim step).
 * A task whose holders keep dying ends `failed` ("worker lost") and is dead-lettered; one
 * whose cancel was requested ends `cancelled`. Produces run in the `background`, so a
 * Kafka outage does not hold up the reaping of other dead workers.
 */
export async function reapDeadWorkers(context: {
  store: Pick<MonitorStore, 'heldBy' | 'requeue'>;
  registry: Pick<WorkerRegistry, 'list'>;
  broker: Broker;
  logger: Logger;
  now: number;
  maxLosses: number;
  background: (work: Promise<unknown>, what: string) => void;
}): Promise<{ recovered: number; liveWorkers: number }> {
  const { store, registry, broker, logger, now, maxLosses, background } = context;
  let recovered = 0;
  const workers = await registry.list();
  // Recovered tasks go to partitions that live workers own: a dead member's partitions
  // wait for Kafka to fence it (its session timeout) before anyone reads them again.
  const liveOwned = [...new Set(workers.filter((w) => w.alive).flatMap((w) => w.partitions))];
  let next = Math.floor(Math.random() * Math.max(1, liveOwned.length));
  const partitionFor = () =>
    liveOwned.length === 0 ? {} : { partition: liveOwned[next++ % liveOwned.length] };
  for (const worker of workers) {
    if (worker.alive) continue;
    const held = await store.heldBy(worker.id);
    if (held.length === 0) continue;
    logger.warn('worker is dead: recovering its tasks', {
      workerId: worker.id,
      tasks: held.length,
    });
    const transitions = await Promise.all(
      held.map((id) => store.requeue(id, worker.id, now, maxLosses)),
    );
    const requeued = transitions.flatMap((t) =>
      t.ok && t.record.status === 'queued' ? [t.record] : [],
    );
    if (requeued.length > 0) {
      const messages = requeued.map((record) => ({
        ...taskMessage(envelopeOf(record)),
        ...partitionFor(),
      }));
      background(broker.produce('tasks', messages), 'producing recovered tasks again');
    }
    for (const t of transitions) {
      if (t.ok && t.record.status === 'failed')
        background(deadLetterTask(broker, t.record, 'worker-lost'), 'dead-lettering a lost task');
    }
    recovered += requeued.length;
  }
  return { recovered, liveWorkers: workers.filter((w) => w.alive).length };
}

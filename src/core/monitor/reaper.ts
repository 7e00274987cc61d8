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
 * Kafka outage does not hold up the reaping of other dead workers. A list or a worker's
 * tasks that took longer than `slowMs` to come back (the store was away: the beats waited
 * too) are not acted on: the answer is `slow`, and the caller waits before reaping again.
 */
export async function reapDeadWorkers(context: {
  store: Pick<MonitorStore, 'heldBy' | 'requeue'>;
  registry: Pick<WorkerRegistry, 'list'>;
  broker: Broker;
  logger: Logger;
  now: number;
  maxLosses: number;
  slowMs: number;
  background: (work: Promise<unknown>, what: string) => void;
}): Promise<{ recovered: number; liveWorkers: number; slow: boolean }> {
  const { store, registry, broker, logger, now, maxLosses, slowMs, background } = context;
  let recovered = 0;
  const timed = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    const asked = Date.now();
    const answer = await call();
    return Date.now() - asked > slowMs ? undefined : answer;
  };
  const workers = await timed(() => registry.list());
  if (workers === undefined) return { recovered, liveWorkers: 1, slow: true };
  // Recovered tasks go to partitions that live workers own: a dead member's partitions
  // wait for Kafka to fence it (its session timeout) before anyone reads them again.
  const liveOwned = [...new Set(workers.filter((w) => w.alive).flatMap((w) => w.partitions))];
  let next = Math.floor(Math.random() * Math.max(1, liveOwned.length));
  const partitionFor = () =>
    liveOwned.length === 0 ? {} : { partition: liveOwned[next++ % liveOwned.length] };
  for (const worker of workers) {
    if (worker.alive) continue;
    const held = await timed(() => store.heldBy(worker.id));
    if (held === undefined) return { recovered, liveWorkers: 1, slow: true };
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
  return { recovered, liveWorkers: workers.filter((w) => w.alive).length, slow: false };
}

import type { Broker, BrokerMessage } from './broker.ts';
import { YadtqError } from './errors.ts';
import type { CreateOutcome, TaskStore } from './store.ts';
import type { TaskRecord } from './task-record.ts';

/** One task ready to be written: its record, its message and how it is created. */
export interface PreparedSubmit {
  record: TaskRecord;
  /** The encoded envelope, keyed by the caller's partition key (else the task id). */
  message: BrokerMessage;
  dedup: boolean;
  useCache: boolean;
  /** False for a delayed task: it waits in the store until the scheduler produces it. */
  produce: boolean;
}

interface Pending {
  item: PreparedSubmit;
  resolve(outcome: CreateOutcome): void;
  reject(error: unknown): void;
}

/**
 * Coalesces the submits of one tick into as few round trips as possible: the records of
 * every task added before the flush are created with one `createMany` per kind of create
 * (dedup and cache flags), in the order they were added, and the created ones are produced
 * with one `produce`. A lone submit is flushed on the next turn of the event loop, so it
 * waits for no batch. A task that could not be produced has its record removed (so its
 * dedup key points at nothing that will never run) and its submit rejected; the others of
 * the flush are unaffected.
 */
export class SubmitQueue {
  readonly #store: Pick<TaskStore, 'createMany' | 'discard'>;
  readonly #broker: Pick<Broker, 'produce'>;
  readonly #maxPending: number;
  #pending: Pending[] = [];
  #scheduled = false;
  /** Tasks added and not yet answered (waiting for the flush, or being written). */
  #unanswered = 0;

  constructor(
    store: Pick<TaskStore, 'createMany' | 'discard'>,
    broker: Pick<Broker, 'produce'>,
    maxPending: number,
  ) {
    this.#store = store;
    this.#broker = broker;
    this.#maxPending = maxPending;
  }

  /**
   * Creates (and produces) `items` with whatever else is submitted this tick.
   * @throws YadtqError SUBMIT_BACKLOG_FULL when more than `maxPending` would wait
   */
  add(items: readonly PreparedSubmit[]): Promise<CreateOutcome[]> {
    if (this.#unanswered + items.length > this.#maxPending) {
      return Promise.reject(
        new YadtqError(
          'SUBMIT_BACKLOG_FULL',
          `${this.#unanswered} submitted tasks are still waiting for the store and the broker ` +
            `(the limit is ${this.#maxPending}); try again once they are written`,
          { retriable: true },
        ),
      );
    }
    this.#unanswered += items.length;
    const outcomes = items.map(
      (item) =>
        new Promise<CreateOutcome>((resolve, reject) => {
          this.#pending.push({ item, resolve, reject });
        }),
    );
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        const batch = this.#pending;
        this.#pending = [];
        void this.#flush(batch);
      });
    }
    void Promise.allSettled(outcomes).then(() => {
      this.#unanswered -= items.length;
    });
    return Promise.all(outcomes);
  }

  async #flush(batch: Pending[]): Promise<void> {
    // Runs of consecutive submits with the same flags, issued in order on one connection:
    // the creates reach the store in call order (an ordering lane's order is create order).
    const groups: Pending[][] = [];
    let kind = '';
    for (const pending of batch) {
      const next = `${pending.item.dedup}:${pending.item.useCache}`;
      if (groups.length === 0 || next !== kind) groups.push([]);
      groups.at(-1)!.push(pending);
      kind = next;
    }
    const toProduce: Array<{ pending: Pending; outcome: CreateOutcome }> = [];
    await Promise.all(
      groups.map(async (group) => {
        const { dedup, useCache } = group[0]!.item;
        let outcomes: CreateOutcome[];
        try {
          outcomes = await this.#store.createMany(
            group.map((p) => p.item.record),
            { dedup, useCache },
          );
        } catch (error) {
          for (const pending of group) pending.reject(error);
          return;
        }
        group.forEach((pending, i) => {
          const outcome = outcomes[i]!;
          if (outcome.kind === 'created' && pending.item.produce)
            toProduce.push({ pending, outcome });
          else pending.resolve(outcome);
        });
      }),
    );
    if (toProduce.length === 0) return;
    // In the order the tasks were added: tasks with one partition key keep their order.
    const order = new Map(batch.map((pending, i) => [pending, i]));
    toProduce.sort((a, b) => order.get(a.pending)! - order.get(b.pending)!);
    try {
      await this.#broker.produce(
        'tasks',
        toProduce.map(({ pending }) => pending.item.message),
      );
    } catch (error) {
      await Promise.allSettled(
        toProduce.map(({ pending }) => this.#store.discard(pending.item.record.id)),
      );
      for (const { pending } of toProduce) pending.reject(error);
      return;
    }
    for (const { pending, outcome } of toProduce) pending.resolve(outcome);
  }
}

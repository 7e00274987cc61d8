import type { ClaimGates } from '../concurrency.ts';
import { DEFAULTS } from '../defaults.ts';
import type { TaskEnvelope } from '../envelope.ts';
import {
  type ClaimOutcome,
  type ClaimRequest,
  claimRequest,
  type FinishRequest,
  type FinishStep,
  type TaskStore,
} from '../store.ts';
import type { TaskRecord } from '../task-record.ts';
import { TickBatch } from '../tick-batch.ts';
import type { OptionFill } from '../unset-options.ts';

/**
 * The task steps a worker takes, batched: the claims made in one turn of the event loop
 * (the deliveries of one fetch) go to the store as one `claimMany`, and the finishes of
 * one turn (handlers that ended together) as one `finishMany`. Each task's step keeps its
 * own atomic rules and its own answer; a lone step is sent at the end of its turn.
 */
export class BatchedSteps implements Pick<TaskStore, 'claim' | 'finish' | 'get'> {
  readonly #store: Pick<TaskStore, 'claimMany' | 'finishMany' | 'get'>;
  readonly #claims: TickBatch<ClaimRequest, ClaimOutcome>;
  readonly #finishes: TickBatch<FinishRequest, boolean>;

  constructor(
    store: Pick<TaskStore, 'claimMany' | 'finishMany' | 'get'>,
    maxBatch: number = DEFAULTS.stepBatchMax,
  ) {
    this.#store = store;
    this.#claims = new TickBatch((requests) => store.claimMany(requests), maxBatch);
    this.#finishes = new TickBatch((requests) => store.finishMany(requests), maxBatch);
  }

  claim(
    envelope: TaskEnvelope,
    workerId: string,
    now: number,
    fill?: OptionFill,
    loneLosses?: number,
    gates?: ClaimGates,
  ): Promise<ClaimOutcome> {
    return this.#claims.add(claimRequest(envelope, workerId, now, fill, loneLosses, gates));
  }

  finish(id: string, step: FinishStep): Promise<boolean> {
    return this.#finishes.add({ id, step });
  }

  get(id: string): Promise<TaskRecord | null> {
    return this.#store.get(id);
  }
}

// Where a task enters the worker's processing: a batch of deliveries, one delivery, or a
// task taken from the store; each attempt inside its consumer span when tracing.
import { type BatchLink, traced } from '../../telemetry/task-tracing.ts';
import type { Delivery } from '../broker.ts';
import { decodeEnvelope, type TaskEnvelope } from '../envelope.ts';
import type { YadtqError } from '../errors.ts';
import {
  deadLetterInvalid,
  type Processed,
  type ProcessorContext,
  processEnvelope,
} from './process-delivery.ts';

/**
 * Starts a batch the worker took, each delivery on its own; when tracing, their consumer
 * spans link to one receive span of the batch (which links to each producer span).
 */
export function processBatch(
  ctx: ProcessorContext,
  deliveries: readonly Delivery[],
  track: (processing: Promise<Processed>) => void,
): void {
  const batch = ctx.tracing?.receive(deliveries);
  for (const delivery of deliveries) track(processDelivery(ctx, delivery, batch));
}

/**
 * One delivery, start to end: decode (malformed → dead-letter topic), then
 * {@link processEnvelope}. Every store and broker step is retried in place until it
 * answers ({@link retryStep}); a delivery is left unsettled only when the worker halts or
 * loses its partition, and then the partition's next owner gets it again.
 */
export async function processDelivery(
  ctx: ProcessorContext,
  delivery: Delivery,
  batch?: BatchLink,
): Promise<Processed> {
  let envelope: TaskEnvelope;
  try {
    envelope = decodeEnvelope(delivery.value);
  } catch (error) {
    return deadLetterInvalid(ctx, delivery, error as YadtqError);
  }
  const settle = () => delivery.settle();
  return processTraced(ctx, envelope, settle, () => delivery.isOwned(), delivery.headers, batch);
}

/**
 * {@link processEnvelope} inside the attempt's consumer span when tracing (`headers`: its
 * message's, where it came from one; `batch`: the receive span of its batch).
 */
export function processTraced(
  ctx: ProcessorContext,
  envelope: TaskEnvelope,
  settle: () => void,
  owned?: () => boolean,
  headers?: Readonly<Record<string, string>>,
  batch?: BatchLink,
): Promise<Processed> {
  if (ctx.tracing === undefined) return processEnvelope(ctx, envelope, settle, owned);
  const span = ctx.tracing.process(envelope, ctx.workerId, headers, batch);
  return traced(span, () => processEnvelope(ctx, envelope, settle, owned));
}

import { traced } from '../../telemetry/task-tracing.ts';
import type { Delivery } from '../broker.ts';
import type { TaskEnvelope } from '../envelope.ts';
import {
  type Processed,
  type ProcessorContext,
  processDelivery,
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

/** {@link processEnvelope} of a task taken from the store (no delivery), traced. */
export function processStoredEnvelope(
  ctx: ProcessorContext,
  envelope: TaskEnvelope,
): Promise<Processed> {
  if (ctx.tracing === undefined) return processEnvelope(ctx, envelope, () => {});
  const span = ctx.tracing.process(envelope, ctx.workerId, undefined, undefined);
  return traced(span, () => processEnvelope(ctx, envelope, () => {}));
}

/** A W3C trace context, as `traceparent` carries it. */
export interface TraceParent {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The `traceparent` of a context (version 00). */
export function formatTraceparent(context: TraceParent): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * Reads a `traceparent` (version 00); undefined for anything else. A bad one is ignored,
 * never refused: W3C Trace Context says a receiver starts a new trace instead.
 */
export function parseTraceparent(text: string | undefined): TraceParent | undefined {
  const match = text === undefined ? null : TRACEPARENT.exec(text);
  if (match === null) return undefined;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) };
}

/** True for a well-formed `traceparent` (version 00). */
export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && parseTraceparent(value) !== undefined;
}

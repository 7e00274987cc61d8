import type { Broker, Delivery } from '../core/broker.ts';
import type { TaskEnvelope } from '../core/envelope.ts';
// Its imports of the API are types only: loading it loads no OpenTelemetry package.
import { OtelTaskTracing } from './otel-tracing.ts';

/** A span yadtq opened; ended once with how its task went. */
export interface TaskSpan {
  /** The W3C `traceparent` of this span, to carry with the task; undefined when not sampled. */
  readonly traceparent: string | undefined;
  /** Runs `work` with this span active, so spans the handler opens are its children. */
  within<T>(work: () => T): T;
  end(outcome: string): void;
}

/** A receive span's identity, for the process spans of its batch to link to. */
export type BatchLink = { readonly batch: unknown };

/**
 * What the client and the worker ask of tracing: loaded only when `@opentelemetry/api`
 * is installed (see {@link loadTaskTracing}), so without it none of this exists and the
 * hot paths pay one `if`.
 */
export interface TaskTracing {
  /** The producer span of a submitted task (`send <topic>`), child of the active span. */
  submit(envelope: TaskEnvelope): TaskSpan;
  /** One receive span for a batch of two or more deliveries, linked to each's producer. */
  receive(deliveries: readonly Delivery[]): BatchLink | undefined;
  /**
   * The consumer span of one attempt (`process <topic>`): claim, run and finish. Its
   * parent is the producer span the task carries (on the record, so a retried, delayed
   * or recovered attempt stays in the trace), else its message's `traceparent` header.
   */
  process(
    envelope: TaskEnvelope,
    workerId: string,
    headers: Readonly<Record<string, string>> | undefined,
    batch: BatchLink | undefined,
  ): TaskSpan;
}

/** The messaging attributes of a broker: its system and the task topic. */
export interface Messaging {
  system: string;
  destination: string;
}

/** What a broker says of itself for tracing: Kafka names its topic; others are in memory. */
export function messagingOf(broker: Broker): Messaging {
  const named = broker as Broker & { topicOf?(destination: 'tasks'): string };
  return typeof named.topicOf === 'function'
    ? { system: 'kafka', destination: named.topicOf('tasks') }
    : { system: 'yadtq-memory', destination: 'tasks' };
}

let loading: Promise<typeof import('@opentelemetry/api') | undefined> | undefined;

/**
 * The tracing of `broker`'s tasks when `@opentelemetry/api` (an optional peer) is
 * installed and a tracer provider (an SDK) is registered; undefined, without an error,
 * otherwise. The package is imported once, on first use. Decided when the client or the
 * worker starts: the API is often installed by other packages, and with no SDK every
 * span would be a no-op paid for on each task.
 */
export async function loadTaskTracing(broker: Broker): Promise<TaskTracing | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (api) => api,
    () => undefined,
  );
  const api = await loading;
  if (api === undefined || !hasTracerProvider(api)) return undefined;
  return new OtelTaskTracing(api, messagingOf(broker));
}

/** Whether an SDK registered its tracer provider (the global one then delegates to it). */
function hasTracerProvider(api: typeof import('@opentelemetry/api')): boolean {
  // A proxy that delegates to no provider answers the API's no-op provider.
  const noop = new api.ProxyTracerProvider().getDelegate();
  const global = api.trace.getTracerProvider();
  return !(global instanceof api.ProxyTracerProvider) || global.getDelegate() !== noop;
}

/** Runs `work` inside `span` and ends the span with what it resolved to. */
export function traced<T extends string>(span: TaskSpan, work: () => Promise<T>): Promise<T> {
  return span.within(work).then((outcome) => {
    span.end(outcome);
    return outcome;
  });
}

/** Ends each submit's producer span with its outcome once the submits are written. */
export function endSubmitSpans<T extends { kind: string }>(
  spans: readonly TaskSpan[],
  adding: Promise<T[]>,
): Promise<T[]> {
  return adding.then(
    (outcomes) => {
      for (const [i, outcome] of outcomes.entries()) spans[i]?.end(outcome.kind);
      return outcomes;
    },
    (error: unknown) => {
      for (const span of spans) span.end('error');
      throw error;
    },
  );
}

import type * as Api from '@opentelemetry/api';
import type { Delivery } from '../core/broker.ts';
import type { TaskEnvelope } from '../core/envelope.ts';
import type { BatchLink, Messaging, TaskSpan, TaskTracing } from './task-tracing.ts';
import { formatTraceparent, parseTraceparent } from './traceparent.ts';

/** What is used of the OpenTelemetry API. */
export type OtelApi = Pick<
  typeof Api,
  'trace' | 'context' | 'SpanKind' | 'SpanStatusCode' | 'TraceFlags'
>;

/** The instrumentation scope of yadtq's spans. */
export const TRACER_NAME = 'yadtq';

/** Outcomes that mark a consumer span as an error. */
const FAILED = new Set(['failed', 'retrying', 'unsettled']);

/** {@link TaskTracing} on the OpenTelemetry API (loaded only when it is installed). */
export class OtelTaskTracing implements TaskTracing {
  readonly #api: OtelApi;
  readonly #tracer: Api.Tracer;
  readonly #messaging: Api.Attributes;
  readonly #destination: string;

  constructor(api: OtelApi, messaging: Messaging) {
    this.#api = api;
    this.#tracer = api.trace.getTracer(TRACER_NAME);
    this.#destination = messaging.destination;
    this.#messaging = {
      'messaging.system': messaging.system,
      'messaging.destination.name': messaging.destination,
    };
  }

  submit(envelope: TaskEnvelope): TaskSpan {
    const span = this.#tracer.startSpan(`send ${this.#destination}`, {
      kind: this.#api.SpanKind.PRODUCER,
      attributes: {
        ...this.#messaging,
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        ...taskAttributes(envelope),
      },
    });
    return this.#wrap(span, (outcome) => span.setAttribute('yadtq.submit.outcome', outcome));
  }

  receive(deliveries: readonly Delivery[]): BatchLink | undefined {
    if (deliveries.length < 2) return undefined;
    const links: Api.Link[] = [];
    for (const delivery of deliveries) {
      const parent = this.#remote(delivery.headers.traceparent);
      if (parent !== undefined) links.push({ context: parent });
    }
    const span = this.#tracer.startSpan(`receive ${this.#destination}`, {
      kind: this.#api.SpanKind.CONSUMER,
      links,
      attributes: {
        ...this.#messaging,
        'messaging.operation.type': 'receive',
        'messaging.operation.name': 'receive',
        'messaging.batch.message_count': deliveries.length,
      },
    });
    span.end();
    return { batch: span.spanContext() };
  }

  process(
    envelope: TaskEnvelope,
    workerId: string,
    headers: Readonly<Record<string, string>> | undefined,
    batch: BatchLink | undefined,
  ): TaskSpan {
    const { context, trace } = this.#api;
    const parent = this.#remote(envelope.traceparent ?? headers?.traceparent);
    const parentContext =
      parent === undefined ? context.active() : trace.setSpanContext(context.active(), parent);
    const span = this.#tracer.startSpan(
      `process ${this.#destination}`,
      {
        kind: this.#api.SpanKind.CONSUMER,
        attributes: {
          ...this.#messaging,
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          ...taskAttributes(envelope),
          'yadtq.worker.id': workerId,
        },
        ...(batch === undefined ? {} : { links: [{ context: batch.batch as Api.SpanContext }] }),
      },
      parentContext,
    );
    return this.#wrap(span, (outcome) => {
      span.setAttribute('yadtq.task.outcome', outcome);
      if (FAILED.has(outcome)) span.setStatus({ code: this.#api.SpanStatusCode.ERROR });
    });
  }

  #wrap(span: Api.Span, mark: (outcome: string) => void): TaskSpan {
    const { context, trace } = this.#api;
    const spanContext = span.spanContext();
    const sampled = (spanContext.traceFlags & this.#api.TraceFlags.SAMPLED) !== 0;
    return {
      traceparent:
        sampled && trace.isSpanContextValid(spanContext)
          ? formatTraceparent(spanContext)
          : undefined,
      within: (work) => context.with(trace.setSpan(context.active(), span), work),
      end: (outcome) => {
        mark(outcome);
        span.end();
      },
    };
  }

  #remote(traceparent: string | undefined): Api.SpanContext | undefined {
    const parsed = parseTraceparent(traceparent);
    return parsed === undefined ? undefined : { ...parsed, isRemote: true };
  }
}

function taskAttributes(envelope: TaskEnvelope): Api.Attributes {
  return {
    'messaging.message.id': envelope.id,
    'yadtq.task.id': envelope.id,
    'yadtq.task.name': envelope.name,
    'yadtq.task.attempt': envelope.attempt,
  };
}

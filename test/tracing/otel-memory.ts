// An OpenTelemetry SDK that keeps finished spans in memory, for tests.

import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** A finished span as plain JSON (it crosses a process boundary). */
export interface SpanJson {
  name: string;
  kind: 'PRODUCER' | 'CONSUMER' | 'INTERNAL' | 'CLIENT' | 'SERVER';
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  status: number;
}

/** Registers a global tracer provider exporting into memory; returns the exporter. */
export function installMemoryTracing(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  return exporter;
}

export function spanJson(span: ReadableSpan): SpanJson {
  const parent = (span as ReadableSpan & { parentSpanContext?: { spanId: string } })
    .parentSpanContext;
  return {
    name: span.name,
    kind: SpanKind[span.kind] as SpanJson['kind'],
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: parent?.spanId,
    attributes: { ...span.attributes },
    links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    status: span.status.code,
  };
}

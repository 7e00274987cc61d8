import type { Broker, BrokerMessage } from '../core/broker.ts';
import { TRACEPARENT_LENGTH } from './traceparent.ts';

const FIELD = ',"traceparent":"';
/** The end of an envelope that carries a traceparent: it is written last. */
const TAIL = FIELD.length + TRACEPARENT_LENGTH + '"}'.length;

/**
 * `broker`, whose task messages get a `traceparent` header from their envelope while
 * `tracing()` holds. The envelope writes the field last, so it is read from the end of
 * the text, not parsed. Off, a produce costs one call more.
 */
export function withTraceHeaders(
  broker: Pick<Broker, 'produce'>,
  tracing: () => boolean,
): Pick<Broker, 'produce'> {
  return {
    produce: (destination, messages) =>
      broker.produce(
        destination,
        tracing() && destination === 'tasks' ? messages.map(withHeader) : messages,
      ),
  };
}

function withHeader(message: BrokerMessage): BrokerMessage {
  const { value } = message;
  const at = value.length - TAIL;
  if (at < 0 || !value.startsWith(FIELD, at)) return message;
  const traceparent = value.slice(at + FIELD.length, at + FIELD.length + TRACEPARENT_LENGTH);
  return { ...message, headers: { ...message.headers, traceparent } };
}

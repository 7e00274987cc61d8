import type { Delivery, Subscription } from '../src/core/broker.ts';

/**
 * A subscription's deliveries one at a time, as an async iteration: each `next()` is one
 * `take(1)`, and the iteration ends when the subscription closes. Leaving a `for await`
 * loop early does not close the subscription.
 */
export function oneByOne(
  subscription: Pick<Subscription, 'take'>,
): AsyncIterableIterator<Delivery> {
  const iterator: AsyncIterableIterator<Delivery> = {
    next: async () => {
      const [delivery] = await subscription.take(1);
      return delivery === undefined
        ? { done: true, value: undefined }
        : { done: false, value: delivery };
    },
    return: async () => ({ done: true, value: undefined }),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

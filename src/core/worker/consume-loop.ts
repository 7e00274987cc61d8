import type { Delivery, Subscription } from '../broker.ts';

/** What the consume loop needs of its worker. */
export interface ConsumeHooks {
  /** Whether the worker still takes work; false once it stops. */
  running(): boolean;
  /** Slots free for new deliveries now (0 or less while none is, or a task runs alone). */
  freeSlots(): number;
  /** Resolves when a slot may have freed, or the worker is stopping. */
  slotFreed(): Promise<void>;
  /** Resolves once the store answers, or the worker is stopping. */
  whenReachable(): Promise<void>;
  /**
   * Whether the store offered tasks ahead of the task log (a lane's next task, a
   * high-priority one) that the worker has not looked for yet; `takeOffered` looks.
   */
  offered(): boolean;
  takeOffered(): Promise<void>;
  /**
   * Starts deliveries that each have a slot: the one place a batch enters the worker,
   * and so where one store call can claim all of them.
   */
  start(deliveries: readonly Delivery[]): void;
}

/**
 * Feeds the worker from `subscription` until it closes or the worker stops: waits for
 * free slots, takes up to that many deliveries in one call (what one fetch brought, as
 * much as fits; the subscription keeps the rest) and, once the store answers, starts
 * them as one group. Tasks the store offered ahead of the log come first: with a free slot
 * and an offer pending, the worker takes those before its next delivery. Slots taken
 * meanwhile by other work (recovered tasks) leave part of a batch over: it is held and
 * started first as slots free, unless its partition moved meanwhile (then its next owner
 * gets it). While the worker stops, deliveries are left
 * unsettled, for the next owner of their partition. Rejects when the subscription fails
 * for good.
 */
export async function consumeDeliveries(
  subscription: Pick<Subscription, 'take'>,
  hooks: ConsumeHooks,
): Promise<void> {
  let held: Delivery[] = [];
  for (;;) {
    while (hooks.running() && hooks.freeSlots() <= 0) await hooks.slotFreed();
    if (!hooks.running()) return;
    // A worker whose store does not answer takes no more work than it holds: a batch
    // that arrived meanwhile waits here, unstarted.
    await hooks.whenReachable();
    if (!hooks.running()) return;
    if (hooks.offered()) {
      await hooks.takeOffered();
      // Still pending (the look found no slot after all): let I/O run before looking again.
      if (hooks.offered()) await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    if (held.length === 0) {
      held = [...(await subscription.take(hooks.freeSlots()))];
      if (held.length === 0) return;
      continue;
    }
    held = held.filter((delivery) => delivery.isOwned());
    const group = held.splice(0, Math.max(0, hooks.freeSlots()));
    if (group.length > 0) hooks.start(group);
  }
}

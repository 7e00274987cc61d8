import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, MessagesStream } from '@platformatic/kafka';
import { YadtqError } from '../core/errors.ts';

/** A consumer that joined the group, and its message stream. */
export interface GroupMember {
  consumer: Consumer<string, string, string, string>;
  stream: MessagesStream<string, string, string, string>;
}

/** Joins tried in a row after the consumer failed, before the subscription fails for good. */
const REJOIN_ATTEMPTS = 8;
/** Waits 500 ms, 1 s, 2 s, … up to 5 s between those joins. */
const rejoinDelay = (attempt: number) => Math.min(250 * 2 ** attempt, 5000);

/**
 * Joins the group again after the consumer failed with `failure`: up to 8 tries, 500 ms
 * to 5 s apart. Resolves with the new member and the try it took, or undefined once
 * `closing()` (a member that joined meanwhile is closed again).
 * @throws YadtqError BROKER_UNAVAILABLE (retriable) when the last try failed too
 */
export async function joinAgain(
  failure: YadtqError,
  join: () => Promise<GroupMember>,
  closing: () => boolean,
): Promise<{ member: GroupMember; attempt: number } | undefined> {
  for (let attempt = 1; ; attempt++) {
    if (closing()) return undefined;
    try {
      const member = await join();
      if (closing()) {
        await member.consumer.close(true).catch(() => {});
        return undefined;
      }
      return { member, attempt };
    } catch (error) {
      if (attempt >= REJOIN_ATTEMPTS) {
        const cause = error instanceof Error ? error : undefined;
        throw new YadtqError(
          'BROKER_UNAVAILABLE',
          `the Kafka consumer failed (${failure.message}) and joining the group again failed ${attempt} times: ${cause?.message ?? String(error)}`,
          { cause, retriable: true },
        );
      }
      await sleep(rejoinDelay(attempt));
    }
  }
}

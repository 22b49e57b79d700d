/**
 * The subscriber list of a `DirectChannel` or of one `HashedChannel` topic: handlers
 * and receivers, delivered in subscription order without copying the list per publish.
 *
 * @module
 * @internal
 */
import type { ReceiverQueue } from './receiver.js';
import { reportError, Subscription, type PubSubErrorHandler } from './subscription.js';

/** Counters a fan-out updates. */
export interface Tally {
  delivered: number;
  dropped: number;
  lagged: number;
}

export class Fanout<M, P> {
  subs: Subscription<M, P>[] = [];
  blocking = 0;
  /** Receiver subscriptions (a publish builds a message only when > 0). */
  receivers = 0;

  get size(): number {
    return this.subs.length;
  }

  add(sub: Subscription<M, P>): void {
    // In place even during a publish: the publish skips subscriptions newer than itself.
    this.subs.push(sub);
    if (sub.blocking) this.blocking++;
    if (sub.receiver !== undefined) this.receivers++;
  }

  /** Removes a subscription (marking it closed); true when it was present. */
  remove(sub: Subscription<M, P>): boolean {
    if (sub.isClosed) return false;
    sub.seq = Infinity;
    // Copy on write: a publish in progress keeps iterating its own array.
    this.subs = this.subs.filter((s) => s !== sub);
    if (sub.blocking) this.blocking--;
    if (sub.receiver !== undefined) this.receivers--;
    sub.receiver?.end();
    return true;
  }

  /** The first full `'block'` receiver, if any. */
  firstFull(): Subscription<M, P> | undefined {
    if (this.blocking === 0) return undefined;
    for (const sub of this.subs) if (sub.blocking && sub.receiver?.isFull === true) return sub;
    return undefined;
  }

  /**
   * Delivers to every subscription with `seq <= limit`: handlers get `(payload, topic)`,
   * receivers `message` (which must be defined when `receivers > 0`). Returns how many
   * accepted.
   */
  deliver(
    message: M | undefined,
    payload: P,
    topic: string,
    limit: number,
    tally: Tally,
    onError: PubSubErrorHandler,
  ): number {
    const subs = this.subs;
    let delivered = 0;
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i] as Subscription<M, P>;
      if (sub.seq > limit) continue;
      const handler = sub.handler;
      if (handler !== undefined) {
        try {
          handler(payload, topic);
        } catch (error) {
          reportError(onError, error);
        }
        delivered++;
        continue;
      }
      const result = (sub.receiver as ReceiverQueue<M>).push(message as M);
      if (result === 'delivered') delivered++;
      else if (result === 'lagged') {
        delivered++;
        tally.lagged++;
      } else if (result !== 'closed') tally.dropped++;
    }
    tally.delivered += delivered;
    return delivered;
  }
}

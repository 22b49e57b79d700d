/**
 * The delivery half of a topic hub: offers one publish to subscriptions (filter,
 * namespace strip, handler call or receiver push) and keeps the counters and metrics of
 * what happened. The hub decides who matches; this decides what each one gets.
 *
 * @module
 * @internal
 */
import type { Clock } from '../core/clock.js';
import type { MetricLabels, MetricsSink } from '../core/metrics.js';
import type { ResolvedHubOptions } from './hub-options.js';
import { PUBSUB_DELIVERED, PUBSUB_DROPPED, PUBSUB_LAGGED, PUBSUB_PUBLISHED } from './metrics.js';
import type { ReceiverQueue } from './receiver.js';
import { reportError, type PubSubErrorHandler, type Subscription } from './subscription.js';
import type { TypedMessage } from './types.js';

type Sub<T> = Subscription<TypedMessage<T>, T>;

/** @internal */
export class HubDelivery<T> {
  published = 0;
  delivered = 0;
  dropped = 0;
  lagged = 0;
  readonly #clock: Clock;
  readonly #metrics: MetricsSink | undefined;
  readonly #labels: MetricLabels;
  readonly #onError: PubSubErrorHandler;

  constructor(options: ResolvedHubOptions) {
    this.#clock = options.clock;
    this.#metrics = options.metrics;
    this.#labels = options.labels;
    this.#onError = options.onError;
  }

  /** The message receivers and replay get, stamped now. */
  message(topic: string, payload: T): TypedMessage<T> {
    return { topic, payload, timestamp: this.#clock.now() };
  }

  /** Calls a plain handler; a throw goes to `onError` (it still counts as delivered). */
  call(handler: (payload: T, topic: string) => void, topic: string, payload: T): void {
    try {
      handler(payload, topic);
    } catch (error) {
      reportError(this.#onError, error);
    }
  }

  /**
   * Offers a publish to one pattern's subscriptions; returns how many accepted. Those
   * created during this publish (`seq > limit`) and closed ones (`seq` = Infinity) are
   * skipped; removal replaces the array, so the loop is never disturbed by re-entrant
   * subscribe/unsubscribe.
   */
  run(
    subs: readonly Sub<T>[],
    topic: string,
    payload: T,
    message: TypedMessage<T> | undefined,
    limit: number,
  ): number {
    let delivered = 0;
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i] as Sub<T>;
      if (sub.seq > limit) continue;
      if (sub.plain) {
        this.call(sub.handler as (payload: T, topic: string) => void, topic, payload);
        delivered++;
      } else if (this.offer(sub, topic, payload, message)) delivered++;
    }
    return delivered;
  }

  /** Counts one publish that `delivered` subscriptions accepted. */
  count(delivered: number): void {
    this.published++;
    this.delivered += delivered;
    const metrics = this.#metrics;
    if (metrics !== undefined) {
      metrics.increment(PUBSUB_PUBLISHED, 1, this.#labels);
      if (delivered > 0) metrics.increment(PUBSUB_DELIVERED, delivered, this.#labels);
    }
  }

  /**
   * Offers one publish to one subscription; true when it accepted it. Handlers get
   * `(payload, topic)`; receivers get `message` (built here if the caller had none).
   */
  offer(sub: Sub<T>, topic: string, payload: T, message: TypedMessage<T> | undefined): boolean {
    const strip = sub.strip;
    // `<prefix>/#` also matches the bare `<prefix>` topic, which is not a tenant topic.
    if (strip !== 0 && topic.length < strip) return false;
    const seen = strip === 0 ? topic : topic.slice(strip);
    if (sub.filter !== undefined) {
      try {
        if (!sub.filter(payload, seen)) return false;
      } catch (error) {
        reportError(this.#onError, error);
        return false;
      }
    }
    const handler = sub.handler;
    if (handler !== undefined) {
      this.call(handler, seen, payload);
      return true;
    }
    let item = message ?? this.message(topic, payload);
    if (strip !== 0) item = { topic: seen, payload, timestamp: item.timestamp };
    const result = (sub.receiver as ReceiverQueue<TypedMessage<T>>).push(item);
    if (result === 'delivered') return true;
    if (result === 'lagged') {
      this.lagged++;
      this.#metrics?.increment(PUBSUB_LAGGED, 1, this.#labels);
      return true;
    }
    if (result === 'dropped' || result === 'full') {
      this.dropped++;
      this.#metrics?.increment(PUBSUB_DROPPED, 1, this.#labels);
    }
    return false;
  }
}

import type { WaitOptions } from '../core/abort.js';
import type { Namespace } from '../core/namespace.js';
import type { Receiver } from './receiver.js';
import { validatePattern, validateTopic } from './topic.js';
import type { HandlerOptions, SubscribeOptions, TypedMessage } from './types.js';

/** What a {@link HubScope} needs from its hub. @internal */
export interface HubCore<T> {
  subscribeWith(
    pattern: string,
    options: SubscribeOptions<T>,
    strip: number,
  ): Receiver<TypedMessage<T>>;
  onWith(
    pattern: string,
    handler: (payload: T, topic: string) => void,
    options: HandlerOptions<T>,
    strip: number,
  ): () => void;
  publish(topic: string, payload: T): number;
  publishAsync(topic: string, payload: T, options?: WaitOptions): Promise<number>;
  unsubscribeAll(pattern: string): number;
}

/**
 * A tenant's view of a hub. Every pattern and topic is validated on its own and then
 * placed under `<prefix>/`, so whatever a tenant subscribes to (including `#`) it only
 * receives its own topics; delivered messages carry the topic without the prefix.
 * Prefixes cannot contain `/` or wildcards (see `Namespace`), so one tenant can never
 * reach into another's space.
 *
 * @example
 * ```ts
 * const acme = hub.namespace(new Namespace('acme'));
 * const rx = acme.subscribe('#');          // only acme/... topics
 * acme.publish('orders/1', { ok: true });  // published as 'acme/orders/1'
 * (await rx.recv()).topic;                 // 'orders/1'
 * ```
 */
export class HubScope<T> {
  /** The tenant scope. */
  readonly namespace: Namespace;
  readonly #hub: HubCore<T>;
  readonly #strip: number;

  /** @internal Use `hub.namespace(ns)`. */
  constructor(hub: HubCore<T>, namespace: Namespace) {
    this.#hub = hub;
    this.namespace = namespace;
    this.#strip = namespace.prefix.length + 1;
  }

  /** Subscribes a receiver to the tenant pattern. */
  subscribe(pattern: string, options: SubscribeOptions<T> = {}): Receiver<TypedMessage<T>> {
    return this.#hub.subscribeWith(this.#pattern(pattern), options, this.#strip);
  }

  /** Calls `handler(payload, topic)` for each matching tenant message (topic without the prefix); returns the unsubscribe function. */
  on(
    pattern: string,
    handler: (payload: T, topic: string) => void,
    options: HandlerOptions<T> = {},
  ): () => void {
    return this.#hub.onWith(this.#pattern(pattern), handler, options, this.#strip);
  }

  /** Publishes to the tenant topic. */
  publish(topic: string, payload: T): number {
    return this.#hub.publish(this.#topic(topic), payload);
  }

  /** Publishes to the tenant topic, waiting for `'block'` subscribers. */
  publishAsync(topic: string, payload: T, options?: WaitOptions): Promise<number> {
    return this.#hub.publishAsync(this.#topic(topic), payload, options);
  }

  /** Ends every subscription of the tenant pattern. */
  unsubscribeAll(pattern: string): number {
    return this.#hub.unsubscribeAll(this.#pattern(pattern));
  }

  #pattern(pattern: string): string {
    return this.namespace.pattern(validatePattern(pattern));
  }

  #topic(topic: string): string {
    return this.namespace.topic(validateTopic(topic));
  }
}

import type { WaitOptions } from '../core/abort.js';
import { throwIfAborted } from '../core/abort.js';
import { CapacityExceededError, InvalidArgumentError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import type { MetricLabels, MetricsSink } from '../core/metrics.js';
import type { Namespace } from '../core/namespace.js';
import { isFunction } from '../core/validate.js';
import { resolveHubOptions, type TypedPubSubOptions } from './hub-options.js';
import { HubDelivery } from './hub-delivery.js';
import { HubRegistry, type Entry, type Handler, type Slot, type Sub } from './hub-registry.js';
import { PUBSUB_SUBSCRIPTIONS, type PubSubHubKind } from './metrics.js';
import { ReceiverQueue, type OverflowPolicy, type Receiver } from './receiver.js';
import { ReplayStore } from './replay-store.js';
import { pubsubClosed, Subscription } from './subscription.js';
import { TopicIndex } from './topic-index.js';
import { validatePattern, validateTopic } from './topic.js';
import { HubScope, type HubCore } from './hub-scope.js';
import type { HandlerOptions, PubSubStats, SubscribeOptions, TypedMessage } from './types.js';

const NONE: readonly never[] = Object.freeze([]);
export type { TypedPubSubOptions };

/**
 * A typed topic hub: exact topics are one `Map` lookup, wildcard patterns are matched
 * through a trie, every subscription has its own bounded buffer and overflow policy,
 * with optional per-topic replay for late subscribers.
 *
 * @example
 * ```ts
 * const hub = new TypedPubSub<{ id: number }>({ replayCapacity: 10 });
 * const off = hub.on('orders/+', (order, topic) => console.log(topic, order.id));
 * using rx = hub.subscribe('orders/#', { capacity: 100 });
 * hub.publish('orders/created', { id: 1 });
 * (await rx.recv()).payload.id; // 1
 * off();
 * ```
 */
export class TypedPubSub<T> implements Closeable, HubCore<T> {
  readonly #life = new Lifecycle('pubsub');
  readonly #subs: HubRegistry<T>;
  readonly #index: TopicIndex<Entry<T>, Handler<T>>;
  readonly #exact: ReadonlyMap<string, Slot<T>>;
  #isClosed = false;
  /** Open, no wildcard pattern, no 'block' receiver, no replay, no metrics sink. */
  #simple = false;
  readonly #replay: ReplayStore<TypedMessage<T>> | undefined;
  readonly #capacity: number;
  readonly #overflow: OverflowPolicy;
  readonly #maxSubscriptions: number;
  readonly #metrics: MetricsSink | undefined;
  readonly #labels: MetricLabels;
  readonly #delivery: HubDelivery<T>;
  #seq = 0;

  /**
   * @param kind Metrics label of the hub (`'typed'`; the JSON hub passes `'json'`).
   * @throws InvalidArgumentError for an invalid option.
   */
  constructor(options: TypedPubSubOptions = {}, kind: PubSubHubKind = 'typed') {
    const o = resolveHubOptions(options, kind);
    this.#capacity = o.capacity;
    this.#overflow = o.overflow;
    this.#replay =
      o.replayCapacity > 0 ? new ReplayStore(o.replayCapacity, o.maxReplayTopics) : undefined;
    this.#maxSubscriptions = o.maxSubscriptions;
    this.#delivery = new HubDelivery<T>(o);
    this.#metrics = o.metrics;
    this.#labels = o.labels;
    this.#subs = new HubRegistry<T>(o.maxCachedTopics, () => {
      this.#updateSimple();
      this.#metrics?.set(PUBSUB_SUBSCRIPTIONS, this.#subs.subscriptions, this.#labels);
    });
    this.#index = this.#subs.index;
    this.#exact = this.#subs.exact;
  }

  /** Subscribes a receiver to `pattern`; replayed messages (if any) are already buffered. */
  subscribe(pattern: string, options: SubscribeOptions<T> = {}): Receiver<TypedMessage<T>> {
    return this.subscribeWith(pattern, options, 0);
  }

  /** Like {@link TypedPubSub.subscribe} but returns undefined when `maxSubscriptions` is reached. */
  trySubscribe(
    pattern: string,
    options: SubscribeOptions<T> = {},
  ): Receiver<TypedMessage<T>> | undefined {
    if (this.#subs.subscriptions >= this.#maxSubscriptions) {
      if (this.#isClosed) throw pubsubClosed('TypedPubSub', 'subscribe');
      validatePattern(pattern);
      return undefined;
    }
    return this.subscribe(pattern, options);
  }

  /**
   * Calls `handler(payload, topic)` synchronously inside every matching publish (so the
   * publish time is "now"; no message object is built for handlers). Returns the
   * unsubscribe function (idempotent). A throwing handler is reported to `onError` and never stops
   * delivery to other subscribers.
   */
  on(
    pattern: string,
    handler: (payload: T, topic: string) => void,
    options: HandlerOptions<T> = {},
  ): () => void {
    return this.onWith(pattern, handler, options, 0);
  }

  /**
   * Publishes synchronously and returns the number of subscriptions that accepted the
   * message.
   *
   * @throws InvalidArgumentError (`ERR_PUBSUB_INVALID_TOPIC`), ClosedError
   *   (`ERR_PUBSUB_CLOSED`), or CapacityExceededError (`ERR_PUBSUB_FULL`) when a matching
   *   `'block'` receiver is full; then nothing is delivered.
   */
  publish(topic: string, payload: T): number {
    const exact = this.#exact.get(topic);
    // Fast path: only exact handler subscriptions can match, nothing to record or check.
    if (this.#simple && exact !== undefined) {
      const delivery = this.#delivery;
      let delivered = 1;
      if (typeof exact === 'function') delivery.call(exact, topic, payload);
      else if (exact.receivers === 0) {
        delivered = delivery.run(exact.subs, topic, payload, undefined, this.#seq);
      } else return this.#publishChecked(topic, payload, exact);
      // No metrics sink on this path (see #simple).
      delivery.published++;
      delivery.delivered += delivered;
      return delivered;
    }
    return this.#publishChecked(topic, payload, exact);
  }

  /** The general publish path, kept out of `publish` so the fast path stays small. */
  #publishChecked(topic: string, payload: T, exact: Slot<T> | undefined): number {
    if (this.#isClosed) throw pubsubClosed('TypedPubSub', 'publish');
    const wild = this.#wildcards(topic, exact);
    if (this.#subs.blocking > 0) {
      const full = this.#subs.firstFull(exact, wild);
      if (full !== undefined) {
        throw new CapacityExceededError(
          `publish to ${JSON.stringify(topic)}: a 'block' subscriber is full; use publishAsync`,
          { code: 'ERR_PUBSUB_FULL', details: { pattern: full.entry?.pattern } },
        );
      }
    }
    return this.#deliver(topic, payload, exact, wild);
  }

  /**
   * Publishes, first waiting (abortably) until every matching `'block'` receiver has
   * room. Other subscribers are unaffected by the wait.
   */
  async publishAsync(topic: string, payload: T, options: WaitOptions = {}): Promise<number> {
    for (;;) {
      throwIfAborted(options.signal, 'publishAsync');
      if (this.#isClosed) throw pubsubClosed('TypedPubSub', 'publish');
      const exact = this.#exact.get(topic);
      const wild = this.#wildcards(topic, exact);
      const full = this.#subs.blocking > 0 ? this.#subs.firstFull(exact, wild) : undefined;
      if (full === undefined) return this.#deliver(topic, payload, exact, wild);
      await full.receiver?.waitForSpace(options);
    }
  }

  /** Ends every subscription of `pattern` (receivers drain, then end). Returns how many. */
  unsubscribeAll(pattern: string): number {
    validatePattern(pattern);
    return this.#subs.unsubscribeAll(pattern);
  }

  /** Removes closed subscriptions still indexed. Closing already removes; returns 0 normally. */
  cleanupDeadSubscribers(): number {
    return this.#subs.cleanupDead();
  }

  /** Drops every replay buffer. */
  clearReplay(): void {
    this.#replay?.clear();
  }

  /** A view scoped to a tenant: its patterns and topics are confined under the prefix. */
  namespace(namespace: Namespace): HubScope<T> {
    return new HubScope(this, namespace);
  }

  /** Distinct patterns with at least one subscription. */
  get patternCount(): number {
    return this.#index.size;
  }

  /** Active subscriptions (receivers and handlers). */
  get subscriptionCount(): number {
    return this.#subs.subscriptions;
  }

  /** Counters since creation and current sizes. */
  stats(): PubSubStats {
    return {
      published: this.#delivery.published,
      delivered: this.#delivery.delivered,
      dropped: this.#delivery.dropped,
      lagged: this.#delivery.lagged,
      subscriptions: this.#subs.subscriptions,
      patterns: this.#index.size,
      replayTopics: this.#replay?.size ?? 0,
      cachedTopics: this.#index.cacheSize,
      indexNodes: this.#index.nodeCount,
    };
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Resolves once closed; never rejects. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** Ends every subscription (receivers drain, then end) and refuses further use. */
  close(): Promise<void> {
    this.#isClosed = true;
    this.#simple = false;
    this.#life.closeSync(() => {
      this.#subs.closeAll();
      this.#replay?.clear();
    });
    return this.#life.closed;
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** @internal Subscribe with a namespace strip length. */
  subscribeWith(
    pattern: string,
    options: SubscribeOptions<T>,
    strip: number,
  ): ReceiverQueue<TypedMessage<T>> {
    if (this.#isClosed) throw pubsubClosed('TypedPubSub', 'subscribe');
    validatePattern(pattern);
    const filter = checkFilter(options.filter);
    this.#checkLimit();
    const receiver = new ReceiverQueue<TypedMessage<T>>({
      capacity: options.capacity ?? this.#capacity,
      overflow: options.overflow ?? this.#overflow,
      onLag: options.onLag,
      onCancel: () => this.#subs.close(sub),
    });
    const sub = new Subscription<TypedMessage<T>, T>(
      ++this.#seq,
      undefined,
      receiver,
      filter,
      strip,
    );
    this.#add(pattern, sub, options.replay);
    return receiver;
  }

  /** @internal Handler subscription with a namespace strip length. */
  onWith(
    pattern: string,
    handler: (payload: T, topic: string) => void,
    options: HandlerOptions<T>,
    strip: number,
  ): () => void {
    if (this.#isClosed) throw pubsubClosed('TypedPubSub', 'subscribe');
    validatePattern(pattern);
    isFunction('handler', handler);
    const filter = checkFilter(options.filter);
    this.#checkLimit();
    if (
      strip === 0 &&
      filter === undefined &&
      this.#replay === undefined &&
      this.#subs.compactFits(pattern)
    ) {
      return this.#subs.addCompact(pattern, handler);
    }
    const sub = new Subscription<TypedMessage<T>, T>(
      ++this.#seq,
      handler,
      undefined,
      filter,
      strip,
    );
    this.#add(pattern, sub, options.replay);
    // A bound method, not a closure: about half the memory per subscription.
    return sub.unsubscribe.bind(sub);
  }

  /** Wildcard entries matching `topic`; validates the topic unless an exact entry vouches for it. */
  #wildcards(topic: string, exact: Slot<T> | undefined): readonly Entry<T>[] {
    const index = this.#index;
    if (index.wildcardCount === 0) {
      if (exact === undefined) validateTopic(topic);
      return NONE;
    }
    return index.matchWildcards(topic, exact === undefined);
  }

  #updateSimple(): void {
    this.#simple =
      !this.#isClosed &&
      this.#index.wildcardCount === 0 &&
      this.#subs.blocking === 0 &&
      this.#replay === undefined &&
      this.#metrics === undefined;
  }

  #checkLimit(): void {
    if (this.#subs.subscriptions >= this.#maxSubscriptions) {
      throw new CapacityExceededError(
        `subscribe: the hub already holds maxSubscriptions (${this.#maxSubscriptions}) subscriptions`,
        { code: 'ERR_PUBSUB_SUBSCRIPTION_LIMIT', details: { limit: this.#maxSubscriptions } },
      );
    }
  }

  #add(pattern: string, sub: Sub<T>, replay: boolean | undefined): void {
    this.#subs.add(pattern, sub);
    if (this.#replay !== undefined && replay !== false) {
      const delivery = this.#delivery;
      for (const m of this.#replay.matching(pattern)) delivery.offer(sub, m.topic, m.payload, m);
    }
  }

  #deliver(
    topic: string,
    payload: T,
    exact: Slot<T> | undefined,
    wild: readonly Entry<T>[],
  ): number {
    // Handlers run now and get (payload, topic): the clock is read and a message
    // object built only when a receiver matches or replay is on.
    const delivery = this.#delivery;
    let message: TypedMessage<T> | undefined;
    if (this.#replay !== undefined || needsMessage(exact, wild)) {
      message = delivery.message(topic, payload);
      this.#replay?.record(topic, message);
    }
    const limit = this.#seq;
    let delivered = 0;
    if (typeof exact === 'function') {
      delivery.call(exact, topic, payload);
      delivered = 1;
    } else if (exact !== undefined) {
      delivered = delivery.run(exact.subs, topic, payload, message, limit);
    }
    for (let w = 0; w < wild.length; w++) {
      delivered += delivery.run((wild[w] as Entry<T>).subs, topic, payload, message, limit);
    }
    delivery.count(delivered);
    return delivered;
  }
}

function needsMessage<T>(exact: Slot<T> | undefined, wild: readonly Entry<T>[]): boolean {
  if (exact !== undefined && typeof exact !== 'function' && exact.receivers > 0) return true;
  for (let i = 0; i < wild.length; i++) if ((wild[i] as Entry<T>).receivers > 0) return true;
  return false;
}

function checkFilter<T>(
  filter: ((payload: T, topic: string) => boolean) | undefined,
): ((payload: T, topic: string) => boolean) | undefined {
  if (filter !== undefined && typeof filter !== 'function') {
    throw new InvalidArgumentError('filter: expected a function', {
      details: { option: 'filter' },
    });
  }
  return filter;
}

import type { WaitOptions } from '../core/abort.js';
import { throwIfAborted } from '../core/abort.js';
import type { Clock } from '../core/clock.js';
import { CapacityExceededError, InvalidArgumentError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import type { MetricLabels, MetricsSink } from '../core/metrics.js';
import type { Namespace } from '../core/namespace.js';
import { isFunction } from '../core/validate.js';
import { resolveHubOptions, type TypedPubSubOptions } from './hub-options.js';
import {
  PUBSUB_DELIVERED,
  PUBSUB_DROPPED,
  PUBSUB_LAGGED,
  PUBSUB_PUBLISHED,
  PUBSUB_SUBSCRIPTIONS,
  type PubSubHubKind,
} from './metrics.js';
import { ReceiverQueue, type OverflowPolicy, type Receiver } from './receiver.js';
import { ReplayStore } from './replay-store.js';
import { PatternEntry, pubsubClosed, reportError, Subscription } from './subscription.js';
import type { PubSubErrorHandler } from './subscription.js';
import { TopicIndex } from './topic-index.js';
import { isWildcardPattern, validatePattern, validateTopic } from './topic.js';
import { HubScope, type HubCore } from './hub-scope.js';
import type { HandlerOptions, PubSubStats, SubscribeOptions, TypedMessage } from './types.js';

const NONE: readonly never[] = Object.freeze([]);
type Sub<T> = Subscription<TypedMessage<T>, T>;
type Entry<T> = PatternEntry<TypedMessage<T>, T>;
type Handler<T> = (payload: T, topic: string) => void;
/**
 * What an exact topic maps to: its entry, or — for a topic whose only subscription is a
 * plain handler (no filter, namespace or replay) — the handler itself. The compact form
 * keeps a subscription to one Map slot (no entry, array or subscription object), which
 * is what makes 100k single-handler topics cheap; it becomes an entry as soon as a
 * second subscription joins the topic.
 */
type Slot<T> = Entry<T> | Handler<T>;

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
export type { TypedPubSubOptions };

export class TypedPubSub<T> implements Closeable, HubCore<T> {
  readonly #life = new Lifecycle('pubsub');
  readonly #index: TopicIndex<Entry<T>, Handler<T>>;
  readonly #exact: ReadonlyMap<string, Slot<T>>;
  #isClosed = false;
  /**
   * Whether new handler subscriptions may take the compact form. A compact handle finds
   * its subscription by (topic, handler), which is unambiguous only while no compact
   * subscription was ever removed behind its handle's back (`unsubscribeAll`); after
   * that the hub uses full subscriptions, so a stale handle can never remove a newer one.
   */
  #compactOk = true;
  /** Open, no wildcard pattern, no 'block' receiver, no replay, no metrics sink. */
  #simple = false;
  readonly #replay: ReplayStore<TypedMessage<T>> | undefined;
  readonly #capacity: number;
  readonly #overflow: OverflowPolicy;
  readonly #maxSubscriptions: number;
  readonly #clock: Clock;
  readonly #metrics: MetricsSink | undefined;
  readonly #labels: MetricLabels;
  readonly #onError: PubSubErrorHandler;
  #seq = 0;
  readonly #release = (sub: Sub<T>): void => this.#close(sub);
  #subscriptions = 0;
  #blocking = 0;
  #published = 0;
  #delivered = 0;
  #dropped = 0;
  #lagged = 0;

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
    this.#index = new TopicIndex(o.maxCachedTopics);
    this.#exact = this.#index.exactMap;
    this.#clock = o.clock;
    this.#onError = o.onError;
    this.#metrics = o.metrics;
    this.#labels = o.labels;
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
    if (this.#subscriptions >= this.#maxSubscriptions) {
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
      if (typeof exact === 'function') {
        this.#callCompact(exact, topic, payload);
        this.#published++;
        this.#delivered++;
        return 1;
      }
      if (exact.receivers === 0) return this.#deliverToHandlers(topic, payload, exact);
    }
    return this.#publishChecked(topic, payload, exact);
  }

  /** The general publish path, kept out of `publish` so the fast path stays small. */
  #publishChecked(topic: string, payload: T, exact: Slot<T> | undefined): number {
    if (this.#isClosed) throw pubsubClosed('TypedPubSub', 'publish');
    const wild = this.#wildcards(topic, exact);
    if (this.#blocking > 0) {
      const full = this.#firstFull(exact, wild);
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
      const full = this.#blocking > 0 ? this.#firstFull(exact, wild) : undefined;
      if (full === undefined) return this.#deliver(topic, payload, exact, wild);
      await full.receiver?.waitForSpace(options);
    }
  }

  /** Ends every subscription of `pattern` (receivers drain, then end). Returns how many. */
  unsubscribeAll(pattern: string): number {
    validatePattern(pattern);
    const entry = this.#index.get(pattern);
    if (entry === undefined) return 0;
    // Its compact subscription's handle outlives it: see #compactOk.
    if (typeof entry === 'function' || entry.subs.some(isCompactBorn)) this.#compactOk = false;
    if (typeof entry === 'function') {
      this.#dropCompact(pattern);
      return 1;
    }
    const subs = [...entry.subs];
    for (const sub of subs) this.#close(sub);
    return subs.length;
  }

  /** Removes closed subscriptions still indexed. Closing already removes; returns 0 normally. */
  cleanupDeadSubscribers(): number {
    let removed = 0;
    for (const entry of [...this.#index.entries()]) {
      if (typeof entry === 'function') continue; // a handler: never dead
      for (const sub of [...entry.subs]) {
        if (sub.receiver?.isClosed === true) {
          this.#close(sub);
          removed++;
        }
      }
    }
    return removed;
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
    return this.#subscriptions;
  }

  /** Counters since creation and current sizes. */
  stats(): PubSubStats {
    return {
      published: this.#published,
      delivered: this.#delivered,
      dropped: this.#dropped,
      lagged: this.#lagged,
      subscriptions: this.#subscriptions,
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
    this.#compactOk = false;
    this.#life.closeSync(() => {
      for (const [pattern, entry] of [...this.#exact]) {
        if (typeof entry === 'function') this.#dropCompact(pattern);
      }
      for (const entry of [...this.#index.entries()]) {
        if (typeof entry === 'function') continue;
        for (const sub of [...entry.subs]) this.#close(sub);
      }
      this.#replay?.clear();
      this.#index.clearCache();
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
      onCancel: () => this.#close(sub),
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
      this.#compactOk &&
      strip === 0 &&
      filter === undefined &&
      this.#replay === undefined &&
      !isWildcardPattern(pattern) &&
      this.#index.get(pattern) === undefined
    ) {
      return this.#onCompact(pattern, handler);
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

  /** Subscribes `handler` in the compact form (see {@link Slot}); the topic is free. */
  #onCompact(topic: string, handler: Handler<T>): () => void {
    this.#index.setExact(topic, handler);
    this.#subscriptions++;
    this.#updateSimple();
    this.#metrics?.set(PUBSUB_SUBSCRIPTIONS, this.#subscriptions, this.#labels);
    // The handle is the only per-subscription object, and only while the caller keeps it.
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#offCompact(topic, handler);
    };
  }

  /**
   * A compact handle's unsubscribe: its subscription is the topic's compact slot, or the
   * compact-born subscription (`seq` 0) of the entry the slot became; if neither is
   * there, it was already removed (see #compactOk for why this cannot be a newer one).
   */
  #offCompact(topic: string, handler: Handler<T>): void {
    const slot = this.#exact.get(topic);
    if (slot === handler) {
      this.#dropCompact(topic);
    } else if (slot !== undefined && typeof slot !== 'function') {
      const sub = slot.subs.find(isCompactBorn);
      if (sub?.handler === handler) this.#close(sub);
    }
  }

  #dropCompact(topic: string): void {
    this.#index.delete(topic);
    this.#subscriptions--;
    this.#updateSimple();
    this.#metrics?.set(PUBSUB_SUBSCRIPTIONS, this.#subscriptions, this.#labels);
  }

  /** Calls a compact slot's handler (a delivery, even when it throws). */
  #callCompact(handler: Handler<T>, topic: string, payload: T): void {
    try {
      handler(payload, topic);
    } catch (error) {
      reportError(this.#onError, error);
    }
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
      this.#blocking === 0 &&
      this.#replay === undefined &&
      this.#metrics === undefined;
  }

  /** The fast path's delivery: `exact` has no receiver, there is no wildcard pattern. */
  #deliverToHandlers(topic: string, payload: T, exact: Entry<T>): number {
    // Its own copy of the `#run` loop: this call site only ever sees handlers, so it
    // stays small and monomorphic when other hubs in the process take the general path.
    const subs = exact.subs;
    const limit = this.#seq;
    let delivered = 0;
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i] as Sub<T>;
      if (sub.seq > limit) continue;
      if (sub.plain) {
        try {
          (sub.handler as (payload: T, topic: string) => void)(payload, topic);
        } catch (error) {
          reportError(this.#onError, error);
        }
        delivered++;
      } else if (this.#offer(sub, topic, payload, undefined)) delivered++;
    }
    this.#published++;
    this.#delivered += delivered;
    return delivered;
  }

  /**
   * Offers a publish to one pattern's subscriptions. Those created during this publish
   * (`seq > limit`) and closed ones (`seq` = Infinity) are skipped; removal replaces the
   * array, so the loop is never disturbed by re-entrant subscribe/unsubscribe.
   */
  #run(
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
        try {
          (sub.handler as (payload: T, topic: string) => void)(payload, topic);
        } catch (error) {
          reportError(this.#onError, error);
        }
        delivered++;
      } else if (this.#offer(sub, topic, payload, message)) delivered++;
    }
    return delivered;
  }

  #checkLimit(): void {
    if (this.#subscriptions >= this.#maxSubscriptions) {
      throw new CapacityExceededError(
        `subscribe: the hub already holds maxSubscriptions (${this.#maxSubscriptions}) subscriptions`,
        { code: 'ERR_PUBSUB_SUBSCRIPTION_LIMIT', details: { limit: this.#maxSubscriptions } },
      );
    }
  }

  #add(pattern: string, sub: Sub<T>, replay: boolean | undefined): void {
    let entry = this.#index.get(pattern);
    if (typeof entry === 'function') {
      // A second subscription joins a compact topic: the handler becomes a subscription
      // (`seq` 0: older than any publish; it marks the one a compact handle owns).
      const first = new Subscription<TypedMessage<T>, T>(0, entry, undefined, undefined, 0);
      first.release = this.#release;
      entry = new PatternEntry<TypedMessage<T>, T>(first, pattern);
      first.entry = entry;
      this.#index.setExact(pattern, entry);
    }
    if (entry === undefined) {
      const created = new PatternEntry<TypedMessage<T>, T>(sub, pattern);
      sub.entry = created;
      this.#index.add(created);
    } else {
      sub.entry = entry;
      // In place even during a publish: the publish skips subscriptions newer than itself.
      entry.subs.push(sub);
    }
    if (sub.receiver !== undefined) (sub.entry as Entry<T>).receivers++;
    sub.release = this.#release;
    this.#subscriptions++;
    if (sub.blocking) this.#blocking++;
    this.#updateSimple();
    this.#metrics?.set(PUBSUB_SUBSCRIPTIONS, this.#subscriptions, this.#labels);
    if (this.#replay !== undefined && replay !== false) {
      for (const m of this.#replay.matching(pattern)) this.#offer(sub, m.topic, m.payload, m);
    }
  }

  #close(sub: Sub<T>): void {
    if (sub.isClosed) return;
    sub.seq = Infinity;
    const entry = sub.entry;
    if (entry !== undefined) {
      // Copy on write: a publish in progress keeps iterating its own array.
      entry.subs = entry.subs.filter((s) => s !== sub);
      if (sub.receiver !== undefined) entry.receivers--;
      if (entry.subs.length === 0) this.#index.delete(entry.pattern);
    }
    this.#subscriptions--;
    if (sub.blocking) this.#blocking--;
    this.#updateSimple();
    sub.receiver?.end();
    this.#metrics?.set(PUBSUB_SUBSCRIPTIONS, this.#subscriptions, this.#labels);
  }

  #firstFull(exact: Slot<T> | undefined, wild: readonly Entry<T>[]): Sub<T> | undefined {
    if (exact !== undefined && typeof exact !== 'function') {
      for (const sub of exact.subs) if (sub.blocking && sub.receiver?.isFull === true) return sub;
    }
    for (const entry of wild) {
      for (const sub of entry.subs) if (sub.blocking && sub.receiver?.isFull === true) return sub;
    }
    return undefined;
  }

  #deliver(
    topic: string,
    payload: T,
    exact: Slot<T> | undefined,
    wild: readonly Entry<T>[],
  ): number {
    // Handlers run now and get (payload, topic): the clock is read and a message
    // object built only when a receiver matches or replay is on.
    let message: TypedMessage<T> | undefined;
    if (this.#replay !== undefined || needsMessage(exact, wild)) {
      message = { topic, payload, timestamp: this.#clock.now() };
      this.#replay?.record(topic, message);
    }
    const limit = this.#seq;
    let delivered = 0;
    if (typeof exact === 'function') {
      this.#callCompact(exact, topic, payload);
      delivered = 1;
    } else if (exact !== undefined)
      delivered = this.#run(exact.subs, topic, payload, message, limit);
    for (let w = 0; w < wild.length; w++) {
      delivered += this.#run((wild[w] as Entry<T>).subs, topic, payload, message, limit);
    }
    this.#published++;
    this.#delivered += delivered;
    const metrics = this.#metrics;
    if (metrics !== undefined) {
      metrics.increment(PUBSUB_PUBLISHED, 1, this.#labels);
      if (delivered > 0) metrics.increment(PUBSUB_DELIVERED, delivered, this.#labels);
    }
    return delivered;
  }

  /**
   * Offers one publish to one subscription; true when it accepted it. Handlers get
   * `(payload, topic)`; receivers get `message` (built only when receivers match).
   */
  #offer(sub: Sub<T>, topic: string, payload: T, message: TypedMessage<T> | undefined): boolean {
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
      try {
        handler(payload, seen);
      } catch (error) {
        reportError(this.#onError, error);
      }
      return true;
    }
    let item = message ?? { topic, payload, timestamp: this.#clock.now() };
    if (strip !== 0) item = { topic: seen, payload, timestamp: item.timestamp };
    const result = (sub.receiver as ReceiverQueue<TypedMessage<T>>).push(item);
    if (result === 'delivered') return true;
    if (result === 'lagged') {
      this.#lagged++;
      this.#metrics?.increment(PUBSUB_LAGGED, 1, this.#labels);
      return true;
    }
    if (result === 'dropped' || result === 'full') {
      this.#dropped++;
      this.#metrics?.increment(PUBSUB_DROPPED, 1, this.#labels);
    }
    return false;
  }
}

function isCompactBorn(sub: { readonly seq: number }): boolean {
  return sub.seq === 0;
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

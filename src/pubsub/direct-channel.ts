import type { WaitOptions } from '../core/abort.js';
import { throwIfAborted } from '../core/abort.js';
import { CapacityExceededError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import { noopMetrics, type MetricLabels, type MetricsSink } from '../core/metrics.js';
import { MAX_RING_CAPACITY } from '../core/ring-buffer.js';
import { isFunction, positiveInteger } from '../core/validate.js';
import { Fanout, type Tally } from './fanout.js';
import {
  hubLabels,
  PUBSUB_DELIVERED,
  PUBSUB_DROPPED,
  PUBSUB_LAGGED,
  PUBSUB_PUBLISHED,
  PUBSUB_SUBSCRIPTIONS,
} from './metrics.js';
import {
  DEFAULT_RECEIVER_CAPACITY,
  overflowPolicy,
  ReceiverQueue,
  type OverflowPolicy,
  type Receiver,
} from './receiver.js';
import {
  pubsubClosed,
  Subscription,
  warnOnError,
  type PubSubErrorHandler,
} from './subscription.js';

/** Options of a {@link DirectChannel} or `HashedChannel`. */
export interface ChannelOptions {
  /** Default overflow policy of receivers; default `'drop-oldest'`. */
  readonly overflow?: OverflowPolicy | undefined;
  /** Where published/delivered/dropped/lagged/subscriptions are reported. */
  readonly metrics?: MetricsSink | undefined;
  /** Receives errors thrown by handlers; default: a process warning. */
  readonly onError?: PubSubErrorHandler | undefined;
}

/** Options of one channel receiver. */
export interface ChannelSubscribeOptions {
  /** Buffer capacity; default: the channel's capacity. */
  readonly capacity?: number | undefined;
  /** Overflow policy; default: the channel's. */
  readonly overflow?: OverflowPolicy | undefined;
  /** Told, on the consumer side, how many values were lost before the next one. */
  readonly onLag?: ((missed: number) => void) | undefined;
}

/** Counters of a channel since creation, and its current size. */
export interface ChannelStats {
  /** Messages published since creation. */
  readonly published: number;
  /** Deliveries made (one per accepting subscription per message). */
  readonly delivered: number;
  /** Deliveries refused because a `drop-newest` subscriber's buffer was full. */
  readonly dropped: number;
  /** Buffered messages overwritten under `drop-oldest` (the subscribers' combined lag). */
  readonly lagged: number;
  /** Subscriptions open now. */
  readonly subscriptions: number;
}

/**
 * Raw broadcast, no topic, no wrapper: every value goes to every subscriber, handlers
 * synchronously and receivers through their buffer. Values published while nobody
 * listens are gone.
 *
 * @example
 * ```ts
 * const ticks = new DirectChannel<number>(64);
 * const off = ticks.on((n) => console.log(n));
 * using rx = ticks.subscribe();
 * ticks.publish(1); // 2: the handler and the receiver
 * await rx.recv(); // 1
 * off();
 * ```
 */
export class DirectChannel<T> implements Closeable {
  /** Default receiver capacity. */
  readonly capacity: number;
  readonly #overflow: OverflowPolicy;
  readonly #life = new Lifecycle('DirectChannel');
  readonly #fanout = new Fanout<T, T>();
  readonly #tally: Tally = { delivered: 0, dropped: 0, lagged: 0 };
  readonly #metrics: MetricsSink | undefined;
  readonly #labels: MetricLabels = hubLabels('direct');
  readonly #onError: PubSubErrorHandler;
  #seq = 0;
  readonly #release = (sub: Subscription<T, T>): void => this.#remove(sub);
  #published = 0;

  /** @throws InvalidArgumentError for a capacity outside 1..2^24 or a bad option. */
  constructor(capacity: number = DEFAULT_RECEIVER_CAPACITY, options: ChannelOptions = {}) {
    this.capacity = positiveInteger('capacity', capacity, MAX_RING_CAPACITY);
    this.#overflow = overflowPolicy('overflow', options.overflow);
    if (options.onError !== undefined) isFunction('onError', options.onError);
    this.#onError = options.onError ?? warnOnError;
    const metrics = options.metrics ?? noopMetrics;
    this.#metrics = metrics === noopMetrics ? undefined : metrics;
  }

  /** A receiver of every value published from now on. */
  subscribe(options: ChannelSubscribeOptions = {}): Receiver<T> {
    if (this.#life.isClosed) throw pubsubClosed('DirectChannel', 'subscribe');
    const receiver = new ReceiverQueue<T>({
      capacity: options.capacity ?? this.capacity,
      overflow: options.overflow ?? this.#overflow,
      onLag: options.onLag,
      onCancel: () => this.#remove(sub),
    });
    const sub = new Subscription<T, T>(++this.#seq, undefined, receiver, undefined, 0);
    this.#add(sub);
    return receiver;
  }

  /** Calls `handler` synchronously with every value; returns the unsubscribe function. */
  on(handler: (value: T) => void): () => void {
    if (this.#life.isClosed) throw pubsubClosed('DirectChannel', 'subscribe');
    isFunction('handler', handler);
    const sub = new Subscription<T, T>(++this.#seq, handler, undefined, undefined, 0);
    this.#add(sub);
    return sub.unsubscribe.bind(sub);
  }

  /**
   * Sends `value` to every subscriber; returns how many accepted it.
   *
   * @throws ClosedError (`ERR_PUBSUB_CLOSED`) after close; CapacityExceededError
   *   (`ERR_PUBSUB_FULL`) when a `'block'` receiver is full (nothing is delivered).
   */
  publish(value: T): number {
    if (this.#life.isClosed) throw pubsubClosed('DirectChannel', 'publish');
    const fanout = this.#fanout;
    if (fanout.blocking > 0 && fanout.firstFull() !== undefined) {
      throw new CapacityExceededError("publish: a 'block' subscriber is full; use publishAsync", {
        code: 'ERR_PUBSUB_FULL',
      });
    }
    return this.#deliver(value);
  }

  /** Publishes once every `'block'` receiver has room (abortable). */
  async publishAsync(value: T, options: WaitOptions = {}): Promise<number> {
    for (;;) {
      throwIfAborted(options.signal, 'publishAsync');
      if (this.#life.isClosed) throw pubsubClosed('DirectChannel', 'publish');
      const full = this.#fanout.firstFull();
      if (full === undefined) return this.#deliver(value);
      await full.receiver?.waitForSpace(options);
    }
  }

  /** Active subscriptions. */
  get subscriberCount(): number {
    return this.#fanout.size;
  }

  /** Values published since creation (including those nobody received). */
  get messagesPublished(): number {
    return this.#published;
  }

  /** Counters since creation. */
  stats(): ChannelStats {
    return { published: this.#published, ...this.#tally, subscriptions: this.#fanout.size };
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Resolves once closed; never rejects. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** Ends every receiver (they drain, then end), drops handlers, refuses further use. */
  close(): Promise<void> {
    this.#life.closeSync(() => {
      for (const sub of [...this.#fanout.subs]) this.#remove(sub);
    });
    return this.#life.closed;
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #deliver(value: T): number {
    const tally = this.#tally;
    const metrics = this.#metrics;
    if (metrics === undefined) {
      this.#published++;
      return this.#fanout.deliver(value, value, '', this.#seq, tally, this.#onError);
    }
    const { dropped, lagged } = tally;
    const delivered = this.#fanout.deliver(value, value, '', this.#seq, tally, this.#onError);
    this.#published++;
    metrics.increment(PUBSUB_PUBLISHED, 1, this.#labels);
    if (delivered > 0) metrics.increment(PUBSUB_DELIVERED, delivered, this.#labels);
    if (tally.dropped > dropped)
      metrics.increment(PUBSUB_DROPPED, tally.dropped - dropped, this.#labels);
    if (tally.lagged > lagged)
      metrics.increment(PUBSUB_LAGGED, tally.lagged - lagged, this.#labels);
    return delivered;
  }

  #add(sub: Subscription<T, T>): void {
    sub.release = this.#release;
    this.#fanout.add(sub);
    this.#metrics?.set(PUBSUB_SUBSCRIPTIONS, this.#fanout.size, this.#labels);
  }

  #remove(sub: Subscription<T, T>): void {
    if (this.#fanout.remove(sub)) {
      this.#metrics?.set(PUBSUB_SUBSCRIPTIONS, this.#fanout.size, this.#labels);
    }
  }
}

import type { WaitOptions } from '../core/abort.js';
import { throwIfAborted } from '../core/abort.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import type { MetricLabels } from '../core/metrics.js';
import { isFunction } from '../core/validate.js';
import {
  assertRoom,
  channelReceiver,
  channelSettings,
  reportPublish,
  type ChannelOptions,
  type ChannelSettings,
  type ChannelStats,
  type ChannelSubscribeOptions,
} from './channel-support.js';
import { Fanout, type Tally } from './fanout.js';
import { hubLabels, PUBSUB_SUBSCRIPTIONS } from './metrics.js';
import { DEFAULT_RECEIVER_CAPACITY, type Receiver } from './receiver.js';
import { pubsubClosed, Subscription } from './subscription.js';

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
  readonly #settings: ChannelSettings;
  readonly #life = new Lifecycle('DirectChannel');
  readonly #fanout = new Fanout<T, T>();
  readonly #tally: Tally = { delivered: 0, dropped: 0, lagged: 0 };
  readonly #labels: MetricLabels = hubLabels('direct');
  #seq = 0;
  readonly #release = (sub: Subscription<T, T>): void => this.#remove(sub);
  #published = 0;

  /** @throws InvalidArgumentError for a capacity outside 1..2^24 or a bad option. */
  constructor(capacity: number = DEFAULT_RECEIVER_CAPACITY, options: ChannelOptions = {}) {
    this.#settings = channelSettings(capacity, options);
    this.capacity = this.#settings.capacity;
  }

  /** A receiver of every value published from now on. */
  subscribe(options: ChannelSubscribeOptions = {}): Receiver<T> {
    if (this.#life.isClosed) throw pubsubClosed('DirectChannel', 'subscribe');
    const receiver = channelReceiver<T>(this.#settings, options, () => this.#remove(sub));
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
    assertRoom(this.#fanout);
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
    const { metrics, onError } = this.#settings;
    if (metrics === undefined) {
      this.#published++;
      return this.#fanout.deliver(value, value, '', this.#seq, tally, onError);
    }
    const before = { dropped: tally.dropped, lagged: tally.lagged };
    const delivered = this.#fanout.deliver(value, value, '', this.#seq, tally, onError);
    this.#published++;
    reportPublish(metrics, this.#labels, delivered, tally, before);
    return delivered;
  }

  #add(sub: Subscription<T, T>): void {
    sub.release = this.#release;
    this.#fanout.add(sub);
    this.#settings.metrics?.set(PUBSUB_SUBSCRIPTIONS, this.#fanout.size, this.#labels);
  }

  #remove(sub: Subscription<T, T>): void {
    if (this.#fanout.remove(sub)) {
      this.#settings.metrics?.set(PUBSUB_SUBSCRIPTIONS, this.#fanout.size, this.#labels);
    }
  }
}

import type { WaitOptions } from '../core/abort.js';
import { throwIfAborted } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
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
import { hubLabels, PUBSUB_PUBLISHED, PUBSUB_SUBSCRIPTIONS } from './metrics.js';
import { DEFAULT_RECEIVER_CAPACITY, type Receiver } from './receiver.js';
import { pubsubClosed, Subscription } from './subscription.js';
import { validateTopic } from './topic.js';

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;

/**
 * A topic key for {@link HashedChannel}. Routing uses the topic string itself, so two
 * different topics can never share a channel; `value` (FNV-1a 64 of the UTF-16 code
 * units) exists only for parity with the reference and is computed on first read.
 */
export class TopicHash {
  /** The topic. */
  readonly topic: string;
  #value: bigint | undefined;

  private constructor(topic: string) {
    this.topic = topic;
  }

  /**
   * The key of a topic.
   *
   * @throws InvalidArgumentError (`ERR_PUBSUB_INVALID_TOPIC`).
   */
  static of(topic: string): TopicHash {
    return new TopicHash(validateTopic(topic));
  }

  /** A 64-bit hash of the topic (informational; never used for routing). */
  get value(): bigint {
    if (this.#value === undefined) {
      let h = FNV_OFFSET;
      for (let i = 0; i < this.topic.length; i++) {
        h = ((h ^ BigInt(this.topic.charCodeAt(i))) * FNV_PRIME) & MASK_64;
      }
      this.#value = h;
    }
    return this.#value;
  }

  /** True for the same topic. */
  equals(other: TopicHash): boolean {
    return other.topic === this.topic;
  }
}

/** A message of a {@link HashedChannel}. */
export interface HashedMessage<T> {
  /** The exact topic it was published to. */
  readonly topic: string;
  /** Monotonic nanoseconds since the channel was created (from the clock's `monotonic`). */
  readonly timestampNs: number;
  /** The published value (shared by all subscribers: treat it as immutable). */
  readonly payload: T;
}

/** Options of a {@link HashedChannel}. */
export interface HashedChannelOptions extends ChannelOptions {
  /** Source of `timestampNs`. */
  readonly clock?: Clock | undefined;
}

type Key = string | TopicHash;
type Sub<T> = Subscription<HashedMessage<T>, T>;

/**
 * Exact-topic routing without wildcards: one `Map` lookup by topic string per publish,
 * each message timestamped. A topic's entry disappears with its last subscriber.
 *
 * @example
 * ```ts
 * const ch = new HashedChannel<string>(128);
 * using rx = ch.subscribe('jobs/done');
 * ch.publish('jobs/done', 'job-1'); // 1
 * (await rx.recv()).payload;        // 'job-1'
 * ```
 */
export class HashedChannel<T> implements Closeable {
  /** Default receiver capacity. */
  readonly capacity: number;
  readonly #settings: ChannelSettings;
  readonly #life = new Lifecycle('HashedChannel');
  readonly #topics = new Map<string, Fanout<HashedMessage<T>, T>>();
  readonly #tally: Tally = { delivered: 0, dropped: 0, lagged: 0 };
  readonly #clock: Clock;
  readonly #origin: number;
  readonly #labels: MetricLabels = hubLabels('hashed');
  #seq = 0;
  #published = 0;
  #subscriptions = 0;

  /** @throws InvalidArgumentError for a capacity outside 1..2^24 or a bad option. */
  constructor(capacity: number = DEFAULT_RECEIVER_CAPACITY, options: HashedChannelOptions = {}) {
    this.#settings = channelSettings(capacity, options);
    this.capacity = this.#settings.capacity;
    this.#clock = options.clock ?? systemClock;
    this.#origin = this.#clock.monotonic();
  }

  /** A receiver of `topic`. */
  subscribe(topic: Key, options: ChannelSubscribeOptions = {}): Receiver<HashedMessage<T>> {
    if (this.#life.isClosed) throw pubsubClosed('HashedChannel', 'subscribe');
    const name = topicOf(topic);
    const receiver = channelReceiver<HashedMessage<T>>(this.#settings, options, () =>
      this.#remove(name, sub),
    );
    const sub: Sub<T> = new Subscription(++this.#seq, undefined, receiver, undefined, 0);
    this.#add(name, sub);
    return receiver;
  }

  /** Calls `handler(payload, topic)` synchronously inside each publish to `topic`; returns the unsubscribe function. */
  on(topic: Key, handler: (payload: T, topic: string) => void): () => void {
    if (this.#life.isClosed) throw pubsubClosed('HashedChannel', 'subscribe');
    const name = topicOf(topic);
    isFunction('handler', handler);
    const sub: Sub<T> = new Subscription(++this.#seq, handler, undefined, undefined, 0);
    this.#add(name, sub);
    return () => this.#remove(name, sub);
  }

  /**
   * Publishes to the subscribers of `topic`; returns how many accepted (0 for a topic
   * nobody subscribed).
   *
   * @throws InvalidArgumentError (`ERR_PUBSUB_INVALID_TOPIC`), ClosedError
   *   (`ERR_PUBSUB_CLOSED`), CapacityExceededError (`ERR_PUBSUB_FULL`) for a full
   *   `'block'` receiver (nothing is delivered).
   */
  publish(topic: Key, payload: T): number {
    if (this.#life.isClosed) throw pubsubClosed('HashedChannel', 'publish');
    const name = typeof topic === 'string' ? topic : topic.topic;
    const fanout = this.#topics.get(name);
    if (fanout === undefined) {
      validateTopic(name);
      this.#published++;
      this.#settings.metrics?.increment(PUBSUB_PUBLISHED, 1, this.#labels);
      return 0;
    }
    assertRoom(fanout);
    return this.#deliver(fanout, name, payload);
  }

  /** Publishes once every `'block'` receiver of the topic has room (abortable). */
  async publishAsync(topic: Key, payload: T, options: WaitOptions = {}): Promise<number> {
    for (;;) {
      throwIfAborted(options.signal, 'publishAsync');
      const fanout = this.#topics.get(typeof topic === 'string' ? topic : topic.topic);
      const full = fanout?.firstFull();
      if (full === undefined) return this.publish(topic, payload);
      await full.receiver?.waitForSpace(options);
    }
  }

  /** Ends every subscription of `topic` (receivers drain, then end); returns how many. */
  unsubscribe(topic: Key): number {
    const name = topicOf(topic);
    const fanout = this.#topics.get(name);
    if (fanout === undefined) return 0;
    const subs = [...fanout.subs];
    for (const sub of subs) this.#remove(name, sub);
    return subs.length;
  }

  /** Topics with at least one subscription. */
  get topicCount(): number {
    return this.#topics.size;
  }

  /** Messages published since creation (including to topics nobody subscribed). */
  get messagesPublished(): number {
    return this.#published;
  }

  /** Counters since creation. */
  stats(): ChannelStats {
    return { published: this.#published, ...this.#tally, subscriptions: this.#subscriptions };
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
      for (const name of [...this.#topics.keys()]) this.unsubscribe(name);
    });
    return this.#life.closed;
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #deliver(fanout: Fanout<HashedMessage<T>, T>, topic: string, payload: T): number {
    // Handlers run now and get (payload, topic); the clock is read only for receivers.
    const message: HashedMessage<T> | undefined =
      fanout.receivers === 0
        ? undefined
        : {
            topic,
            timestampNs: Math.round((this.#clock.monotonic() - this.#origin) * 1e6),
            payload,
          };
    const tally = this.#tally;
    const { metrics, onError } = this.#settings;
    if (metrics === undefined) {
      this.#published++;
      return fanout.deliver(message, payload, topic, this.#seq, tally, onError);
    }
    const before = { dropped: tally.dropped, lagged: tally.lagged };
    const delivered = fanout.deliver(message, payload, topic, this.#seq, tally, onError);
    this.#published++;
    reportPublish(metrics, this.#labels, delivered, tally, before);
    return delivered;
  }

  #add(topic: string, sub: Sub<T>): void {
    let fanout = this.#topics.get(topic);
    if (fanout === undefined) {
      fanout = new Fanout<HashedMessage<T>, T>();
      this.#topics.set(topic, fanout);
    }
    fanout.add(sub);
    this.#subscriptions++;
    this.#settings.metrics?.set(PUBSUB_SUBSCRIPTIONS, this.#subscriptions, this.#labels);
  }

  #remove(topic: string, sub: Sub<T>): void {
    const fanout = this.#topics.get(topic);
    if (fanout === undefined || !fanout.remove(sub)) return;
    if (fanout.size === 0) this.#topics.delete(topic);
    this.#subscriptions--;
    this.#settings.metrics?.set(PUBSUB_SUBSCRIPTIONS, this.#subscriptions, this.#labels);
  }
}

function topicOf(topic: Key): string {
  return typeof topic === 'string' ? validateTopic(topic) : topic.topic;
}

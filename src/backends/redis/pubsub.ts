import type { Redis } from 'ioredis';
import { throwIfAborted } from '../../core/abort.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { DEFAULT_MAX_BYTES, decodeJson, encodeJsonText } from '../../core/codec.js';
import { ClosedError, InvalidArgumentError, ProtocolError, toError } from '../../core/errors.js';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import { labelTable, noopMetrics, type MetricsSink } from '../../core/metrics.js';
import { isFunction, optionalSignal, positiveInteger } from '../../core/validate.js';
import {
  createReceiver,
  type OverflowPolicy,
  type Receiver,
  type ReceiverSource,
} from '../../pubsub/receiver.js';
import { matchValidated, validatePattern, validateTopic } from '../../pubsub/topic.js';
import type { TypedMessage } from '../../pubsub/types.js';
import {
  ensureReady,
  quitQuietly,
  replyUnless,
  releaseClient,
  resolveClient,
  wrapRedisError,
  type RedisConnectionInput,
  type ResolvedClient,
} from './connection.js';
import { baseKey, escapeGlob, type RedisKeyOptions } from './keys.js';
import { redisBackgroundErrors, redisPubSubGaps, redisPubSubMessages } from './metrics.js';

const DIRECTION_LABELS = labelTable('direction', ['published', 'delivered']);

/** A period without a subscriber connection: messages published meanwhile were missed. */
export interface RedisPubSubGap {
  /** Local time (clock.now()) the connection was lost. */
  readonly disconnectedAt: number;
  /** Local time it was back and resubscribed. */
  readonly reconnectedAt: number;
  /** The majra patterns that were subscribed during the gap. */
  readonly patterns: readonly string[];
}

/** Options of {@link RedisPubSub}. */
export interface RedisPubSubOptions extends RedisKeyOptions {
  /** Largest encoded message, both ways. @defaultValue 16 MiB */
  readonly maxPayloadBytes?: number;
  /** Called after a reconnect with the gap during which messages were missed. */
  readonly onGap?: (gap: RedisPubSubGap) => void;
  /** Malformed or foreign messages (skipped) and background failures. */
  readonly onError?: (error: Error) => void;
  /** Metrics sink (`majra_redis_pubsub_*`). @defaultValue discards */
  readonly metrics?: MetricsSink;
  /** Stamps each published message's `timestamp` (publisher side) and gap reports. @defaultValue systemClock */
  readonly clock?: Clock;
}

/** Options of {@link RedisPubSub.subscribe}. */
export interface RedisSubscribeOptions {
  /** Messages buffered for a slow consumer. @defaultValue 256 */
  readonly capacity?: number;
  /** `'drop-oldest'` (default) or `'drop-newest'`; Redis cannot apply backpressure. */
  readonly overflow?: Exclude<OverflowPolicy, 'block'>;
  /** Aborts the subscribe call itself (before the server acknowledged). */
  readonly signal?: AbortSignal;
}

interface Subscription<T> {
  readonly pattern: string;
  readonly source: ReceiverSource<TypedMessage<T>>;
}

/**
 * Translates a (validated) majra pattern to a Redis glob pattern that matches a superset
 * of its topics under `channelPrefix`: literal levels and the prefix are escaped (`* ? [ ]
 * \`), `+`/`*` levels become `*`, and a trailing `#` becomes `*` glued to the previous
 * level so that `a/#` also matches `a`. Redis `*` crosses `/`, so every message is then
 * re-checked with the in-process matcher.
 *
 * @internal
 */
export function toRedisPattern(channelPrefix: string, pattern: string): string {
  const levels = pattern.split('/');
  let out = escapeGlob(channelPrefix);
  levels.forEach((level, i) => {
    if (level === '#') {
      out += '*';
      return;
    }
    if (i > 0) out += '/';
    out += level === '+' || level === '*' ? '*' : escapeGlob(level);
  });
  return out;
}

/**
 * Cross-process pub/sub on Redis with majra's topic semantics: `publish(topic, value)` and
 * `subscribe(pattern)` returning the same {@link Receiver} as the in-memory hubs, delivering
 * exactly the messages `TypedPubSub` would (patterns are translated to Redis globs and every
 * message is re-checked with the in-process matcher). `subscribe` resolves once the server
 * acknowledged the subscription; one dedicated connection serves every subscription and,
 * after a dropped connection, reconnects and resubscribes by itself and reports the gap
 * (Redis pub/sub is at-most-once: messages published during the gap are lost).
 *
 * @example
 * ```ts
 * const bus = await connectRedisPubSub<{ id: number }>(redis, 'events');
 * const rx = await bus.subscribe('orders/+/created');
 * await bus.publish('orders/eu/created', { id: 1 });
 * (await rx.recv()).payload.id; // 1
 * ```
 */
export class RedisPubSub<T = unknown> implements Closeable {
  /** Channels are `<channelPrefix><topic>`. */
  readonly channelPrefix: string;
  readonly #resolved: ResolvedClient;
  readonly #client: Redis;
  readonly #life = new Lifecycle('RedisPubSub');
  /** Aborted by close(): a subscribe waiting on a reconnect gives up. */
  readonly #closing = new AbortController();
  readonly #maxBytes: number;
  readonly #metrics: MetricsSink;
  readonly #clock: Clock;
  readonly #onGap: ((gap: RedisPubSubGap) => void) | undefined;
  readonly #onError: ((error: Error) => void) | undefined;
  /** Redis pattern -> subscriptions sharing it. */
  readonly #byRedisPattern = new Map<string, Set<Subscription<T>>>();
  #subscriber: Redis | undefined;
  #disconnectedAt: number | undefined;

  /**
   * Creates the hub without I/O; validates options. `connectRedisPubSub` also waits for the
   * server.
   */
  constructor(redis: RedisConnectionInput, name: string, options: RedisPubSubOptions = {}) {
    this.channelPrefix = `${baseKey(options, 'pubsub', name)}:`;
    this.#maxBytes = positiveInteger(
      'maxPayloadBytes',
      options.maxPayloadBytes ?? DEFAULT_MAX_BYTES,
      512 * 1024 * 1024,
    );
    if (options.onGap !== undefined) isFunction('onGap', options.onGap);
    if (options.onError !== undefined) isFunction('onError', options.onError);
    this.#onGap = options.onGap;
    this.#onError = options.onError;
    this.#metrics = options.metrics ?? noopMetrics;
    this.#clock = options.clock ?? systemClock;
    this.#resolved = resolveClient(redis);
    this.#client = this.#resolved.client;
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Connects (for a URL). Rejects with `ERR_REDIS_UNREACHABLE`. */
  async ready(): Promise<this> {
    this.#life.assertOpen('connect');
    await ensureReady(this.#resolved);
    return this;
  }

  /**
   * Publishes `payload` on `topic`; resolves with the number of Redis subscriber
   * connections that received it (not a delivery guarantee).
   *
   * @throws InvalidArgumentError for an invalid topic (`ERR_PUBSUB_INVALID_TOPIC`) or an
   *   unserialisable payload, before anything is sent.
   */
  async publish(topic: string, payload: T): Promise<number> {
    this.#life.assertOpen('publish');
    validateTopic(topic);
    const body = encodeJsonText(payload, this.#maxBytes);
    const message = `{"t":${this.#clock.now()},"p":${body}}`;
    try {
      const receivers = await this.#client.publish(this.channelPrefix + topic, message);
      this.#metrics.increment(redisPubSubMessages, 1, DIRECTION_LABELS.published);
      return receivers;
    } catch (error) {
      throw wrapRedisError(error, 'publish');
    }
  }

  /**
   * Subscribes to a majra pattern; resolves once Redis acknowledged it, so anything
   * published afterwards is received. Closing the receiver unsubscribes.
   */
  async subscribe(
    pattern: string,
    options: RedisSubscribeOptions = {},
  ): Promise<Receiver<TypedMessage<T>>> {
    this.#life.assertOpen('subscribe');
    validatePattern(pattern);
    const signal = optionalSignal('signal', options.signal);
    if ((options.overflow as OverflowPolicy | undefined) === 'block') {
      throw new InvalidArgumentError(
        "overflow: expected 'drop-oldest' or 'drop-newest' (Redis pub/sub cannot block the publisher), got \"block\"",
        { details: { option: 'overflow' } },
      );
    }
    throwIfAborted(signal, 'subscribe');
    const redisPattern = toRedisPattern(this.channelPrefix, pattern);
    const { receiver, source } = createReceiver<TypedMessage<T>>({
      capacity: options.capacity,
      overflow: options.overflow,
      // Only ever called after `subscription` below is initialised (on receiver close).
      onCancel: () => this.#remove(redisPattern, subscription),
    });
    const subscription: Subscription<T> = { pattern, source };
    let set = this.#byRedisPattern.get(redisPattern);
    const first = set === undefined;
    if (set === undefined) {
      set = new Set();
      this.#byRedisPattern.set(redisPattern, set);
    }
    set.add(subscription);
    try {
      // Sent even when the pattern is shared: its reply orders after the first one's.
      // During an outage the PSUBSCRIBE waits for the reconnect: the caller's signal and
      // close() end that wait.
      const reply = this.#subscriberClient().psubscribe(redisPattern);
      await replyUnless(reply, 'subscribe', signal, this.#closing.signal);
      throwIfAborted(signal, 'subscribe');
    } catch (error) {
      receiver.close();
      throw wrapRedisError(error, first ? 'PSUBSCRIBE' : 'subscribe');
    }
    return receiver;
  }

  /** Patterns currently subscribed (majra syntax). */
  get patterns(): string[] {
    const out: string[] = [];
    for (const set of this.#byRedisPattern.values()) for (const s of set) out.push(s.pattern);
    return out;
  }

  /** Ends every receiver (they drain what is buffered), closes the subscriber connection. */
  close(): Promise<void> {
    return this.#life.close(async () => {
      this.#closing.abort(new ClosedError('RedisPubSub closed while subscribing'));
      for (const set of this.#byRedisPattern.values()) for (const s of set) s.source.end();
      this.#byRedisPattern.clear();
      const subscriber = this.#subscriber;
      this.#subscriber = undefined;
      if (subscriber !== undefined) await quitQuietly(subscriber);
      await releaseClient(this.#resolved);
    });
  }

  /** Same as `close()`, so `await using bus = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #remove(redisPattern: string, subscription: Subscription<T>): void {
    const set = this.#byRedisPattern.get(redisPattern);
    if (set === undefined) return;
    set.delete(subscription);
    if (set.size > 0) return;
    this.#byRedisPattern.delete(redisPattern);
    const subscriber = this.#subscriber;
    if (subscriber === undefined || this.#life.isClosed) return;
    subscriber.punsubscribe(redisPattern).catch((error: unknown) => {
      this.#report(wrapRedisError(error, 'PUNSUBSCRIBE'), 'punsubscribe');
    });
  }

  #subscriberClient(): Redis {
    if (this.#subscriber !== undefined) return this.#subscriber;
    const subscriber = this.#client.duplicate({ autoResubscribe: true, commandTimeout: undefined });
    subscriber.on('pmessage', (redisPattern: string, channel: string, message: string) => {
      this.#deliver(redisPattern, channel, message);
    });
    subscriber.on('error', () => undefined); // surfaced through commands and gap reports
    subscriber.on('close', () => {
      this.#disconnectedAt ??= this.#clock.now();
    });
    subscriber.on('ready', () => {
      const since = this.#disconnectedAt;
      if (since === undefined) return;
      this.#disconnectedAt = undefined;
      const gap = {
        disconnectedAt: since,
        reconnectedAt: this.#clock.now(),
        patterns: this.patterns,
      };
      this.#metrics.increment(redisPubSubGaps);
      try {
        this.#onGap?.(gap);
      } catch (error) {
        this.#report(toError(error), 'on_gap');
      }
    });
    this.#subscriber = subscriber;
    return subscriber;
  }

  #deliver(redisPattern: string, channel: string, message: string): void {
    const set = this.#byRedisPattern.get(redisPattern);
    if (set === undefined || !channel.startsWith(this.channelPrefix)) return;
    const topic = channel.slice(this.channelPrefix.length);
    let decoded: TypedMessage<T>;
    try {
      validateTopic(topic);
      const value = decodeJson(message, this.#maxBytes);
      if (typeof value !== 'object' || value === null || !('p' in value) || !('t' in value)) {
        throw new ProtocolError('message is not a majra pub/sub envelope', {
          code: 'ERR_REDIS_MALFORMED_REPLY',
        });
      }
      const { t, p } = value;
      decoded = { topic, payload: p as T, timestamp: typeof t === 'number' ? t : 0 };
    } catch (error) {
      this.#report(toError(error), 'decode');
      return;
    }
    for (const subscription of set) {
      if (!matchValidated(subscription.pattern, topic)) continue;
      subscription.source.push(decoded);
      this.#metrics.increment(redisPubSubMessages, 1, DIRECTION_LABELS.delivered);
    }
  }

  #report(error: Error, component: string): void {
    this.#metrics.increment(redisBackgroundErrors, 1, { component: `pubsub_${component}` });
    try {
      this.#onError?.(error);
    } catch {
      // a throwing hook must not break delivery
    }
  }
}

/** Creates a {@link RedisPubSub} and resolves once Redis answers. */
export async function connectRedisPubSub<T = unknown>(
  redis: RedisConnectionInput,
  name: string,
  options: RedisPubSubOptions = {},
): Promise<RedisPubSub<T>> {
  const bus = new RedisPubSub<T>(redis, name, options);
  try {
    return await bus.ready();
  } catch (error) {
    await bus.close();
    throw error;
  }
}

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { throwIfAborted } from '../../core/abort.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { DEFAULT_MAX_BYTES, encodeJsonText } from '../../core/codec.js';
import { CapacityExceededError, InvalidArgumentError, isMajraError } from '../../core/errors.js';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../../core/metrics.js';
import { isFunction, optionalSignal, positiveInteger } from '../../core/validate.js';
import { createReceiver, type Receiver } from '../../pubsub/receiver.js';
import { validatePattern, validateTopic } from '../../pubsub/topic.js';
import {
  ensureReady,
  releaseClient,
  resolveClient,
  wrapRedisError,
  type RedisConnectionInput,
  type ResolvedClient,
} from './connection.js';
import { baseKey, validateKeyPart, type RedisKeyOptions } from './keys.js';
import { redisBackgroundErrors, redisStreamMessages } from './metrics.js';
import { StreamReader, type RedisStreamMessage, type StreamReaderHost } from './stream-reader.js';

export type { RedisStreamMessage } from './stream-reader.js';

/** Options of {@link RedisStreamPubSub}. */
export interface RedisStreamPubSubOptions extends RedisKeyOptions {
  /**
   * Entries kept in the stream (`XADD MAXLEN ~`: trimmed in whole nodes, so the length
   * may exceed this by up to `stream-node-max-entries`, 100 by default). A group that
   * falls further behind loses the oldest entries. @defaultValue 100 000
   */
  readonly maxLength?: number;
  /** Largest encoded payload, both ways. @defaultValue 16 MiB */
  readonly maxPayloadBytes?: number;
  /** Durable subscriptions (each holds one connection). @defaultValue 64 */
  readonly maxSubscriptions?: number;
  /** Malformed entries (skipped), trimmed pending entries and background failures. */
  readonly onError?: (error: Error) => void;
  /** Metrics sink (`majra_redis_stream_messages_total`). @defaultValue discards */
  readonly metrics?: MetricsSink;
  /** Time source for message timestamps, claim scheduling and retry backoff. @defaultValue systemClock */
  readonly clock?: Clock;
}

/** Options of {@link RedisStreamPubSub.subscribe}. */
export interface RedisStreamSubscribeOptions {
  /**
   * The durable subscription: a consumer group. Every group receives every message;
   * consumers of one group share them (each message goes to one consumer).
   */
  readonly group: string;
  /**
   * This consumer's name within the group. A restarted process that reuses its name
   * gets its unacknowledged entries back at once; otherwise they are claimed after
   * `claimIdleMs`. @defaultValue `<hostname>:<pid>:<random>`
   */
  readonly consumer?: string;
  /** Where a group that does not exist yet starts: `'new'` (default) or `'start'` of the stream. */
  readonly from?: 'new' | 'start';
  /** Messages buffered in the receiver (reads pause when it is full). @defaultValue 256 */
  readonly capacity?: number;
  /** Delivered, unacknowledged messages held at once (reads pause). @defaultValue 1000 */
  readonly maxUnacked?: number;
  /**
   * An entry delivered to a consumer of the group and not acknowledged for this long is
   * claimed and redelivered (its consumer died or stalled). Must exceed the time a
   * message may wait in the buffer plus its handling. @defaultValue 30 000
   */
  readonly claimIdleMs?: number;
  /** Longest single blocking read. @defaultValue 5000 */
  readonly blockMs?: number;
  /** Consumers idle this long holding nothing are deleted from the group. @defaultValue 1 h */
  readonly consumerIdleMs?: number;
  /** Aborts the subscribe call itself. */
  readonly signal?: AbortSignal;
}

const MAX_MS = 2 ** 31 - 1;

/**
 * Durable cross-process pub/sub on a Redis Stream: at-least-once delivery that survives
 * disconnects and consumer crashes. `publish` appends to one bounded stream per bus
 * (`XADD MAXLEN ~`); `subscribe(pattern, { group })` reads it through a consumer group
 * (`XREADGROUP`), keeps only the topics the majra pattern matches (acknowledging the
 * rest), and hands out the same {@link Receiver} as the other hubs. Each message must be
 * acknowledged with {@link RedisStreamPubSub.ack}; until then it stays pending in the
 * group, so a subscriber that reconnects resumes from the group's last id and gets its
 * own pending entries back, and entries held by a consumer that died are claimed by
 * another after `claimIdleMs` (`XAUTOCLAIM`).
 *
 * @example
 * ```ts
 * const bus = await connectRedisStreamPubSub<{ id: number }>(redis, 'orders');
 * const rx = await bus.subscribe('orders/+/created', { group: 'billing' });
 * await bus.publish('orders/eu/created', { id: 1 });
 * const message = await rx.recv();
 * await handle(message.payload);
 * await bus.ack(message);
 * ```
 */
export class RedisStreamPubSub<T = unknown> implements Closeable {
  /** The stream key. */
  readonly streamKey: string;
  /** Entries kept (approximately) in the stream. */
  readonly maxLength: number;
  readonly #resolved: ResolvedClient;
  readonly #client: Redis;
  readonly #life = new Lifecycle('RedisStreamPubSub');
  readonly #maxBytes: number;
  readonly #maxSubscriptions: number;
  readonly #metrics: MetricsSink;
  readonly #clock: Clock;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #readers = new Set<StreamReader<T>>();
  readonly #owners = new WeakMap<object, StreamReader<unknown>>();
  readonly #host: StreamReaderHost;

  /**
   * Prefer {@link connectRedisStreamPubSub}, which also checks the connection. `name`
   * selects the stream; `redis` is a connection or options to create one.
   */
  constructor(redis: RedisConnectionInput, name: string, options: RedisStreamPubSubOptions = {}) {
    this.streamKey = `${baseKey(options, 'stream', name)}:log`;
    this.maxLength = positiveInteger('maxLength', options.maxLength ?? 100_000, 2 ** 32);
    this.#maxBytes = positiveInteger(
      'maxPayloadBytes',
      options.maxPayloadBytes ?? DEFAULT_MAX_BYTES,
      512 * 1024 * 1024,
    );
    this.#maxSubscriptions = positiveInteger(
      'maxSubscriptions',
      options.maxSubscriptions ?? 64,
      10_000,
    );
    if (options.onError !== undefined) isFunction('onError', options.onError);
    this.#onError = options.onError;
    this.#metrics = options.metrics ?? noopMetrics;
    this.#clock = options.clock ?? systemClock;
    this.#resolved = resolveClient(redis);
    this.#client = this.#resolved.client;
    this.#host = {
      key: this.streamKey,
      client: this.#client,
      clock: this.#clock,
      maxBytes: this.#maxBytes,
      report: (error, component) => this.#report(error, component),
      count: (event, n) => this.#metrics.increment(redisStreamMessages, n, { event }),
      bind: (message, reader) => this.#owners.set(message, reader),
      release: (reader) => void this.#drop(reader as StreamReader<T>),
    };
  }

  /** Resolves once closed. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` was called. */
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
   * Appends `payload` on `topic` to the stream; resolves with its entry id once Redis
   * stored it. Every group, including ones whose consumers are disconnected, will see it
   * (unless trimmed by `maxLength` first).
   *
   * @throws InvalidArgumentError for an invalid topic (`ERR_PUBSUB_INVALID_TOPIC`) or an
   *   unserialisable or oversized payload (`ERR_CODEC_*`), before anything is sent.
   */
  async publish(topic: string, payload: T): Promise<string> {
    this.#life.assertOpen('publish');
    validateTopic(topic);
    const body = encodeJsonText(payload, this.#maxBytes);
    try {
      const id = await this.#client.xadd(
        this.streamKey,
        'MAXLEN',
        '~',
        this.maxLength,
        '*',
        't',
        topic,
        'ts',
        this.#clock.now(),
        'p',
        body,
      );
      this.#metrics.increment(redisStreamMessages, 1, { event: 'published' });
      return String(id);
    } catch (error) {
      throw wrapRedisError(error, 'XADD');
    }
  }

  /**
   * Starts (or resumes) the durable subscription `group` for `pattern`; resolves once the
   * group exists, so anything published afterwards will be delivered. A group that
   * already exists resumes where it stopped. Closing the receiver stops reading; what it
   * did not acknowledge stays pending for the group.
   */
  async subscribe(
    pattern: string,
    options: RedisStreamSubscribeOptions,
  ): Promise<Receiver<RedisStreamMessage<T>>> {
    this.#life.assertOpen('subscribe');
    validatePattern(pattern);
    const config = this.#config(pattern, options);
    const signal = optionalSignal('signal', options.signal);
    throwIfAborted(signal, 'subscribe');
    for (const reader of this.#readers) {
      if (reader.config.group === config.group && reader.config.consumer === config.consumer) {
        throw new InvalidArgumentError(
          `consumer "${config.consumer}" of group "${config.group}" is already subscribed on this bus`,
          { details: { option: 'consumer' } },
        );
      }
    }
    if (this.#readers.size >= this.#maxSubscriptions) {
      throw new CapacityExceededError(
        `RedisStreamPubSub already holds maxSubscriptions (${this.#maxSubscriptions}) subscriptions`,
        { code: 'ERR_PUBSUB_SUBSCRIPTION_LIMIT' },
      );
    }
    const start = options.from === 'start' ? '0' : '$';
    try {
      await this.#client.call('XGROUP', 'CREATE', this.streamKey, config.group, start, 'MKSTREAM');
    } catch (error) {
      // BUSYGROUP: the group exists and keeps its position (that is the resume).
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) {
        throw wrapRedisError(error, 'XGROUP CREATE');
      }
    }
    throwIfAborted(signal, 'subscribe');
    this.#life.assertOpen('subscribe');
    const { receiver, source } = createReceiver<RedisStreamMessage<T>>({
      capacity: config.capacity,
      overflow: 'block',
      onCancel: () => void this.#drop(reader),
    });
    const reader = new StreamReader<T>(this.#host, config, source);
    this.#readers.add(reader);
    reader.start();
    return receiver;
  }

  /**
   * Acknowledges messages (XACK): they will not be redelivered. Resolves with how many
   * were still pending (0 for a message already acknowledged, or claimed and acknowledged
   * by another consumer).
   */
  async ack(messages: RedisStreamMessage<T> | readonly RedisStreamMessage<T>[]): Promise<number> {
    this.#life.assertOpen('ack');
    const list: readonly RedisStreamMessage<T>[] = Array.isArray(messages)
      ? messages
      : [messages as RedisStreamMessage<T>];
    const byGroup = new Map<string, string[]>();
    for (const message of list) {
      if (typeof message !== 'object' || typeof message.id !== 'string') {
        throw new InvalidArgumentError('ack: expected messages received from this bus', {
          details: { option: 'messages' },
        });
      }
      const ids = byGroup.get(message.group) ?? [];
      ids.push(message.id);
      byGroup.set(message.group, ids);
    }
    let acked = 0;
    const groups = [...byGroup.keys()];
    for (const [index, group] of groups.entries()) {
      try {
        const ids = byGroup.get(group) ?? [];
        acked += Number(await this.#client.call('XACK', this.streamKey, group, ...ids));
      } catch (error) {
        // Unknown whether Redis applied it (and the groups after it were not tried): the
        // readers re-read their pending lists, so a message still pending comes back (at
        // least once) instead of being skipped as still held by the receiver.
        this.#settle(list, new Set(groups.slice(0, index)), (reader, ids) => reader.acked(ids));
        this.#settle(list, new Set(groups.slice(index)), (reader, ids) => reader.ackFailed(ids));
        throw wrapRedisError(error, 'XACK');
      }
    }
    this.#settle(list, byGroup, (reader, ids) => reader.acked(ids));
    this.#metrics.increment(redisStreamMessages, acked, { event: 'acked' });
    return acked;
  }

  /** Entries currently in the stream (XLEN). */
  async length(): Promise<number> {
    this.#life.assertOpen('length');
    try {
      return await this.#client.xlen(this.streamKey);
    } catch (error) {
      throw wrapRedisError(error, 'XLEN');
    }
  }

  /**
   * Deletes a durable subscription and everything pending in it (XGROUP DESTROY). Its
   * subscriptions on this bus are stopped first. Resolves true when it existed.
   */
  async deleteGroup(group: string): Promise<boolean> {
    this.#life.assertOpen('deleteGroup');
    validateKeyPart('group', group);
    for (const reader of [...this.#readers]) {
      if (reader.config.group === group) await this.#drop(reader);
    }
    try {
      return Number(await this.#client.call('XGROUP', 'DESTROY', this.streamKey, group)) === 1;
    } catch (error) {
      if (error instanceof Error && /no such key/i.test(error.message)) return false;
      throw wrapRedisError(error, 'XGROUP DESTROY');
    }
  }

  /** Stops every subscription (receivers drain what they hold), closes owned connections. */
  close(): Promise<void> {
    return this.#life.close(async () => {
      await Promise.all([...this.#readers].map((reader) => this.#drop(reader)));
      await releaseClient(this.#resolved);
    });
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Tells each reader that delivered messages of `groups` in `list` what became of them. */
  #settle(
    list: readonly RedisStreamMessage<T>[],
    groups: { has(group: string): boolean },
    apply: (reader: StreamReader<unknown>, ids: string[]) => void,
  ): void {
    const byReader = new Map<StreamReader<unknown>, string[]>();
    for (const message of list) {
      const reader = groups.has(message.group) ? this.#owners.get(message) : undefined;
      if (reader === undefined) continue;
      const ids = byReader.get(reader);
      if (ids === undefined) byReader.set(reader, [message.id]);
      else ids.push(message.id);
    }
    for (const [reader, ids] of byReader) apply(reader, ids);
  }

  async #drop(reader: StreamReader<T>): Promise<void> {
    if (!this.#readers.delete(reader)) return;
    try {
      await reader.stop();
    } catch (error) {
      this.#report(isMajraError(error) ? error : wrapRedisError(error, 'stop'), 'stream_close');
    }
  }

  #config(pattern: string, options: RedisStreamSubscribeOptions) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidArgumentError('subscribe: expected options with a group', {
        details: { option: 'group' },
      });
    }
    const from: unknown = options.from;
    if (from !== undefined && from !== 'new' && from !== 'start') {
      throw new InvalidArgumentError(`from: expected 'new' or 'start'`, {
        details: { option: 'from' },
      });
    }
    const blockMs = positiveInteger('blockMs', options.blockMs ?? 5000, MAX_MS);
    const consumerIdleMs = positiveInteger(
      'consumerIdleMs',
      options.consumerIdleMs ?? 3_600_000,
      MAX_MS,
    );
    // A live consumer touches the group at least every blockMs; keep a wide margin.
    if (consumerIdleMs < 4 * blockMs) {
      throw new InvalidArgumentError(
        `consumerIdleMs: expected at least 4 x blockMs (${4 * blockMs}), got ${consumerIdleMs}`,
        { details: { option: 'consumerIdleMs' } },
      );
    }
    return {
      pattern,
      group: validateKeyPart('group', options.group),
      consumer: validateKeyPart(
        'consumer',
        options.consumer ??
          `${hostname()}:${process.pid}:${randomBytes(4).toString('base64url')}`.slice(-512),
      ),
      capacity: positiveInteger('capacity', options.capacity ?? 256, 2 ** 24),
      maxUnacked: positiveInteger('maxUnacked', options.maxUnacked ?? 1000, 2 ** 24),
      claimIdleMs: positiveInteger('claimIdleMs', options.claimIdleMs ?? 30_000, MAX_MS),
      blockMs,
      consumerIdleMs,
    };
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

/** Creates a {@link RedisStreamPubSub} and resolves once Redis answers. */
export async function connectRedisStreamPubSub<T = unknown>(
  redis: RedisConnectionInput,
  name: string,
  options: RedisStreamPubSubOptions = {},
): Promise<RedisStreamPubSub<T>> {
  const bus = new RedisStreamPubSub<T>(redis, name, options);
  try {
    return await bus.ready();
  } catch (error) {
    await bus.close();
    throw error;
  }
}

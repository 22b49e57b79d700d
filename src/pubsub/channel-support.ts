/**
 * What `DirectChannel` and `HashedChannel` share: their options and stats, option
 * validation, receiver creation, the `'block'` check of a sync publish, and metrics.
 *
 * @module
 */
import { CapacityExceededError } from '../core/errors.js';
import { noopMetrics, type MetricLabels, type MetricsSink } from '../core/metrics.js';
import { MAX_RING_CAPACITY } from '../core/ring-buffer.js';
import { isFunction, positiveInteger } from '../core/validate.js';
import type { Fanout, Tally } from './fanout.js';
import { PUBSUB_DELIVERED, PUBSUB_DROPPED, PUBSUB_LAGGED, PUBSUB_PUBLISHED } from './metrics.js';
import { overflowPolicy, ReceiverQueue, type OverflowPolicy } from './receiver.js';
import { warnOnError, type PubSubErrorHandler } from './subscription.js';

/** Options of a `DirectChannel` or `HashedChannel`. */
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
 * A channel's validated settings.
 *
 * @internal
 */
export interface ChannelSettings {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  readonly onError: PubSubErrorHandler;
  /** Undefined when no sink (or the no-op sink) was given: nothing is reported. */
  readonly metrics: MetricsSink | undefined;
}

/**
 * Validates a channel's capacity and options.
 *
 * @throws InvalidArgumentError for a capacity outside 1..2^24 or a bad option.
 * @internal
 */
export function channelSettings(capacity: number, options: ChannelOptions): ChannelSettings {
  const checked = positiveInteger('capacity', capacity, MAX_RING_CAPACITY);
  const overflow = overflowPolicy('overflow', options.overflow);
  if (options.onError !== undefined) isFunction('onError', options.onError);
  const metrics = options.metrics ?? noopMetrics;
  return {
    capacity: checked,
    overflow,
    onError: options.onError ?? warnOnError,
    metrics: metrics === noopMetrics ? undefined : metrics,
  };
}

/**
 * A receiver with the channel's defaults under `options`.
 *
 * @internal
 */
export function channelReceiver<M>(
  settings: ChannelSettings,
  options: ChannelSubscribeOptions,
  onCancel: () => void,
): ReceiverQueue<M> {
  return new ReceiverQueue<M>({
    capacity: options.capacity ?? settings.capacity,
    overflow: options.overflow ?? settings.overflow,
    onLag: options.onLag,
    onCancel,
  });
}

/**
 * Refuses a sync publish while a `'block'` receiver of `fanout` is full.
 *
 * @throws CapacityExceededError (`ERR_PUBSUB_FULL`); nothing is delivered.
 * @internal
 */
export function assertRoom<M, P>(fanout: Fanout<M, P>): void {
  if (fanout.blocking > 0 && fanout.firstFull() !== undefined) {
    throw new CapacityExceededError("publish: a 'block' subscriber is full; use publishAsync", {
      code: 'ERR_PUBSUB_FULL',
    });
  }
}

/**
 * Reports one publish that `delivered` subscribers accepted, given the tally's dropped
 * and lagged counts from before it.
 *
 * @internal
 */
export function reportPublish(
  metrics: MetricsSink,
  labels: MetricLabels,
  delivered: number,
  tally: Tally,
  before: { readonly dropped: number; readonly lagged: number },
): void {
  metrics.increment(PUBSUB_PUBLISHED, 1, labels);
  if (delivered > 0) metrics.increment(PUBSUB_DELIVERED, delivered, labels);
  if (tally.dropped > before.dropped) {
    metrics.increment(PUBSUB_DROPPED, tally.dropped - before.dropped, labels);
  }
  if (tally.lagged > before.lagged) {
    metrics.increment(PUBSUB_LAGGED, tally.lagged - before.lagged, labels);
  }
}

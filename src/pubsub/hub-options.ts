/**
 * Options of the topic hubs and their validation.
 *
 * @module
 * @internal
 */
import { systemClock, type Clock } from '../core/clock.js';
import { noopMetrics, type MetricLabels, type MetricsSink } from '../core/metrics.js';
import { MAX_RING_CAPACITY } from '../core/ring-buffer.js';
import { isFunction, nonNegativeInteger, positiveInteger } from '../core/validate.js';
import { hubLabels, type PubSubHubKind } from './metrics.js';
import { DEFAULT_RECEIVER_CAPACITY, overflowPolicy, type OverflowPolicy } from './receiver.js';
import { warnOnError, type PubSubErrorHandler } from './subscription.js';
import { DEFAULT_MATCH_CACHE_SIZE } from './topic-index.js';

/** Options of {@link TypedPubSub} (and of the JSON `PubSub`). */
export interface TypedPubSubOptions {
  /** Default capacity of each receiver; 1..2^24, default 256. */
  readonly capacity?: number | undefined;
  /** Default overflow policy of receivers; default `'drop-oldest'`. */
  readonly overflow?: OverflowPolicy | undefined;
  /** Messages kept per concrete topic for late subscribers; 0 (default) disables replay. */
  readonly replayCapacity?: number | undefined;
  /** Topics with a replay buffer; the least recently published is evicted. Default 1024. */
  readonly maxReplayTopics?: number | undefined;
  /** Subscriptions (receivers + handlers) the hub accepts; default unlimited. */
  readonly maxSubscriptions?: number | undefined;
  /** Topics whose wildcard matches are cached; 0 disables the cache. Default 1024. */
  readonly maxCachedTopics?: number | undefined;
  /** Source of message timestamps. */
  readonly clock?: Clock | undefined;
  /** Where published/delivered/dropped/lagged/subscriptions are reported. */
  readonly metrics?: MetricsSink | undefined;
  /** Receives errors thrown by handlers and filters; default: a process warning. */
  readonly onError?: PubSubErrorHandler | undefined;
}

/** Validated options with defaults applied. */
export interface ResolvedHubOptions {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  readonly replayCapacity: number;
  readonly maxReplayTopics: number;
  readonly maxSubscriptions: number;
  readonly maxCachedTopics: number;
  readonly clock: Clock;
  /** Undefined when no sink (or the no-op sink) was given: nothing is reported. */
  readonly metrics: MetricsSink | undefined;
  readonly labels: MetricLabels;
  readonly onError: PubSubErrorHandler;
}

/**
 * Validates hub options and applies defaults.
 *
 * @throws InvalidArgumentError naming the option, what was expected and what was given.
 */
export function resolveHubOptions(
  options: TypedPubSubOptions,
  kind: PubSubHubKind,
): ResolvedHubOptions {
  if (options.onError !== undefined) isFunction('onError', options.onError);
  const metrics = options.metrics ?? noopMetrics;
  return {
    capacity: positiveInteger(
      'capacity',
      options.capacity ?? DEFAULT_RECEIVER_CAPACITY,
      MAX_RING_CAPACITY,
    ),
    overflow: overflowPolicy('overflow', options.overflow),
    replayCapacity: nonNegativeInteger('replayCapacity', options.replayCapacity ?? 0, 65_536),
    maxReplayTopics: positiveInteger('maxReplayTopics', options.maxReplayTopics ?? 1024),
    maxSubscriptions: positiveInteger(
      'maxSubscriptions',
      options.maxSubscriptions ?? Number.MAX_SAFE_INTEGER,
    ),
    maxCachedTopics: nonNegativeInteger(
      'maxCachedTopics',
      options.maxCachedTopics ?? DEFAULT_MATCH_CACHE_SIZE,
    ),
    clock: options.clock ?? systemClock,
    metrics: metrics === noopMetrics ? undefined : metrics,
    labels: hubLabels(kind),
    onError: options.onError ?? warnOnError,
  };
}

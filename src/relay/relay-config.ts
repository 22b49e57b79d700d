// The Relay's options, validated once and resolved to their defaults, and its stats snapshot.
import { systemClock, type Clock } from '../core/clock.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import {
  invalid,
  isFunction,
  nonNegativeInteger,
  positiveInteger,
  positiveNumber,
} from '../core/validate.js';
import { nextEpoch } from './message.js';
import type { DedupTable } from './dedup.js';
import type { PendingRequests } from './pending.js';
import type { RelayOptions, RelayRouter, RelayStats } from './relay-types.js';

/** Every Relay setting with its default applied. @internal */
export interface RelayConfig {
  readonly router: RelayRouter | undefined;
  readonly maxDedupEntries: number;
  readonly dedupTtlMs: number;
  readonly maxPendingRequests: number;
  readonly requestTimeoutMs: number;
  readonly subscriptionCapacity: number;
  readonly onError: ((error: Error) => void) | undefined;
  readonly clock: Clock;
  readonly metrics: MetricsSink;
  readonly epoch: number;
}

/**
 * Validates `options` and applies the defaults.
 *
 * @throws InvalidArgumentError naming the first bad option.
 * @internal
 */
export function relayConfig(options: RelayOptions): RelayConfig {
  if (options.router !== undefined && typeof options.router.deliver !== 'function') {
    invalid('router', 'a RelayRouter with deliver()', options.router);
  }
  if (options.onError !== undefined) isFunction('onError', options.onError);
  const clock = options.clock ?? systemClock;
  return {
    router: options.router,
    maxDedupEntries: positiveInteger('maxDedupEntries', options.maxDedupEntries ?? 65_536),
    dedupTtlMs: positiveNumber('dedupTtlMs', options.dedupTtlMs ?? 600_000),
    maxPendingRequests: positiveInteger('maxPendingRequests', options.maxPendingRequests ?? 10_000),
    requestTimeoutMs: positiveNumber('requestTimeoutMs', options.requestTimeoutMs ?? 30_000),
    subscriptionCapacity: positiveInteger(
      'subscriptionCapacity',
      options.subscriptionCapacity ?? 256,
    ),
    onError: options.onError,
    clock,
    metrics: options.metrics ?? noopMetrics,
    epoch:
      options.epoch === undefined ? nextEpoch(clock) : nonNegativeInteger('epoch', options.epoch),
  };
}

/** A relay's message counters (see {@link RelayStats}). @internal */
export interface RelayCounts {
  sent: number;
  received: number;
  duplicates: number;
  misdirected: number;
  invalid: number;
}

/** The stats snapshot of a relay's counters, dedup table and pending requests. @internal */
export function relayStats(
  counts: Readonly<RelayCounts>,
  dedup: DedupTable,
  pending: PendingRequests,
): RelayStats {
  return {
    messagesSent: counts.sent,
    messagesReceived: counts.received,
    duplicatesDropped: counts.duplicates,
    dedupEvicted: dedup.evictedByCapacity + dedup.evictedByTtl,
    dedupTableSize: dedup.size,
    epochResets: dedup.epochResets,
    misdirectedReplies: counts.misdirected,
    invalidMessages: counts.invalid,
    pendingRequests: pending.size,
    requestsTimedOut: pending.timedOut,
  };
}

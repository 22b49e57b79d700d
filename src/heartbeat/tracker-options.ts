/**
 * Options and events of the in-memory `HeartbeatTracker`, and validation of the updates
 * it receives.
 *
 * @module
 */
import type { Clock } from '../core/clock.js';
import type { MetricsSink } from '../core/metrics.js';
import { invalid } from '../core/validate.js';
import type { HeartbeatEvictionPolicy, HeartbeatThresholds, StatusTransition } from './types.js';

/** Default cap on tracked nodes. */
export const DEFAULT_MAX_NODES = 100_000;

/** Options of `HeartbeatTracker`. */
export interface HeartbeatTrackerOptions extends HeartbeatThresholds {
  /** Remove nodes that stay offline; default: never remove. */
  readonly eviction?: HeartbeatEvictionPolicy | undefined;
  /** Most nodes tracked; registering one more throws ERR_HEARTBEAT_CAPACITY. Default 100 000. */
  readonly maxNodes?: number | undefined;
  /** Time source (monotonic ms); default the system clock. */
  readonly clock?: Clock | undefined;
  /** Metrics sink; default discards. */
  readonly metrics?: MetricsSink | undefined;
  /**
   * Receives errors thrown by event listeners and by the sweeper. Without it they are
   * emitted as `'error'` (which, per Node convention, throws when nobody listens).
   */
  readonly onError?: ((error: Error) => void) | undefined;
}

/** Events of `HeartbeatTracker`. */
export interface HeartbeatEvents {
  /** A node changed status (ageing in a sweep, or recovery on a heartbeat). */
  transition: [transition: StatusTransition];
  /** A node was removed by the eviction policy. */
  evicted: [nodeId: string];
  /** A listener or the sweeper failed (only without an `onError` option). */
  error: [error: Error];
}

/** Options of `HeartbeatTracker.fleetStats`. */
export interface FleetStatsOptions {
  /** Count offline nodes' GPUs too (the reference's behaviour). Default false. */
  readonly includeOffline?: boolean | undefined;
}

/** Throws unless `update` is a plain object. @internal */
export function assertUpdate(update: unknown): void {
  if (typeof update !== 'object' || update === null || Array.isArray(update)) {
    invalid('update', 'an object { metadata?, gpus? }', update);
  }
}

/** Deep-copies metadata (null when absent); throws for uncloneable values. @internal */
export function copyMetadata(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  try {
    return structuredClone(value);
  } catch {
    return invalid('metadata', 'a structured-cloneable value', value);
  }
}

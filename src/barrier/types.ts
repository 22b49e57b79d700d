/**
 * Public shapes of the barrier module: results, records, stats, options and limits.
 *
 * @module
 */
import type { Clock } from '../core/clock.js';
import type { MetricsSink } from '../core/metrics.js';

/** Longest barrier or participant name accepted. */
export const MAX_BARRIER_NAME_LENGTH = 256;
/** Default cap on barriers defined at once. */
export const DEFAULT_MAX_BARRIERS = 10_000;
/** Default cap on participants of one barrier. */
export const DEFAULT_MAX_PARTICIPANTS = 10_000;

/** Where a barrier stands after an arrival or a forced release. */
export type BarrierResult =
  | {
      /** Some declared participants have not arrived (or been force-released) yet. */
      readonly status: 'waiting';
      /** Participants counted so far, force-released ones included. */
      readonly arrived: number;
      /** Participants declared at `create`. */
      readonly expected: number;
    }
  | {
      /** Everyone is accounted for: every waiter has been released. */
      readonly status: 'released';
    };

/** What `BarrierSet.complete` returns. */
export interface BarrierRecord {
  /** The barrier's name. */
  readonly name: string;
  /** Participants that arrived (and were not force-released), sorted. */
  readonly participants: readonly string[];
  /** True when any participant was force-released. */
  readonly forced: boolean;
  /** True when the barrier had released before it was completed. */
  readonly released: boolean;
}

/** Counters of a `BarrierSet`. */
export interface BarrierStats {
  /** Barriers defined now. */
  readonly barriers: number;
  /** Pending waits now. */
  readonly waiters: number;
  /** Arrivals counted since creation. */
  readonly arrivals: number;
  /** Barriers released since creation. */
  readonly releases: number;
  /** Participants force-released since creation. */
  readonly forced: number;
  /** Waits rejected (timeout, abort, removal, replacement, close) since creation. */
  readonly failedWaits: number;
}

/** Options of `BarrierSet`. */
export interface BarrierSetOptions {
  /** Most barriers defined at once; creating one more throws ERR_BARRIER_CAPACITY. Default 10 000. */
  readonly maxBarriers?: number | undefined;
  /** Most participants per barrier. Default 10 000. */
  readonly maxParticipants?: number | undefined;
  /** Clock that arms wait timeouts; default the system clock. */
  readonly clock?: Clock | undefined;
  /** Metrics sink; default discards. */
  readonly metrics?: MetricsSink | undefined;
}

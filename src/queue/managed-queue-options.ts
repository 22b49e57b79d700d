import type { Clock } from '../core/clock.js';
import { DEFAULT_MAX_BYTES } from '../core/codec.js';
import type { MetricsSink } from '../core/metrics.js';
import {
  invalid,
  nonEmptyString,
  nonNegativeInteger,
  positiveInteger,
  positiveNumber,
} from '../core/validate.js';
import type { ResourcePool, ResourceReq } from './types.js';

/** Options for `ManagedQueue`. Every option is validated at construction. */
export interface ManagedQueueOptions {
  /** Queue name, used as the `queue` metric label. @defaultValue 'managed' */
  readonly name?: string;
  /** Most jobs running at once; 0 means unlimited. Exact. @defaultValue 0 */
  readonly maxConcurrency?: number;
  /**
   * How long finished jobs stay queryable before `evictExpired` removes them.
   * @defaultValue 3_600_000 (one hour)
   */
  readonly finishedTtlMs?: number;
  /** When set, runs `evictExpired` this often on an unref'd timer of the clock. */
  readonly autoEvictIntervalMs?: number;
  /** Most queued jobs; `enqueue` beyond it rejects with `ERR_QUEUE_FULL`. @defaultValue unlimited */
  readonly maxQueued?: number;
  /**
   * Total resources. When set, the queue keeps a `ResourceLedger` of what running jobs
   * hold, and `dequeue()` without a pool dequeues against what is free.
   */
  readonly capacity?: ResourcePool;
  /** Largest JSON payload a store-backed queue accepts, in bytes. @defaultValue 16 MiB */
  readonly maxPayloadBytes?: number;
  /** Most event listeners plus streams at once. @defaultValue 1024 */
  readonly maxSubscribers?: number;
  /** Receives errors of the auto-evict timer and of throwing event listeners. */
  readonly onError?: (error: Error) => void;
  /** Time source for timestamps, TTLs and the auto-evict timer. @defaultValue systemClock */
  readonly clock?: Clock;
  /** Where metrics go. @defaultValue noopMetrics */
  readonly metrics?: MetricsSink;
}

/** Options for `ManagedQueue.restore`. */
export interface RestoreOptions extends ManagedQueueOptions {
  /**
   * What to do with jobs that were running when the previous process stopped:
   * `'requeue'` puts them back in their tier at their original position (attempt count
   * kept), `'fail'` marks them failed.
   */
  readonly running: 'requeue' | 'fail';
}

/** Options for `ManagedQueue.enqueue`. */
export interface EnqueueOptions {
  /** What the job needs; a job without a request fits every pool. */
  readonly resources?: ResourceReq;
}

/** @internal */
export interface ParsedOptions {
  readonly name: string;
  readonly maxConcurrency: number;
  readonly finishedTtlMs: number;
  readonly autoEvictIntervalMs: number | undefined;
  readonly maxQueued: number;
  readonly maxPayloadBytes: number;
  readonly maxSubscribers: number;
}

/** @internal */
export function parseOptions(options: ManagedQueueOptions): ParsedOptions {
  if (typeof options !== 'object') invalid('options', 'an object', options);
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    invalid('onError', 'a function', options.onError);
  }
  return {
    name: nonEmptyString('name', options.name ?? 'managed', 128),
    maxConcurrency: nonNegativeInteger('maxConcurrency', options.maxConcurrency ?? 0),
    finishedTtlMs: nonNegativeInteger('finishedTtlMs', options.finishedTtlMs ?? 3_600_000),
    autoEvictIntervalMs:
      options.autoEvictIntervalMs === undefined
        ? undefined
        : positiveNumber('autoEvictIntervalMs', options.autoEvictIntervalMs),
    maxQueued:
      options.maxQueued === undefined
        ? Number.POSITIVE_INFINITY
        : positiveInteger('maxQueued', options.maxQueued),
    maxPayloadBytes: positiveInteger(
      'maxPayloadBytes',
      options.maxPayloadBytes ?? DEFAULT_MAX_BYTES,
    ),
    maxSubscribers: positiveInteger('maxSubscribers', options.maxSubscribers ?? 1024, 1_000_000),
  };
}

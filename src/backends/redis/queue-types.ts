import type { Clock } from '../../core/clock.js';
import type { MetricsSink } from '../../core/metrics.js';
import type { RedisKeyOptions } from './keys.js';

// The public shapes of RedisQueue (options, jobs, dead letters, stats), apart from the
// class so queue.ts holds only behaviour.

/** Highest job priority; higher priorities are delivered first. */
export const MAX_REDIS_QUEUE_PRIORITY = 255;

/** A job claimed from a {@link RedisQueue}; pass it back to `ack`, `nack` or `extend`. */
export interface RedisJob<T> {
  /** Job id (generated, or the one given to `enqueue`). */
  readonly id: string;
  /** The payload as enqueued (JSON round trip). */
  readonly payload: T;
  /** Priority 0..255 (higher first). */
  readonly priority: number;
  /** Delivery number, 1 on the first delivery; also the lease token of this delivery. */
  readonly attempt: number;
}

/** A dead-lettered job. */
export interface RedisDeadLetter {
  /** The job id. */
  readonly id: string;
  /** The payload, still encoded: it may be what made the job fail. */
  readonly payloadJson: string;
  /** Deliveries made before it was dead-lettered. */
  readonly attempts: number;
  /** Last error recorded by `nack`, or why the lease expired. */
  readonly error: string;
  /** Server time (epoch ms) when it was dead-lettered. */
  readonly deadAtMs: number;
}

/** Counts of a queue's jobs by state. */
export interface RedisQueueStats {
  /** Jobs waiting to be claimed. */
  readonly ready: number;
  /** Jobs claimed under a lease (being worked on). */
  readonly active: number;
  /** Jobs nacked with a delay, not yet due. */
  readonly delayed: number;
  /** Dead-lettered jobs. */
  readonly dead: number;
}

/** What `nack` did with the job. */
export type RedisNackOutcome = 'requeued' | 'delayed' | 'dead' | 'lease-lost';

/** Options of {@link RedisQueue}. */
export interface RedisQueueOptions extends RedisKeyOptions {
  /** Lease length of a claimed job; unacknowledged jobs are redelivered after it. @defaultValue 30000 */
  readonly visibilityTimeoutMs?: number;
  /** Deliveries after which a failing or expiring job is dead-lettered. @defaultValue 5 */
  readonly maxAttempts?: number;
  /** Live jobs (ready, active, delayed) above which `enqueue` rejects. @defaultValue 1_000_000 */
  readonly maxJobs?: number;
  /** Dead-letter capacity; the oldest are deleted beyond it. @defaultValue 10_000 */
  readonly maxDeadLetters?: number;
  /** Largest encoded payload. @defaultValue 16 MiB */
  readonly maxPayloadBytes?: number;
  /** Most jobs sent in one script call by the internal batching. @defaultValue 256 */
  readonly maxBatchSize?: number;
  /** Longest single blocking wait before re-checking leases. @defaultValue 5000 */
  readonly maxBlockMs?: number;
  /** Priority used when `enqueue` gets none. @defaultValue 2 */
  readonly defaultPriority?: number;
  /** Metrics sink (`majra_redis_queue_*`). @defaultValue discards */
  readonly metrics?: MetricsSink;
  /** Receives errors of the background blocking loop (it retries by itself). */
  readonly onError?: (error: Error) => void;
  /**
   * Time source for local waits and retries of the blocking loop (leases use the server's TIME).
   * @defaultValue systemClock
   */
  readonly clock?: Clock;
}

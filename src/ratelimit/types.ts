/**
 * The rate-limiter contract shared by the in-memory limiters (`RateLimiter`,
 * `SlidingWindowLimiter`) and every backend (Redis). The memory limiters answer
 * synchronously; a backend answers the same shapes through promises. Both pass the
 * conformance suite in `test/conformance/ratelimit.suite.ts`.
 *
 * @module
 */

/** The outcome of one {@link RateLimiterContract.check}. */
export interface RateLimitDecision {
  /** True when the request was admitted and its cost consumed. */
  readonly allowed: boolean;
  /**
   * Whole units still available to this key right after the decision (a rejected check
   * consumes nothing, so this can be > 0 when the cost was larger). Never negative.
   */
  readonly remaining: number;
  /**
   * When rejected: milliseconds after which the same check (same key, same cost) is
   * expected to be admitted if no other traffic arrives for the key; always a finite
   * number > 0. When allowed: 0.
   */
  readonly retryAfterMs: number;
}

/** Counters of a limiter since it was created. */
export interface RateLimitStats {
  /** Checks admitted. */
  readonly allowed: number;
  /** Checks rejected (including new keys refused because `maxKeys` was reached). */
  readonly rejected: number;
  /** Keys currently tracked. */
  readonly activeKeys: number;
  /** Keys removed as stale (by `evictStale()` or to make room under `maxKeys`). */
  readonly evicted: number;
}

/** Options of {@link RateLimiterContract.acquire}. */
export interface RateLimitAcquireOptions {
  /** Units to consume; default 1. Must not exceed the limiter's capacity (burst / max). */
  readonly cost?: number | undefined;
  /** Aborts the wait; the promise rejects with `AbortedError` (code ERR_ABORTED). */
  readonly signal?: AbortSignal | undefined;
}

/** A value or a promise of it: memory limiters are synchronous, backends are not. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * What every limiter implements. Keys are non-empty strings of at most
 * {@link MAX_RATE_LIMIT_KEY_LENGTH} characters; costs are finite numbers > 0 and at most
 * the limiter's capacity. Bad input throws (or, for async limiters, rejects with)
 * `InvalidArgumentError` and changes no state.
 */
export interface RateLimiterContract {
  /** Tries to consume `cost` (default 1) units for `key` now; never waits. */
  check(key: string, cost?: number): MaybePromise<RateLimitDecision>;
  /**
   * Waits until `cost` units for `key` are available, consumes them and resolves.
   * Waiters are not queued fairly: each retries after the `retryAfterMs` it was told.
   */
  acquire(key: string, options?: RateLimitAcquireOptions): Promise<void>;
  /**
   * Removes keys whose state is indistinguishable from a fresh key (token bucket: full
   * again; sliding window: both windows expired), so eviction never resets an active key.
   * Returns how many keys were removed.
   */
  evictStale(): MaybePromise<number>;
  /** Counters since creation. */
  stats(): MaybePromise<RateLimitStats>;
}

/** The synchronous form implemented by the in-memory limiters. */
export interface SyncRateLimiter extends RateLimiterContract {
  check(key: string, cost?: number): RateLimitDecision;
  evictStale(): number;
  stats(): RateLimitStats;
}

/** The asynchronous form implemented by backends. */
export interface AsyncRateLimiter extends RateLimiterContract {
  check(key: string, cost?: number): Promise<RateLimitDecision>;
  evictStale(): Promise<number>;
  stats(): Promise<RateLimitStats>;
}

/** Options common to both token-bucket implementations (memory and backends). */
export interface TokenBucketOptions {
  /** Tokens added per second; finite and > 0. */
  readonly ratePerSecond: number;
  /** Bucket capacity and largest instantaneous burst; an integer >= 1. */
  readonly burst: number;
}

/** Options common to both sliding-window implementations (memory and backends). */
export interface SlidingWindowOptions {
  /** Requests (cost units) admitted per window; an integer >= 1. */
  readonly maxRequests: number;
  /** Window length in milliseconds; finite and > 0. */
  readonly windowMs: number;
}

/** Longest key accepted, in UTF-16 code units. */
export const MAX_RATE_LIMIT_KEY_LENGTH = 1024;

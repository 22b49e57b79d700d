/**
 * Per-key admission control in memory: a token bucket ({@link RateLimiter}) and an
 * approximate sliding window ({@link SlidingWindowLimiter}). Both answer synchronously,
 * keep about 100 bytes per key in typed arrays (no per-key object or timer), cap tracked
 * keys with `maxKeys` and evict only keys whose state equals a fresh key's. Redis
 * versions with the same contract live in `majra/redis`.
 *
 * @example
 * ```ts
 * import { RateLimiter, SlidingWindowLimiter } from 'majra/ratelimit';
 *
 * const perUser = new RateLimiter({ ratePerSecond: 5, burst: 10, maxKeys: 100_000 });
 * const decision = perUser.check('user:42');
 * if (!decision.allowed) console.log(`retry in ${decision.retryAfterMs} ms`);
 *
 * const perIp = new SlidingWindowLimiter({ maxRequests: 100, windowMs: 60_000 });
 * await perIp.acquire('ip:203.0.113.9', { signal: AbortSignal.timeout(5_000) });
 * ```
 *
 * @module
 */
export { RateLimiter } from './token-bucket.js';
export type { RateLimiterOptions } from './token-bucket.js';
export { SlidingWindowLimiter } from './sliding-window.js';
export type { SlidingWindowLimiterOptions } from './sliding-window.js';
export { DEFAULT_MAX_KEYS } from './memory-limiter.js';
export type { MemoryLimiterOptions } from './memory-limiter.js';
export { MAX_RATE_LIMIT_KEY_LENGTH } from './types.js';
export type {
  RateLimitDecision,
  RateLimitStats,
  RateLimitAcquireOptions,
  RateLimiterContract,
  SyncRateLimiter,
  AsyncRateLimiter,
  TokenBucketOptions,
  SlidingWindowOptions,
  MaybePromise,
} from './types.js';

import { positiveInteger, positiveNumber } from '../core/validate.js';
import {
  MemoryLimiter,
  assertCost,
  assertKey,
  type MemoryLimiterOptions,
} from './memory-limiter.js';
import type { RateLimitDecision, TokenBucketOptions } from './types.js';

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions extends TokenBucketOptions, MemoryLimiterOptions {}

/**
 * Tolerance on token comparisons, so that waiting exactly the advertised `retryAfterMs`
 * is always enough despite floating-point rounding of the refill.
 */
const EPSILON = 1e-9;

/**
 * A per-key token bucket: each key holds up to `burst` tokens, refilled continuously at
 * `ratePerSecond`; a check of cost `c` is admitted when at least `c` tokens are there
 * and consumes them. A new key starts full. Refill is computed lazily on each check
 * (no timers), fractional tokens carry over, and rejected checks consume nothing.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ ratePerSecond: 10, burst: 20 });
 * const { allowed, retryAfterMs } = limiter.check('user:42');
 * if (!allowed) reply(429, { retryAfterMs });
 * ```
 */
export class RateLimiter extends MemoryLimiter {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Bucket capacity. */
  readonly burst: number;
  readonly #ratePerMs: number;

  /**
   * Creates a limiter; validates `ratePerSecond`, `burst` and `maxKeys` (`ERR_INVALID_ARGUMENT`).
   * No timer, no I/O.
   */
  constructor(options: RateLimiterOptions) {
    const ratePerSecond = positiveNumber('ratePerSecond', options.ratePerSecond);
    const burst = positiveInteger('burst', options.burst, 2 ** 40);
    // A bucket idle for burst/rate seconds is full again: the same as a fresh key.
    super('token_bucket', 1, Math.ceil((burst / ratePerSecond) * 1000), options);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.#ratePerMs = ratePerSecond / 1000;
  }

  protected get capacity(): number {
    return this.burst;
  }

  protected get capacityName(): string {
    return 'burst';
  }

  /**
   * Takes `cost` (default 1) tokens from `key`'s bucket when it holds that many. Never
   * waits. When rejected, `retryAfterMs` is the time until the bucket refills to `cost`.
   */
  check(key: string, cost = 1): RateLimitDecision {
    if (this.closedFlag) this.life.assertOpen('check');
    assertKey(key);
    if (cost !== 1) assertCost(cost, this.burst, 'burst');
    const now = this.clock.monotonic();
    const table = this.table;
    let slot = table.find(key);
    let tokens: number;
    if (slot < 0) {
      slot = this.insertKey(key, now);
      if (slot < 0) return this.rejectFull(now);
      tokens = this.burst;
    } else {
      const elapsed = now - (table.lastAccess[slot] ?? now);
      tokens = (table.data[slot] ?? 0) + elapsed * this.#ratePerMs;
      if (tokens > this.burst) tokens = this.burst;
      table.touch(slot, now);
    }
    if (tokens + EPSILON >= cost) {
      tokens = tokens > cost ? tokens - cost : 0;
      table.data[slot] = tokens;
      return this.admitted(Math.floor(tokens + EPSILON));
    }
    table.data[slot] = tokens;
    const waitMs = Math.ceil((cost - tokens) / this.#ratePerMs);
    return this.refused(Math.floor(tokens + EPSILON), waitMs < 1 ? 1 : waitMs);
  }
}

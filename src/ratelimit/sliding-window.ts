import { positiveInteger, positiveNumber } from '../core/validate.js';
import {
  MemoryLimiter,
  assertCost,
  assertKey,
  type MemoryLimiterOptions,
} from './memory-limiter.js';
import type { RateLimitDecision, SlidingWindowOptions } from './types.js';

/** Options of {@link SlidingWindowLimiter}. */
export interface SlidingWindowLimiterOptions extends SlidingWindowOptions, MemoryLimiterOptions {}

/** Tolerance on estimate comparisons (floating-point rounding of the weight). */
const EPSILON = 1e-9;

/**
 * Estimated usage of a key at time `t` given its counters as of the last check (no
 * traffic in between): the previous window weighted by how much of it still overlaps
 * the sliding window, plus the current window.
 *
 * @internal
 */
export function slidingEstimate(
  prev: number,
  curr: number,
  windowStart: number,
  windowMs: number,
  t: number,
): number {
  const e = t - windowStart;
  if (e >= 2 * windowMs) return 0;
  if (e >= windowMs) return curr * (1 - (e - windowMs) / windowMs);
  return prev * (1 - e / windowMs) + curr;
}

/**
 * An approximate sliding-window limiter (the two-window weighted counter): per key it
 * keeps the counts of the current and previous fixed windows and estimates usage over
 * the last `windowMs` as `prev × (1 − elapsed/windowMs) + curr`. A check of cost `c` is
 * admitted when `floor(estimate) + c <= maxRequests` (for `c = 1` exactly the reference's
 * `estimate < maxRequests`). O(1) time and memory per key; it over-admits a little when
 * the previous window's traffic was not evenly spread: see docs/ratelimit.md for the
 * measured figures against an exact sliding log.
 *
 * @example
 * ```ts
 * const limiter = new SlidingWindowLimiter({ maxRequests: 100, windowMs: 60_000 });
 * if (!limiter.check('ip:203.0.113.9').allowed) reply(429);
 * ```
 */
export class SlidingWindowLimiter extends MemoryLimiter {
  /** Requests (cost units) per window. */
  readonly maxRequests: number;
  /** Window length, ms. */
  readonly windowMs: number;

  /**
   * Creates a limiter; validates `maxRequests`, `windowMs` and `maxKeys` (`ERR_INVALID_ARGUMENT`).
   * No timer, no I/O.
   */
  constructor(options: SlidingWindowLimiterOptions) {
    const maxRequests = positiveInteger('maxRequests', options.maxRequests, 2 ** 40);
    const windowMs = positiveNumber('windowMs', options.windowMs);
    // Idle for two windows, both counters have expired: the same as a fresh key.
    super('sliding_window', 3, 2 * windowMs, options);
    this.maxRequests = maxRequests;
    this.windowMs = windowMs;
  }

  protected get capacity(): number {
    return this.maxRequests;
  }

  protected get capacityName(): string {
    return 'maxRequests';
  }

  /**
   * Counts `cost` (default 1) against `key` when the estimate leaves room. Never waits.
   * When rejected, `retryAfterMs` is when the estimate will have decayed enough.
   */
  check(key: string, cost = 1): RateLimitDecision {
    if (this.closedFlag) this.life.assertOpen('check');
    assertKey(key);
    if (cost !== 1) assertCost(cost, this.maxRequests, 'maxRequests');
    const now = this.clock.monotonic();
    const table = this.table;
    const w = this.windowMs;
    let slot = table.find(key);
    let prev = 0;
    let curr = 0;
    let start = now;
    if (slot < 0) {
      slot = this.insertKey(key, now);
      if (slot < 0) return this.rejectFull(now);
    } else {
      const base = slot * 3;
      const data = table.data;
      prev = data[base] ?? 0;
      curr = data[base + 1] ?? 0;
      start = data[base + 2] ?? now;
      const e = now - start;
      if (e >= 2 * w) {
        prev = 0;
        curr = 0;
        start = now;
      } else if (e >= w) {
        // The grid stays aligned: the window advances by exactly one length.
        prev = curr;
        curr = 0;
        start += w;
      }
      table.touch(slot, now);
    }
    const estimate = prev * (1 - (now - start) / w) + curr;
    const used = Math.floor(estimate + EPSILON);
    const base = slot * 3;
    const data = table.data;
    data[base] = prev;
    data[base + 2] = start;
    if (used + cost <= this.maxRequests) {
      data[base + 1] = curr + cost;
      return this.admitted(this.maxRequests - used - cost);
    }
    data[base + 1] = curr;
    return this.refused(
      Math.max(0, this.maxRequests - used),
      this.#retryAfter(prev, curr, start, now, cost),
    );
  }

  /** Whole ms after `now` at which a check of `cost` would be admitted, verified. */
  #retryAfter(prev: number, curr: number, start: number, now: number, cost: number): number {
    const w = this.windowMs;
    // Admitted once the estimate is below `target`.
    const target = Math.floor(this.maxRequests - cost) + 1;
    const at =
      curr < target && prev > 0
        ? start + w * (1 - (target - curr) / prev)
        : start + w + w * (1 - target / curr);
    let wait = Math.max(1, Math.ceil(at - now));
    for (let i = 0; i < 4; i++) {
      const estimate = slidingEstimate(prev, curr, start, w, now + wait);
      if (Math.floor(estimate + EPSILON) + cost <= this.maxRequests) return wait;
      wait += 1;
    }
    // Both windows have expired by then: always enough.
    return Math.max(1, Math.ceil(start + 2 * w - now));
  }
}

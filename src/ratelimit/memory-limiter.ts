import { waitFor } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ClosedError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import { invalid, optionalSignal, positiveInteger } from '../core/validate.js';
import { KeyTable } from './key-table.js';
import {
  RATELIMIT_CHECKS,
  RATELIMIT_EVICTIONS,
  RATELIMIT_KEYS,
  RATELIMIT_KEYS_FULL,
} from './metrics.js';
import {
  MAX_RATE_LIMIT_KEY_LENGTH,
  type RateLimitAcquireOptions,
  type RateLimitDecision,
  type RateLimitStats,
  type SyncRateLimiter,
} from './types.js';

/** Default cap on tracked keys for the in-memory limiters. */
export const DEFAULT_MAX_KEYS = 1_000_000;

/** Options shared by the in-memory limiters. */
export interface MemoryLimiterOptions {
  /**
   * Most keys tracked at once (default 1 000 000, about 100 MB at worst). A check on a new
   * key when full first evicts the least recently used key if it is stale; if it is not,
   * the check is rejected (fail-closed) with `retryAfterMs` until that key goes stale.
   */
  readonly maxKeys?: number | undefined;
  /**
   * Idle time after which a key counts as stale and may be evicted. Defaults to, and must
   * be at least, the time after which an idle key's state equals a fresh key's (token
   * bucket: `burst / ratePerSecond` seconds; sliding window: `2 × windowMs`), so eviction
   * never grants a key more than it would have had anyway.
   */
  readonly staleAfterMs?: number | undefined;
  /** Time source; default the system clock (monotonic). */
  readonly clock?: Clock | undefined;
  /** Metrics sink; default discards. */
  readonly metrics?: MetricsSink | undefined;
}

/** Throws unless `key` is a non-empty string of at most 1024 characters. */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_RATE_LIMIT_KEY_LENGTH) {
    invalid(
      'key',
      `a non-empty string of at most ${MAX_RATE_LIMIT_KEY_LENGTH} characters`,
      key,
      'ERR_RATELIMIT_INVALID_KEY',
    );
  }
}

/** Throws unless `cost` is a finite number in (0, capacity]. */
export function assertCost(cost: unknown, capacity: number, capacityName: string): number {
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost <= 0 || cost > capacity) {
    invalid(
      'cost',
      `a finite number greater than 0 and at most ${capacityName} (${capacity})`,
      cost,
      'ERR_RATELIMIT_INVALID_COST',
    );
  }
  return cost;
}

/**
 * Base class of `RateLimiter` and `SlidingWindowLimiter` (not constructed
 * directly): key storage, the `maxKeys` policy, stale eviction, statistics, `acquire`
 * and the close contract.
 */
export abstract class MemoryLimiter implements SyncRateLimiter, Closeable {
  protected readonly clock: Clock;
  protected readonly metrics: MetricsSink;
  protected readonly table: KeyTable;
  protected readonly staleAfterMs: number;
  protected allowedCount = 0;
  protected rejectedCount = 0;
  protected evictedCount = 0;
  protected readonly allowedLabels: Readonly<Record<string, string>>;
  protected readonly rejectedLabels: Readonly<Record<string, string>>;
  protected readonly kindLabels: Readonly<Record<string, string>>;
  protected readonly life: Lifecycle;
  /** Set by close(); checked first on the hot path. */
  protected closedFlag = false;
  /** Rejecters of pending acquire waits, so close() can fail them. */
  readonly #pending = new Set<(error: Error) => void>();

  protected constructor(
    kind: 'token_bucket' | 'sliding_window',
    stride: number,
    minStaleAfterMs: number,
    options: MemoryLimiterOptions,
  ) {
    const maxKeys =
      options.maxKeys === undefined
        ? DEFAULT_MAX_KEYS
        : positiveInteger('maxKeys', options.maxKeys, 2 ** 30);
    let staleAfterMs = minStaleAfterMs;
    if (options.staleAfterMs !== undefined) {
      const v: unknown = options.staleAfterMs;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < minStaleAfterMs) {
        invalid('staleAfterMs', `a finite number of at least ${minStaleAfterMs}`, v);
      }
      staleAfterMs = v;
    }
    this.staleAfterMs = staleAfterMs;
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics ?? noopMetrics;
    this.table = new KeyTable(stride, maxKeys);
    this.allowedLabels = Object.freeze({ limiter: kind, result: 'allowed' });
    this.rejectedLabels = Object.freeze({ limiter: kind, result: 'rejected' });
    this.kindLabels = Object.freeze({ limiter: kind });
    this.life = new Lifecycle(kind === 'token_bucket' ? 'RateLimiter' : 'SlidingWindowLimiter');
  }

  /** Checks `cost` (default 1) units for `key` now, consuming them when admitted. */
  abstract check(key: string, cost?: number): RateLimitDecision;

  /** The largest cost a single check may ask for (burst or maxRequests). */
  protected abstract get capacity(): number;
  /** Name of the capacity option, for error messages. */
  protected abstract get capacityName(): string;

  /** Keys currently tracked. */
  get keyCount(): number {
    return this.table.size;
  }

  /**
   * Waits until `cost` units are available for `key`, consumes them and resolves. Rejects
   * with `AbortedError` when `signal` aborts and `ClosedError` when the limiter closes.
   */
  async acquire(key: string, options: RateLimitAcquireOptions = {}): Promise<void> {
    assertKey(key);
    if (typeof options !== 'object' || (options as unknown) === null) {
      invalid('options', 'an object { cost?, signal? }', options);
    }
    const cost =
      options.cost === undefined ? 1 : assertCost(options.cost, this.capacity, this.capacityName);
    const signal = optionalSignal('signal', options.signal);
    this.life.assertOpen('acquire');
    for (;;) {
      const { allowed, retryAfterMs } = this.check(key, cost);
      if (allowed) return;
      await waitFor<undefined>(
        (resolve, reject) => {
          const timer = this.clock.setTimer(retryAfterMs, () => resolve(undefined));
          this.#pending.add(reject);
          return () => {
            timer.cancel();
            this.#pending.delete(reject);
          };
        },
        { signal, what: 'rate limit acquire' },
      );
    }
  }

  /**
   * Removes every key idle for at least `staleAfterMs` (whose state equals a fresh key's)
   * and returns how many were removed. O(removed).
   */
  evictStale(): number {
    const count = this.table.evictStale(this.clock.monotonic(), this.staleAfterMs);
    if (count > 0) {
      this.evictedCount += count;
      this.metrics.increment(RATELIMIT_EVICTIONS, count, this.kindLabels);
      this.metrics.set(RATELIMIT_KEYS, this.table.size, this.kindLabels);
    }
    return count;
  }

  /** Counters since creation. */
  stats(): RateLimitStats {
    return {
      allowed: this.allowedCount,
      rejected: this.rejectedCount,
      activeKeys: this.table.size,
      evicted: this.evictedCount,
    };
  }

  /** Resolves once closed. */
  get closed(): Promise<void> {
    return this.life.closed;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.life.isClosed;
  }

  /** Rejects pending `acquire` calls with `ClosedError` and drops every key. Idempotent. */
  close(): Promise<void> {
    this.life.closeSync(() => {
      this.closedFlag = true;
      const error = new ClosedError('rate limiter closed while acquire was waiting');
      for (const reject of [...this.#pending]) reject(error);
      this.table.clear();
    });
    return this.life.closed;
  }

  /** Same as `close()`, so `await using limiter = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Adds a new key at `now`; returns its slot, or -1 after recording a fail-closed
   * rejection (maxKeys reached and the least recently used key is not stale).
   */
  protected insertKey(key: string, now: number): number {
    const slot = this.table.insert(key, now, this.staleAfterMs);
    if (slot < 0) {
      this.metrics.increment(RATELIMIT_KEYS_FULL, 1, this.kindLabels);
      return slot;
    }
    if (this.table.lastInsertEvicted) {
      this.evictedCount++;
      this.metrics.increment(RATELIMIT_EVICTIONS, 1, this.kindLabels);
    }
    this.metrics.set(RATELIMIT_KEYS, this.table.size, this.kindLabels);
    return slot;
  }

  /** The decision for a new key refused because the table is full. */
  protected rejectFull(now: number): RateLimitDecision {
    this.rejectedCount++;
    this.metrics.increment(RATELIMIT_CHECKS, 1, this.rejectedLabels);
    const wait = this.table.oldestAccess() + this.staleAfterMs - now;
    return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, Math.ceil(wait)) };
  }

  /** Records an admitted check. */
  protected admitted(remaining: number): RateLimitDecision {
    this.allowedCount++;
    this.metrics.increment(RATELIMIT_CHECKS, 1, this.allowedLabels);
    return { allowed: true, remaining, retryAfterMs: 0 };
  }

  /** Records a rejected check. */
  protected refused(remaining: number, retryAfterMs: number): RateLimitDecision {
    this.rejectedCount++;
    this.metrics.increment(RATELIMIT_CHECKS, 1, this.rejectedLabels);
    return { allowed: false, remaining, retryAfterMs };
  }
}

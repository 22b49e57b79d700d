import type { Redis } from 'ioredis';
import { sleep, throwIfAborted } from '../../core/abort.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import { noopMetrics, type MetricLabels, type MetricsSink } from '../../core/metrics.js';
import { optionalSignal, positiveInteger, positiveNumber } from '../../core/validate.js';
import { assertCost, assertKey } from '../../ratelimit/memory-limiter.js';
import type {
  AsyncRateLimiter,
  RateLimitAcquireOptions,
  RateLimitDecision,
  RateLimitStats,
  SlidingWindowOptions,
  TokenBucketOptions,
} from '../../ratelimit/types.js';
import {
  ensureReady,
  releaseClient,
  resolveClient,
  replyUnless,
  wrapRedisError,
  type RedisConnectionInput,
  type ResolvedClient,
} from './connection.js';
import { Batcher } from './batcher.js';
import { baseKey, escapeGlob, type RedisKeyOptions } from './keys.js';
import { redisRateLimitDecisions } from './metrics.js';
import { loadScripts, LuaScript } from './script.js';

/** Options shared by both Redis limiters. */
export interface RedisLimiterBaseOptions extends RedisKeyOptions {
  /** Metrics sink (`majra_redis_ratelimit_*`). @defaultValue discards */
  readonly metrics?: MetricsSink;
  /** Clock used only for `acquire`'s local waits; decisions use the server's TIME. */
  readonly clock?: Clock;
}

/** Options of {@link RedisRateLimiter}: `ratePerSecond` and `burst` as in memory. */
export interface RedisRateLimiterOptions extends RedisLimiterBaseOptions, TokenBucketOptions {}

/** Options of {@link RedisSlidingWindowLimiter}: `maxRequests` and `windowMs` as in memory. */
export interface RedisSlidingWindowLimiterOptions
  extends RedisLimiterBaseOptions, SlidingWindowOptions {}

/**
 * Shared machinery: one cached script call per check (EVALSHA, NOSCRIPT fallback), key
 * validation, metrics, `acquire` as check-then-sleep(retryAfterMs).
 *
 * @internal
 */
abstract class RedisLimiterBase implements AsyncRateLimiter, Closeable {
  /** Base key; a limited key `k` lives at `<base>:<k>`. */
  readonly key: string;
  readonly #resolved: ResolvedClient;
  readonly #client: Redis;
  readonly #life: Lifecycle;
  readonly #script: LuaScript;
  readonly #metrics: MetricsSink;
  readonly #labels: { readonly allowed: MetricLabels; readonly rejected: MetricLabels };
  readonly #clock: Clock;
  readonly #capacity: number;
  readonly #capacityName: string;
  readonly #limitArgs: readonly number[];
  #allowed = 0;
  #rejected = 0;
  /** Checks sent and not yet answered (decides between the direct and the batch path). */
  #outstanding = 0;
  readonly #batch: Batcher<readonly [string, number], readonly [unknown, unknown, unknown]>;

  protected constructor(
    what: string,
    script: LuaScript,
    redis: RedisConnectionInput,
    name: string,
    options: RedisLimiterBaseOptions,
    capacity: number,
    capacityName: string,
    limitArgs: readonly number[],
  ) {
    this.key = baseKey(options, 'ratelimit', name);
    this.#life = new Lifecycle(what);
    this.#script = script;
    this.#metrics = options.metrics ?? noopMetrics;
    const limiter = what === 'RedisRateLimiter' ? 'token_bucket' : 'sliding_window';
    this.#labels = Object.freeze({
      allowed: Object.freeze({ limiter, outcome: 'allowed' }),
      rejected: Object.freeze({ limiter, outcome: 'rejected' }),
    });
    this.#clock = options.clock ?? systemClock;
    this.#capacity = capacity;
    this.#capacityName = capacityName;
    this.#limitArgs = limitArgs;
    this.#resolved = resolveClient(redis);
    this.#client = this.#resolved.client;
    // Checks issued in the same event-loop turn share one EVALSHA (still atomic per check).
    this.#batch = new Batcher((items) => this.#runBatch(items), { maxItems: 256 });
  }

  async #runBatch(
    items: readonly (readonly [string, number])[],
  ): Promise<(readonly [unknown, unknown, unknown])[]> {
    const keys = items.map(([key]) => `${this.key}:${key}`);
    const args = [...this.#limitArgs, ...items.map(([, cost]) => cost)];
    let reply: unknown;
    try {
      reply = await this.#script.run(this.#client, keys, args);
    } catch (error) {
      throw wrapRedisError(error, 'rate limit check');
    }
    const flat = Array.isArray(reply) ? (reply as unknown[]) : [];
    return items.map((_, i) => [flat[i * 3], flat[i * 3 + 1], flat[i * 3 + 2]] as const);
  }

  /**
   * A lone check goes straight to Redis: with nothing waiting to be coalesced, the batch
   * path would only add promise hops and array copies to the one round trip.
   */
  async #runOne(key: string, cost: number): Promise<readonly [unknown, unknown, unknown]> {
    let reply: unknown;
    try {
      reply = await this.#script.run(
        this.#client,
        [`${this.key}:${key}`],
        [...this.#limitArgs, cost],
      );
    } catch (error) {
      throw wrapRedisError(error, 'rate limit check');
    }
    const flat = Array.isArray(reply) ? (reply as unknown[]) : [];
    return [flat[0], flat[1], flat[2]];
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Connects (for a URL) and loads the script. Rejects with `ERR_REDIS_UNREACHABLE`. */
  async ready(): Promise<this> {
    this.#life.assertOpen('connect');
    await ensureReady(this.#resolved);
    await loadScripts(this.#client, [this.#script]);
    return this;
  }

  /**
   * Checks `key` and consumes `cost` when admitted: one round trip, atomic across every
   * process sharing the limiter.
   *
   * @throws InvalidArgumentError (`ERR_RATELIMIT_INVALID_KEY`, `ERR_RATELIMIT_INVALID_COST`)
   *   before anything is sent.
   */
  async check(key: string, cost = 1): Promise<RateLimitDecision> {
    this.#life.assertOpen('check');
    assertKey(key);
    assertCost(cost, this.#capacity, this.#capacityName);
    // No other check outstanding: send now (the one-at-a-time case). Calls made while
    // any check is on the wire coalesce, so 64 concurrent callers still share calls.
    let reply: readonly [unknown, unknown, unknown];
    this.#outstanding++;
    try {
      reply =
        this.#outstanding === 1
          ? await this.#runOne(key, cost)
          : await this.#batch.add([key, cost]);
    } finally {
      this.#outstanding--;
    }
    const [allowed, remaining, retry] = reply;
    const decision: RateLimitDecision = {
      allowed: allowed === 1,
      remaining: Number(remaining ?? 0),
      retryAfterMs: allowed === 1 ? 0 : Math.max(1, Number(retry ?? 1)),
    };
    if (decision.allowed) this.#allowed++;
    else this.#rejected++;
    this.#metrics.increment(
      redisRateLimitDecisions,
      1,
      decision.allowed ? this.#labels.allowed : this.#labels.rejected,
    );
    return decision;
  }

  /**
   * Waits (sleeping `retryAfterMs` between checks) until `cost` is admitted for `key`.
   * `signal` also ends a check waiting on a Redis reconnect (that check may still be
   * applied by Redis once it reaches it).
   */
  async acquire(key: string, options: RateLimitAcquireOptions = {}): Promise<void> {
    assertKey(key);
    const cost = assertCost(options.cost ?? 1, this.#capacity, this.#capacityName);
    const signal = optionalSignal('signal', options.signal);
    for (;;) {
      throwIfAborted(signal, 'rate limit acquire');
      const decision = await replyUnless(this.check(key, cost), 'rate limit acquire', signal);
      if (decision.allowed) return;
      await sleep(decision.retryAfterMs, { signal, clock: this.#clock });
    }
  }

  /**
   * Always 0: every key carries a Redis expiry set to the moment its state equals a
   * fresh key's, so Redis evicts stale keys itself and never an active one.
   */
  evictStale(): Promise<number> {
    this.#life.assertOpen('evictStale');
    return Promise.resolve(0);
  }

  /**
   * `allowed` / `rejected` count this object's checks (not other processes');
   * `activeKeys` counts the limiter's live keys in Redis (SCAN); `evicted` is 0 (Redis
   * expires keys itself).
   */
  async stats(): Promise<RateLimitStats> {
    this.#life.assertOpen('stats');
    let activeKeys = 0;
    let cursor = '0';
    const match = `${escapeGlob(this.key)}:*`;
    try {
      do {
        const [next, keys] = await this.#client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        activeKeys += keys.length;
      } while (cursor !== '0');
    } catch (error) {
      throw wrapRedisError(error, 'stats');
    }
    return { allowed: this.#allowed, rejected: this.#rejected, activeKeys, evicted: 0 };
  }

  /** Forgets the state of `key` (it starts full again). */
  async reset(key: string): Promise<void> {
    this.#life.assertOpen('reset');
    assertKey(key);
    try {
      await this.#client.del(`${this.key}:${key}`);
    } catch (error) {
      throw wrapRedisError(error, 'reset');
    }
  }

  /** Closes an owned client; a client passed in stays open. */
  close(): Promise<void> {
    return this.#life.close(() => releaseClient(this.#resolved));
  }

  /** Same as `close()`, so `await using limiter = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

const TOKEN_BUCKET = new LuaScript('ratelimit-token-bucket');
const SLIDING_WINDOW = new LuaScript('ratelimit-sliding-window');

/**
 * A distributed token bucket: `burst` capacity refilled at `ratePerSecond` tokens/s, shared by
 * every process that uses the same Redis, prefix and name. Each check is one EVALSHA of a
 * cached script that reads the time from the server (TIME), so callers' clock skew does
 * not matter. Keys expire once their bucket would be full again.
 *
 * @example
 * ```ts
 * const limiter = await connectRedisRateLimiter(redis, 'api', { ratePerSecond: 10, burst: 20 });
 * const { allowed, retryAfterMs } = await limiter.check(`user:${userId}`);
 * ```
 */
export class RedisRateLimiter extends RedisLimiterBase {
  /** Tokens per second. */
  readonly ratePerSecond: number;
  /** Bucket capacity. */
  readonly burst: number;

  /**
   * Creates the limiter without I/O; validates options. `connectRedisRateLimiter` also waits for
   * the server.
   */
  constructor(redis: RedisConnectionInput, name: string, options: RedisRateLimiterOptions) {
    const rate = positiveNumber('ratePerSecond', options.ratePerSecond);
    const burst = positiveInteger('burst', options.burst);
    super('RedisRateLimiter', TOKEN_BUCKET, redis, name, options, burst, 'burst', [rate, burst]);
    this.ratePerSecond = rate;
    this.burst = burst;
  }
}

/**
 * A distributed approximate sliding window (two weighted fixed windows, O(1) per key):
 * at most about `maxRequests` per `windowMs`, shared by every process using the same
 * Redis, prefix and name; time from the server; keys expire after two idle windows.
 */
export class RedisSlidingWindowLimiter extends RedisLimiterBase {
  /** Requests allowed per window, per key. */
  readonly maxRequests: number;
  /** Window length in ms. */
  readonly windowMs: number;

  /**
   * Creates the limiter without I/O; validates options. `connectRedisSlidingWindowLimiter` also
   * waits for the server.
   */
  constructor(
    redis: RedisConnectionInput,
    name: string,
    options: RedisSlidingWindowLimiterOptions,
  ) {
    const maxRequests = positiveInteger('maxRequests', options.maxRequests);
    const windowMs = positiveNumber('windowMs', options.windowMs);
    super(
      'RedisSlidingWindowLimiter',
      SLIDING_WINDOW,
      redis,
      name,
      options,
      maxRequests,
      'maxRequests',
      [maxRequests, windowMs],
    );
    this.maxRequests = maxRequests;
    this.windowMs = windowMs;
  }
}

/** Creates a {@link RedisRateLimiter} and resolves once Redis answers and the script is loaded. */
export async function connectRedisRateLimiter(
  redis: RedisConnectionInput,
  name: string,
  options: RedisRateLimiterOptions,
): Promise<RedisRateLimiter> {
  const limiter = new RedisRateLimiter(redis, name, options);
  try {
    return await limiter.ready();
  } catch (error) {
    await limiter.close();
    throw error;
  }
}

/** Creates a {@link RedisSlidingWindowLimiter} and resolves once ready. */
export async function connectRedisSlidingWindowLimiter(
  redis: RedisConnectionInput,
  name: string,
  options: RedisSlidingWindowLimiterOptions,
): Promise<RedisSlidingWindowLimiter> {
  const limiter = new RedisSlidingWindowLimiter(redis, name, options);
  try {
    return await limiter.ready();
  } catch (error) {
    await limiter.close();
    throw error;
  }
}

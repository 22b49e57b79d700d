import type { Redis } from 'ioredis';
import { sleep, throwIfAborted, type WaitOptions } from '../../core/abort.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../../core/metrics.js';
import {
  invalid,
  nonEmptyString,
  optionalSignal,
  positiveInteger,
  positiveNumber,
} from '../../core/validate.js';
import {
  ensureReady,
  releaseClient,
  resolveClient,
  wrapRedisError,
  type RedisConnectionInput,
  type ResolvedClient,
} from './connection.js';
import { baseKey, type RedisKeyOptions } from './keys.js';
import { redisRateLimitDecisions } from './metrics.js';
import { LuaScript } from './script.js';

/** Longest accepted limiter key (UTF-16 code units). */
export const MAX_RATE_LIMIT_KEY_LENGTH = 65_536;

/** The outcome of one rate-limit check. */
export interface RedisRateLimitDecision {
  /** True when the request was admitted (and its cost consumed). */
  readonly allowed: boolean;
  /** Whole units left after this check. */
  readonly remaining: number;
  /** When denied, ms until a request of the same cost could pass; 0 when allowed. */
  readonly retryAfterMs: number;
}

/** Options shared by both Redis limiters. */
export interface RedisLimiterBaseOptions extends RedisKeyOptions {
  readonly metrics?: MetricsSink;
  /** Clock used only for `acquire`'s local waits; decisions use the server's TIME. */
  readonly clock?: Clock;
}

/** Options of {@link RedisRateLimiter}. */
export interface RedisRateLimiterOptions extends RedisLimiterBaseOptions {
  /** Tokens added per second (finite, > 0). */
  readonly rate: number;
  /** Bucket capacity: the largest burst (integer >= 1). */
  readonly burst: number;
}

/** Options of {@link RedisSlidingWindowLimiter}. */
export interface RedisSlidingWindowLimiterOptions extends RedisLimiterBaseOptions {
  /** Requests admitted per window (integer >= 1). */
  readonly maxRequests: number;
  /** Window length in ms (integer >= 1). */
  readonly windowMs: number;
}

/**
 * Shared machinery: one cached script call per check (EVALSHA, NOSCRIPT fallback), key
 * validation, metrics, `acquire` as check-then-sleep(retryAfterMs).
 *
 * @internal
 */
abstract class RedisLimiterBase implements Closeable {
  /** Base key; a limited key `k` lives at `<base>:<k>`. */
  readonly key: string;
  readonly #resolved: ResolvedClient;
  readonly #client: Redis;
  readonly #life: Lifecycle;
  readonly #script: LuaScript;
  readonly #metrics: MetricsSink;
  readonly #label: string;
  readonly #clock: Clock;
  readonly #capacity: number;
  readonly #limitArgs: readonly number[];

  protected constructor(
    what: string,
    script: LuaScript,
    redis: RedisConnectionInput,
    name: string,
    options: RedisLimiterBaseOptions,
    capacity: number,
    limitArgs: readonly number[],
  ) {
    this.key = baseKey(options, 'ratelimit', name);
    this.#life = new Lifecycle(what);
    this.#script = script;
    this.#metrics = options.metrics ?? noopMetrics;
    this.#label = what === 'RedisRateLimiter' ? 'token_bucket' : 'sliding_window';
    this.#clock = options.clock ?? systemClock;
    this.#capacity = capacity;
    this.#limitArgs = limitArgs;
    this.#resolved = resolveClient(redis);
    this.#client = this.#resolved.client;
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
    try {
      await this.#script.load(this.#client);
    } catch (error) {
      throw wrapRedisError(error, 'SCRIPT LOAD');
    }
    return this;
  }

  /**
   * Checks `key` and consumes `cost` when admitted: one round trip, atomic across every
   * process sharing the limiter.
   *
   * @throws InvalidArgumentError for an empty/over-long key or a cost outside (0, capacity].
   */
  async check(key: string, cost = 1): Promise<RedisRateLimitDecision> {
    this.#life.assertOpen('check');
    nonEmptyString('key', key, MAX_RATE_LIMIT_KEY_LENGTH);
    if (typeof cost !== 'number' || !Number.isFinite(cost) || cost <= 0 || cost > this.#capacity) {
      invalid('cost', `a number in (0, ${this.#capacity}]`, cost);
    }
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
    const [allowed, remaining, retry] = Array.isArray(reply) ? (reply as unknown[]) : [];
    const decision: RedisRateLimitDecision = {
      allowed: allowed === 1,
      remaining: Number(remaining ?? 0),
      retryAfterMs: Number(retry ?? 0),
    };
    this.#metrics.increment(redisRateLimitDecisions, 1, {
      limiter: this.#label,
      outcome: decision.allowed ? 'allowed' : 'rejected',
    });
    return decision;
  }

  /** Waits (sleeping `retryAfterMs` between checks) until `cost` is admitted for `key`. */
  async acquire(
    key: string,
    options: WaitOptions & { readonly cost?: number } = {},
  ): Promise<RedisRateLimitDecision> {
    const signal = optionalSignal('signal', options.signal);
    for (;;) {
      throwIfAborted(signal, 'rate limit acquire');
      const decision = await this.check(key, options.cost ?? 1);
      if (decision.allowed) return decision;
      await sleep(Math.max(1, decision.retryAfterMs), { signal, clock: this.#clock });
    }
  }

  /** Forgets the state of `key` (it starts full again). */
  async reset(key: string): Promise<void> {
    this.#life.assertOpen('reset');
    nonEmptyString('key', key, MAX_RATE_LIMIT_KEY_LENGTH);
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

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

const TOKEN_BUCKET = new LuaScript('ratelimit-token-bucket');
const SLIDING_WINDOW = new LuaScript('ratelimit-sliding-window');

/**
 * A distributed token bucket: `burst` capacity refilled at `rate` tokens/s, shared by
 * every process that uses the same Redis, prefix and name. Each check is one EVALSHA of a
 * cached script that reads the time from the server (TIME), so callers' clock skew does
 * not matter. Keys expire once their bucket would be full again.
 *
 * @example
 * ```ts
 * const limiter = await connectRedisRateLimiter(redis, 'api', { rate: 10, burst: 20 });
 * const { allowed, retryAfterMs } = await limiter.check(`user:${userId}`);
 * ```
 */
export class RedisRateLimiter extends RedisLimiterBase {
  /** Tokens per second. */
  readonly rate: number;
  /** Bucket capacity. */
  readonly burst: number;

  constructor(redis: RedisConnectionInput, name: string, options: RedisRateLimiterOptions) {
    const rate = positiveNumber('rate', options.rate);
    const burst = positiveInteger('burst', options.burst);
    super('RedisRateLimiter', TOKEN_BUCKET, redis, name, options, burst, [rate, burst]);
    this.rate = rate;
    this.burst = burst;
  }
}

/**
 * A distributed approximate sliding window (two weighted fixed windows, O(1) per key):
 * at most about `maxRequests` per `windowMs`, shared by every process using the same
 * Redis, prefix and name; time from the server; keys expire after two idle windows.
 */
export class RedisSlidingWindowLimiter extends RedisLimiterBase {
  readonly maxRequests: number;
  readonly windowMs: number;

  constructor(
    redis: RedisConnectionInput,
    name: string,
    options: RedisSlidingWindowLimiterOptions,
  ) {
    const maxRequests = positiveInteger('maxRequests', options.maxRequests);
    const windowMs = positiveInteger('windowMs', options.windowMs);
    super('RedisSlidingWindowLimiter', SLIDING_WINDOW, redis, name, options, maxRequests, [
      maxRequests,
      windowMs,
    ]);
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

// The in-memory limiters against the shared rate-limiter conformance suite.
import type { Closeable } from '../../src/core/lifecycle.js';
import { RateLimiter } from '../../src/ratelimit/token-bucket.js';
import { SlidingWindowLimiter } from '../../src/ratelimit/sliding-window.js';
import type { RateLimiterContract } from '../../src/ratelimit/types.js';
import { describeRateLimiter } from './ratelimit.suite.js';

describeRateLimiter(
  'memory',
  (spec, clock) => {
    const maxKeys = spec.maxKeys === undefined ? {} : { maxKeys: spec.maxKeys };
    return spec.kind === 'token-bucket'
      ? new RateLimiter({ ratePerSecond: spec.ratePerSecond, burst: spec.burst, clock, ...maxKeys })
      : new SlidingWindowLimiter({
          maxRequests: spec.maxRequests,
          windowMs: spec.windowMs,
          clock,
          ...maxKeys,
        });
  },
  {
    afterEach: async (limiters: readonly RateLimiterContract[]) => {
      for (const limiter of limiters) await (limiter as unknown as Closeable).close();
    },
  },
);

// The same limiters on real time behind promises: proves the suite holds for an
// asynchronous implementation whose time cannot be faked (what a backend looks like).
describeRateLimiter(
  'memory, async on real time',
  (spec) => {
    const maxKeys = spec.maxKeys === undefined ? {} : { maxKeys: spec.maxKeys };
    const inner =
      spec.kind === 'token-bucket'
        ? new RateLimiter({ ratePerSecond: spec.ratePerSecond, burst: spec.burst, ...maxKeys })
        : new SlidingWindowLimiter({
            maxRequests: spec.maxRequests,
            windowMs: spec.windowMs,
            ...maxKeys,
          });
    const limiter: RateLimiterContract & { close(): Promise<void> } = {
      check: async (key, cost) => {
        await Promise.resolve();
        return inner.check(key, cost);
      },
      acquire: (key, options) => inner.acquire(key, options),
      evictStale: () => Promise.resolve(inner.evictStale()),
      stats: () => Promise.resolve(inner.stats()),
      close: () => inner.close(),
    };
    return limiter;
  },
  {
    timeControl: false,
    afterEach: async (limiters: readonly RateLimiterContract[]) => {
      for (const limiter of limiters) await (limiter as unknown as Closeable).close();
    },
  },
);

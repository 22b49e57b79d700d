// The Redis limiters against the shared rate-limiter conformance suite, on the real
// Redis (server time: no time control; Redis expires keys itself: no maxKeys).
import { afterAll } from 'vitest';
import { RedisRateLimiter, RedisSlidingWindowLimiter } from '../../src/backends/redis/index.js';
import type { Closeable } from '../../src/core/lifecycle.js';
import type { RateLimiterContract } from '../../src/ratelimit/types.js';
import { redisScope } from '../support/redis.js';
import { describeRateLimiter } from './ratelimit.suite.js';

const scope = redisScope('ratelimit_conformance');
const client = scope.client();
afterAll(() => scope.cleanup());
let counter = 0;

describeRateLimiter(
  'redis',
  async (spec) => {
    const name = `limiter-${counter++}`;
    const limiter =
      spec.kind === 'token-bucket'
        ? new RedisRateLimiter(client, name, {
            prefix: scope.prefix,
            ratePerSecond: spec.ratePerSecond,
            burst: spec.burst,
          })
        : new RedisSlidingWindowLimiter(client, name, {
            prefix: scope.prefix,
            maxRequests: spec.maxRequests,
            windowMs: spec.windowMs,
          });
    return limiter.ready();
  },
  {
    timeControl: false,
    maxKeys: false,
    afterEach: async (limiters: readonly RateLimiterContract[]) => {
      for (const limiter of limiters) await (limiter as unknown as Closeable).close();
    },
  },
);

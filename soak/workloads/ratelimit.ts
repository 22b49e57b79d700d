// In-memory limiters under contention: several contenders hammer shared keys of a token
// bucket and a sliding window, backing off by retryAfterMs. The limiters run on a clock
// that records the instant each check read, so the checks below are exact.
import type { Clock } from '../../src/core/clock.js';
import { systemClock } from '../../src/core/clock.js';
import { SlidingWindowLimiter } from '../../src/ratelimit/sliding-window.js';
import { RateLimiter } from '../../src/ratelimit/token-bucket.js';
import { SlidingWindowBound, TokenBucketBound } from '../limits.js';
import { pause, type SoakContext, type Workload } from '../lib.js';

const KEYS = ['tenant-a', 'tenant-b', 'tenant-c'];
const CONTENDERS_PER_KEY = 3;
const BUCKET = { ratePerSecond: 300, burst: 30 };
const WINDOW = { maxRequests: 100, windowMs: 500 };

export function startRateLimits(ctx: SoakContext): Workload {
  let reading: number | undefined;
  const clock: Clock = {
    now: () => systemClock.now(),
    monotonic: () => {
      const t = systemClock.monotonic();
      reading ??= t;
      return t;
    },
    setTimer: (ms, fn) => systemClock.setTimer(ms, fn),
  };
  const bucket = new RateLimiter({ ...BUCKET, clock, maxKeys: 64 });
  const window = new SlidingWindowLimiter({ ...WINDOW, clock, maxKeys: 64 });
  const bucketBounds = new Map(
    KEYS.map((k) => [k, new TokenBucketBound(BUCKET.ratePerSecond, BUCKET.burst)]),
  );
  const windowBounds = new Map(
    KEYS.map((k) => [k, new SlidingWindowBound(WINDOW.maxRequests, WINDOW.windowMs)]),
  );
  let checks = 0;
  let rejected = 0;

  const contender = async (key: string, kind: 'bucket' | 'window'): Promise<void> => {
    while (!ctx.signal.aborted) {
      reading = undefined;
      const decision = kind === 'bucket' ? bucket.check(key) : window.check(key);
      const at = reading as number | undefined;
      if (at === undefined) {
        ctx.fail(`ratelimit: ${kind} check did not read the clock`);
        return;
      }
      checks++;
      if (kind === 'bucket') {
        if (decision.allowed) bucketBounds.get(key)!.admit(at, at);
      } else {
        windowBounds.get(key)!.check(at, decision.allowed);
      }
      ctx.retain(decision);
      if (decision.allowed) {
        await pause(1 + (checks % 3), ctx.signal);
      } else {
        rejected++;
        if (!(decision.retryAfterMs > 0))
          ctx.fail(`ratelimit: rejected with retryAfterMs ${decision.retryAfterMs}`);
        await pause(Math.min(decision.retryAfterMs, 25), ctx.signal);
      }
    }
  };
  const tasks: Promise<void>[] = [];
  for (const key of KEYS) {
    for (let i = 0; i < CONTENDERS_PER_KEY; i++) {
      tasks.push(contender(key, 'bucket'), contender(key, 'window'));
    }
  }
  // Key churn: one-shot keys exercise eviction of stale keys without touching live ones.
  const churn = (async () => {
    let n = 0;
    while (!ctx.signal.aborted) {
      bucket.check(`churn-${n % 1000}`);
      window.check(`churn-${n % 1000}`);
      n++;
      if (n % 50 === 0) {
        bucket.evictStale();
        window.evictStale();
      }
      await pause(2, ctx.signal);
    }
  })();

  return {
    name: 'ratelimit',
    async stop() {
      await Promise.all([...tasks, churn]);
      const failures: string[] = [];
      let admitted = 0;
      let worstExcess = -Infinity;
      for (const [key, bound] of bucketBounds) {
        admitted += bound.admitted;
        worstExcess = Math.max(worstExcess, bound.worstExcess);
        if (bound.violations > 0) {
          failures.push(
            `ratelimit: token bucket ${key} admitted more than burst + rate × elapsed ${bound.violations} times (worst +${bound.worstExcess.toFixed(3)})`,
          );
        }
      }
      let maxInGrid = 0;
      let maxInSliding = 0;
      for (const [key, bound] of windowBounds) {
        admitted += bound.admitted;
        maxInGrid = Math.max(maxInGrid, bound.maxInGrid);
        maxInSliding = Math.max(maxInSliding, bound.maxInSliding);
        if (bound.violations > 0) {
          failures.push(
            `ratelimit: sliding window ${key} broke its bound ${bound.violations} times (max ${bound.maxInGrid} per grid window, ${bound.maxInSliding} per sliding window, limit ${WINDOW.maxRequests})`,
          );
        }
      }
      if (bucket.stats().activeKeys > 64 || window.stats().activeKeys > 64) {
        failures.push('ratelimit: more keys tracked than maxKeys');
      }
      await bucket.close();
      await window.close();
      return {
        ops: checks,
        unit: 'checks',
        counts: {
          checks,
          admitted,
          rejected,
          bucketSlackTokens: Math.round(-worstExcess * 100) / 100,
          windowMaxPerGrid: maxInGrid,
          windowMaxSliding: maxInSliding,
        },
        failures,
      };
    },
  };
}

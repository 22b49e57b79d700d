// Conformance suite for every RateLimiterContract implementation (memory, Redis, ...).
//
// Usage, in a `*.test.ts` file:
//   describeRateLimiter('redis', async (spec, clock) => createRedisLimiter(spec), {
//     timeControl: false,          // the implementation reads its own (server) time
//     maxKeys: false,              // it does not implement maxKeys
//     afterEach: async (limiter) => { ... },
//   });
//
// The factory receives a ManualClock. An implementation that can take it (in-memory)
// passes it on and declares `timeControl: true` (the default): the time-travel scenarios
// then run too. One that cannot (a Redis limiter uses server time) declares
// `timeControl: false`; every scenario still registered relies only on burst exhaustion,
// `retryAfterMs` bounds and real waits of a few milliseconds, so it holds on real time.
import { afterEach, describe, expect, it } from 'vitest';
import { isMajraError } from '../../src/core/errors.js';
import type {
  MaybePromise,
  RateLimitDecision,
  RateLimiterContract,
} from '../../src/ratelimit/types.js';
import { ManualClock, flushMicrotasks } from '../../src/testing/manual-clock.js';

/** What the suite asks the factory to build. */
export type RateLimiterSpec =
  | {
      readonly kind: 'token-bucket';
      readonly ratePerSecond: number;
      readonly burst: number;
      readonly maxKeys?: number;
    }
  | {
      readonly kind: 'sliding-window';
      readonly maxRequests: number;
      readonly windowMs: number;
      readonly maxKeys?: number;
    };

/** Builds a limiter for `spec`; use `clock` when the implementation can. */
export type RateLimiterFactory = (
  spec: RateLimiterSpec,
  clock: ManualClock,
) => MaybePromise<RateLimiterContract>;

export interface RateLimiterSuiteOptions {
  /** The limiter honours the ManualClock passed to the factory (default true). */
  readonly timeControl?: boolean;
  /** The limiter implements `maxKeys` with fail-closed rejection of new keys (default true). */
  readonly maxKeys?: boolean;
  /** Runs after each test with every limiter the test created (close connections, keys). */
  readonly afterEach?: (limiters: readonly RateLimiterContract[]) => MaybePromise<void>;
}

const TB_SLOW = { kind: 'token-bucket', ratePerSecond: 0.001, burst: 3 } as const;
const SW_SLOW = { kind: 'sliding-window', maxRequests: 3, windowMs: 3_600_000 } as const;

async function expectCode(promise: MaybePromise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(isMajraError(error), String(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    return;
  }
  expect.fail(`expected ${code}, nothing was thrown`);
}

function sync<T>(fn: () => MaybePromise<T>): MaybePromise<T> {
  // Turns a synchronous throw into a rejection so both kinds of limiter are checked alike.
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Registers the conformance scenarios for one implementation. */
export function describeRateLimiter(
  name: string,
  factory: RateLimiterFactory,
  options: RateLimiterSuiteOptions = {},
): void {
  const timeControl = options.timeControl ?? true;
  const supportsMaxKeys = options.maxKeys ?? true;

  describe(`RateLimiter conformance: ${name}`, () => {
    let created: RateLimiterContract[] = [];
    let clock = new ManualClock();

    async function make(spec: RateLimiterSpec): Promise<RateLimiterContract> {
      const limiter = await factory(spec, clock);
      created.push(limiter);
      return limiter;
    }

    async function checks(
      limiter: RateLimiterContract,
      key: string,
      n: number,
      cost?: number,
    ): Promise<RateLimitDecision[]> {
      const out: RateLimitDecision[] = [];
      for (let i = 0; i < n; i++) out.push(await limiter.check(key, cost));
      return out;
    }

    /** Lets `ms` pass: manual time when controlled, otherwise nothing to do (real time). */
    async function pass(ms: number): Promise<void> {
      if (timeControl) await clock.advanceAsync(ms);
    }

    afterEach(async () => {
      const limiters = created;
      created = [];
      clock = new ManualClock();
      await options.afterEach?.(limiters);
    });

    for (const spec of [TB_SLOW, SW_SLOW] as const) {
      describe(spec.kind, () => {
        it('admits a new key up to its capacity, then rejects', async () => {
          const limiter = await make(spec);
          const got = await checks(limiter, 'k', 4);
          expect(got.map((d) => d.allowed)).toEqual([true, true, true, false]);
          expect(got.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
          expect(got.slice(0, 3).every((d) => d.retryAfterMs === 0)).toBe(true);
        });

        it('keeps keys independent', async () => {
          const limiter = await make(spec);
          await checks(limiter, 'a', 3);
          expect((await limiter.check('a')).allowed).toBe(false);
          expect((await limiter.check('b')).allowed).toBe(true);
        });

        it('gives a rejected check a positive, bounded retryAfterMs', async () => {
          const limiter = await make(spec);
          await checks(limiter, 'k', 3);
          const rejected = await limiter.check('k');
          expect(rejected.allowed).toBe(false);
          expect(rejected.retryAfterMs).toBeGreaterThan(0);
          expect(Number.isFinite(rejected.retryAfterMs)).toBe(true);
          const bound =
            spec.kind === 'token-bucket'
              ? Math.ceil(1000 / spec.ratePerSecond) + 1
              : 2 * spec.windowMs + 1;
          expect(rejected.retryAfterMs).toBeLessThanOrEqual(bound);
        });

        it('consumes cost units and rejects a cost that does not fit without consuming', async () => {
          const limiter = await make(spec);
          const first = await limiter.check('k', 2);
          expect(first).toMatchObject({ allowed: true, remaining: 1 });
          const second = await limiter.check('k', 2);
          expect(second).toMatchObject({ allowed: false, remaining: 1 });
          expect((await limiter.check('k', 1)).allowed).toBe(true);
          expect((await limiter.check('k', 1)).allowed).toBe(false);
        });

        it('counts allowed, rejected and active keys in stats()', async () => {
          const limiter = await make(spec);
          await checks(limiter, 'a', 4);
          await limiter.check('b');
          const stats = await limiter.stats();
          expect(stats).toMatchObject({ allowed: 4, rejected: 1, activeKeys: 2 });
          expect(stats.evicted).toBeGreaterThanOrEqual(0);
        });

        it('rejects bad keys with ERR_RATELIMIT_INVALID_KEY and changes nothing', async () => {
          const limiter = await make(spec);
          for (const bad of ['', 'x'.repeat(1025), 42, undefined, null]) {
            await expectCode(
              sync(() => limiter.check(bad as string)),
              'ERR_RATELIMIT_INVALID_KEY',
            );
          }
          expect(await limiter.stats()).toMatchObject({ allowed: 0, rejected: 0, activeKeys: 0 });
        });

        it('rejects bad costs with ERR_RATELIMIT_INVALID_COST and changes nothing', async () => {
          const limiter = await make(spec);
          for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 4, '1']) {
            await expectCode(
              sync(() => limiter.check('k', bad as number)),
              'ERR_RATELIMIT_INVALID_COST',
            );
            await expectCode(
              sync(() => limiter.acquire('k', { cost: bad as number })),
              'ERR_RATELIMIT_INVALID_COST',
            );
          }
          expect(await limiter.stats()).toMatchObject({ allowed: 0, rejected: 0, activeKeys: 0 });
        });

        it('admits each request exactly once under concurrent checks', async () => {
          const limiter = await make(spec);
          const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
          const all = await Promise.all(
            keys.flatMap((key) =>
              Array.from({ length: 10 }, () => Promise.resolve(limiter.check(key))),
            ),
          );
          expect(all.filter((d) => d.allowed)).toHaveLength(20 * 3);
          const stats = await limiter.stats();
          expect(stats.allowed + stats.rejected).toBe(200);
          expect(stats.activeKeys).toBe(20);
          for (const key of keys) expect((await limiter.check(key)).allowed).toBe(false);
        });

        it('never evicts a key that is in use', async () => {
          const limiter = await make(spec);
          await checks(limiter, 'busy', 3);
          expect(await limiter.evictStale()).toBe(0);
          expect((await limiter.check('busy')).allowed).toBe(false);
        });

        it('acquire resolves at once when capacity is there', async () => {
          const limiter = await make(spec);
          await limiter.acquire('k');
          await limiter.acquire('k', { cost: 2 });
          expect((await limiter.check('k')).allowed).toBe(false);
        });

        it('acquire rejects with ERR_ABORTED for an aborted signal, and when aborted while waiting', async () => {
          const limiter = await make(spec);
          await checks(limiter, 'k', 3);
          await expectCode(
            limiter.acquire('k', { signal: AbortSignal.abort(new Error('stop')) }),
            'ERR_ABORTED',
          );
          const controller = new AbortController();
          const waiting = limiter.acquire('k', { signal: controller.signal });
          const outcome = expectCode(waiting, 'ERR_ABORTED');
          await flushMicrotasks();
          controller.abort(new Error('caller gave up'));
          await outcome;
          expect((await limiter.check('k')).allowed).toBe(false);
        });

        it('acquire rejects bad keys with ERR_RATELIMIT_INVALID_KEY', async () => {
          const limiter = await make(spec);
          await expectCode(
            sync(() => limiter.acquire('')),
            'ERR_RATELIMIT_INVALID_KEY',
          );
        });
      });
    }

    describe('waiting for refill', () => {
      // Fast limiters so that, on real time, each wait is a few milliseconds.
      const fast: RateLimiterSpec[] = [
        { kind: 'token-bucket', ratePerSecond: 200, burst: 2 },
        { kind: 'sliding-window', maxRequests: 2, windowMs: 20 },
      ];
      for (const spec of fast) {
        it(`${spec.kind}: acquire waits for capacity, then consumes it`, async () => {
          const limiter = await make(spec);
          await checks(limiter, 'k', 2);
          let done = false;
          const waiting = limiter.acquire('k').then(() => {
            done = true;
          });
          await flushMicrotasks();
          expect(done).toBe(false);
          await pass(spec.kind === 'token-bucket' ? 10 : 40);
          await waiting;
          expect(done).toBe(true);
        });

        it(`${spec.kind}: a check after waiting retryAfterMs is admitted`, async () => {
          const limiter = await make(spec);
          await checks(limiter, 'k', 2);
          const rejected = await limiter.check('k');
          expect(rejected.allowed).toBe(false);
          if (timeControl) await clock.advanceAsync(rejected.retryAfterMs);
          // Real timers: libuv compares against a loop time cached in whole milliseconds, so
          // a timer may fire up to 1 ms before the monotonic clock has moved that far.
          else await new Promise((resolve) => setTimeout(resolve, rejected.retryAfterMs + 2));
          expect((await limiter.check('k')).allowed).toBe(true);
        });
      }
    });

    if (supportsMaxKeys) {
      describe('maxKeys', () => {
        for (const spec of [TB_SLOW, SW_SLOW] as const) {
          it(`${spec.kind}: a new key beyond maxKeys is rejected while the others are active`, async () => {
            const limiter = await make({ ...spec, maxKeys: 2 });
            await checks(limiter, 'a', 3);
            expect((await limiter.check('b')).allowed).toBe(true);
            const refused = await limiter.check('c');
            expect(refused.allowed).toBe(false);
            expect(refused.retryAfterMs).toBeGreaterThan(0);
            expect((await limiter.stats()).activeKeys).toBe(2);
            // The active key was not reset to make room.
            expect((await limiter.check('a')).allowed).toBe(false);
          });
        }
      });
    }

    if (timeControl) {
      describe('time travel (ManualClock)', () => {
        it('token bucket: refill is continuous, carries fractions and caps at burst', async () => {
          const limiter = await make({ kind: 'token-bucket', ratePerSecond: 2, burst: 3 });
          await checks(limiter, 'k', 3);
          await clock.advanceAsync(250); // half a token
          expect((await limiter.check('k')).allowed).toBe(false);
          await clock.advanceAsync(250); // exactly one token
          expect((await limiter.check('k')).allowed).toBe(true);
          expect((await limiter.check('k')).allowed).toBe(false);
          await clock.advanceAsync(3_600_000);
          const got = await checks(limiter, 'k', 4);
          expect(got.map((d) => d.allowed)).toEqual([true, true, true, false]);
        });

        it('token bucket: retryAfterMs is exact to the millisecond', async () => {
          const limiter = await make({ kind: 'token-bucket', ratePerSecond: 3, burst: 1 });
          await limiter.check('k');
          const rejected = await limiter.check('k');
          expect(rejected.retryAfterMs).toBe(334);
          await clock.advanceAsync(333);
          expect((await limiter.check('k')).allowed).toBe(false);
          await clock.advanceAsync(1);
          expect((await limiter.check('k')).allowed).toBe(true);
        });

        it('token bucket: evictStale removes only keys that have refilled completely', async () => {
          const limiter = await make({ kind: 'token-bucket', ratePerSecond: 1, burst: 2 });
          await limiter.check('old');
          await clock.advanceAsync(1_000);
          await limiter.check('recent');
          await clock.advanceAsync(1_000); // old idle 2 s = full; recent idle 1 s
          expect(await limiter.evictStale()).toBe(1);
          const stats = await limiter.stats();
          expect(stats).toMatchObject({ activeKeys: 1, evicted: 1 });
        });

        it('sliding window: interpolates the previous window (spec 5.6 #13)', async () => {
          const limiter = await make({
            kind: 'sliding-window',
            maxRequests: 10,
            windowMs: 1_000,
          });
          await limiter.check('k');
          await clock.advanceAsync(990);
          await checks(limiter, 'k', 9);
          await clock.advanceAsync(260); // 25 % into window 2: estimate 7.5 + curr
          const got = await checks(limiter, 'k', 4);
          expect(got.map((d) => d.allowed)).toEqual([true, true, true, false]);
        });

        it('sliding window: resets after two idle windows and keeps the grid aligned', async () => {
          const limiter = await make({ kind: 'sliding-window', maxRequests: 2, windowMs: 100 });
          await checks(limiter, 'k', 2);
          await clock.advanceAsync(150); // window 2, 50 % in: estimate 1 + 0
          expect((await limiter.check('k')).allowed).toBe(true);
          expect((await limiter.check('k')).allowed).toBe(false);
          await clock.advanceAsync(50); // exactly the start of window 3: prev = 1 at weight 1
          expect((await limiter.check('k')).allowed).toBe(true);
          expect((await limiter.check('k')).allowed).toBe(false);
          await clock.advanceAsync(200); // two whole windows idle
          expect((await checks(limiter, 'k', 3)).map((d) => d.allowed)).toEqual([
            true,
            true,
            false,
          ]);
        });

        it('sliding window: evictStale removes only keys idle for two windows', async () => {
          const limiter = await make({ kind: 'sliding-window', maxRequests: 2, windowMs: 100 });
          await limiter.check('old');
          await clock.advanceAsync(150);
          await limiter.check('recent');
          await clock.advanceAsync(50);
          expect(await limiter.evictStale()).toBe(1);
          expect((await limiter.stats()).activeKeys).toBe(1);
        });

        if (supportsMaxKeys) {
          it('maxKeys: a stale key makes room for a new one', async () => {
            const limiter = await make({ ...TB_SLOW, ratePerSecond: 1, maxKeys: 1 });
            await checks(limiter, 'a', 3);
            const refused = await limiter.check('b');
            expect(refused.allowed).toBe(false);
            await clock.advanceAsync(refused.retryAfterMs);
            expect((await limiter.check('b')).allowed).toBe(true);
            expect(await limiter.stats()).toMatchObject({ activeKeys: 1, evicted: 1 });
          });
        }
      });
    }
  });
}

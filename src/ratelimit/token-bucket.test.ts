import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { ManualClock } from '../testing/manual-clock.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { RateLimiter } from './token-bucket.js';

function setup(ratePerSecond: number, burst: number, extra: { maxKeys?: number } = {}) {
  const clock = new ManualClock();
  const metrics = new MemoryMetricsSink();
  const limiter = new RateLimiter({ ratePerSecond, burst, clock, metrics, ...extra });
  const allowed = (key: string, n = 1): boolean[] =>
    Array.from({ length: n }, () => limiter.check(key).allowed);
  return { clock, metrics, limiter, allowed };
}

describe('RateLimiter (token bucket), spec scenarios', () => {
  it('#1 rate 1, burst 3: T, T, T, F', () => {
    expect(setup(1, 3).allowed('k', 4)).toEqual([true, true, true, false]);
  });

  it('#2 rate 1, burst 1: keys are independent', () => {
    const { allowed } = setup(1, 1);
    expect([...allowed('a'), ...allowed('b'), ...allowed('a'), ...allowed('b')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it('#3 rate 100, burst 1: T, F, then T after 20 ms', () => {
    const { allowed, clock } = setup(100, 1);
    expect(allowed('k', 2)).toEqual([true, false]);
    clock.advance(20);
    expect(allowed('k')).toEqual([true]);
  });

  it('#4/#5 key count; rate 1000, burst 10, 4 keys × 20 checks', () => {
    const { limiter } = setup(1000, 10);
    let ok = 0;
    for (const key of ['a', 'b', 'c', 'd']) {
      for (let i = 0; i < 20; i++) if (limiter.check(key).allowed) ok++;
    }
    expect(ok).toBe(40);
    expect(limiter.keyCount).toBe(4);
  });

  it('#6 stats for rate 1, burst 2, three checks', () => {
    const { limiter, allowed } = setup(1, 2);
    allowed('k', 3);
    expect(limiter.stats()).toEqual({ allowed: 2, rejected: 1, activeKeys: 1, evicted: 0 });
  });

  it('#7 evictStale removes only keys idle long enough to be full again', () => {
    const { limiter, clock } = setup(100, 1, {}); // full again after 10 ms
    limiter.check('fresh');
    limiter.check('stale');
    clock.advance(20);
    limiter.check('fresh');
    expect(limiter.evictStale()).toBe(1);
    expect(limiter.keyCount).toBe(1);
    expect(limiter.stats().evicted).toBe(1);
    expect(limiter.evictStale()).toBe(0);
    clock.advance(10);
    expect(limiter.evictStale()).toBe(1);
    expect(limiter.stats().evicted).toBe(2);
  });

  it('#8 rate 10, burst 5, two keys × 5, then one rejected each; eviction after idle', () => {
    const { limiter, clock, allowed } = setup(10, 5);
    allowed('a', 5);
    allowed('b', 5);
    expect(limiter.stats().allowed).toBe(10);
    allowed('a');
    allowed('b');
    expect(limiter.stats()).toMatchObject({ rejected: 2, activeKeys: 2 });
    clock.advance(499);
    expect(limiter.evictStale()).toBe(0);
    clock.advance(1);
    expect(limiter.evictStale()).toBe(2);
  });

  it('#11 exact refill boundary, fractional carry-over and the burst cap', () => {
    const { allowed, clock } = setup(2, 1);
    allowed('k');
    clock.advance(499);
    expect(allowed('k')).toEqual([false]);
    clock.advance(1); // 0.5 s → exactly one token, the 499 ms were carried over
    expect(allowed('k')).toEqual([true]);
    clock.advance(10 * 60_000);
    expect(allowed('k', 2)).toEqual([true, false]);
  });

  it('#16 an evicted key comes back full; an active key is never evicted to make room', () => {
    const { limiter, clock, allowed } = setup(1, 2, { maxKeys: 2 });
    allowed('a', 2);
    allowed('b', 2);
    const refused = limiter.check('c');
    expect(refused).toEqual({ allowed: false, remaining: 0, retryAfterMs: 2000 });
    expect(allowed('a')).toEqual([false]);
    clock.advance(1000);
    allowed('b'); // b is now the most recently used
    clock.advance(1000); // a idle 2 s: full, stale
    expect(allowed('c', 3)).toEqual([true, true, false]);
    expect(limiter.stats()).toMatchObject({ activeKeys: 2, evicted: 1 });
    expect(limiter.check('a').allowed).toBe(false); // b is active: no room for a
  });
});

describe('RateLimiter decisions', () => {
  it('reports remaining whole tokens and an exact retryAfterMs', () => {
    const { limiter, clock } = setup(4, 3);
    expect(limiter.check('k', 2)).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 });
    expect(limiter.check('k', 3)).toEqual({ allowed: false, remaining: 1, retryAfterMs: 500 });
    clock.advance(499);
    expect(limiter.check('k', 3).allowed).toBe(false);
    clock.advance(1);
    expect(limiter.check('k', 3)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
  });

  it('waiting exactly retryAfterMs always suffices (random rates and costs)', () => {
    const clock = new ManualClock();
    let seed = 7;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let i = 0; i < 500; i++) {
      const rate = 0.01 + random() * 1000;
      const burst = 1 + Math.floor(random() * 50);
      const limiter = new RateLimiter({ ratePerSecond: rate, burst, clock });
      const cost = 1 + random() * (burst - 1);
      while (limiter.check('k', cost).allowed);
      const { retryAfterMs } = limiter.check('k', cost);
      clock.advance(retryAfterMs);
      expect(limiter.check('k', cost).allowed).toBe(true);
    }
  });
});

describe('RateLimiter validation', () => {
  it.each([
    { ratePerSecond: Number.NaN, burst: 1 },
    { ratePerSecond: Number.POSITIVE_INFINITY, burst: 1 },
    { ratePerSecond: Number.NEGATIVE_INFINITY, burst: 1 },
    { ratePerSecond: 0, burst: 1 },
    { ratePerSecond: -1, burst: 1 },
    { ratePerSecond: 1, burst: 0 },
    { ratePerSecond: 1, burst: -1 },
    { ratePerSecond: 1, burst: 1.5 },
    { ratePerSecond: 1, burst: Number.NaN },
    { ratePerSecond: 1, burst: 1, maxKeys: 0 },
    { ratePerSecond: 1, burst: 1, maxKeys: 2.5 },
    { ratePerSecond: 1, burst: 10, staleAfterMs: 9_999 },
    { ratePerSecond: 1, burst: 10, staleAfterMs: Number.NaN },
  ])('rejects %o with ERR_INVALID_ARGUMENT', (options) => {
    expect(() => new RateLimiter(options)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('accepts a staleAfterMs above the refill time', () => {
    expect(new RateLimiter({ ratePerSecond: 1, burst: 10, staleAfterMs: 10_000 }).burst).toBe(10);
  });

  it('acquire rejects non-object options', async () => {
    const { limiter } = setup(1, 2);
    await expect(limiter.acquire('k', null as never)).rejects.toSatisfy((e) =>
      isMajraError(e, 'ERR_INVALID_ARGUMENT'),
    );
  });

  it('bad key or cost leaves the state unchanged', () => {
    const { limiter } = setup(1, 2);
    limiter.check('k');
    for (const fn of [
      () => limiter.check('k', 3),
      () => limiter.check(''),
      () => limiter.check('k', 0),
    ]) {
      expect(fn).toThrow();
    }
    expect(limiter.stats()).toEqual({ allowed: 1, rejected: 0, activeKeys: 1, evicted: 0 });
    expect(limiter.check('k')).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
  });
});

describe('RateLimiter metrics and lifecycle', () => {
  it('reports checks, evictions, full rejections and the key gauge', () => {
    const { limiter, metrics, clock } = setup(1, 1, { maxKeys: 1 });
    limiter.check('a');
    limiter.check('a');
    limiter.check('b');
    const labels = { limiter: 'token_bucket' };
    expect(metrics.counter('majra_ratelimit_checks_total', { ...labels, result: 'allowed' })).toBe(
      1,
    );
    expect(metrics.counter('majra_ratelimit_checks_total', { ...labels, result: 'rejected' })).toBe(
      2,
    );
    expect(metrics.counter('majra_ratelimit_keys_full_total', labels)).toBe(1);
    expect(metrics.gauge('majra_ratelimit_keys', labels)).toBe(1);
    clock.advance(1000);
    expect(limiter.evictStale()).toBe(1);
    expect(metrics.counter('majra_ratelimit_evictions_total', labels)).toBe(1);
    expect(metrics.gauge('majra_ratelimit_keys', labels)).toBe(0);
  });

  it('close() rejects pending acquire with ClosedError, then check throws ERR_CLOSED', async () => {
    const { limiter, clock } = setup(1, 1);
    limiter.check('k');
    const waiting = limiter.acquire('k');
    expect(clock.pendingTimers).toBe(1);
    await limiter.close();
    await expect(waiting).rejects.toSatisfy((e) => isMajraError(e, 'ERR_CLOSED'));
    expect(clock.pendingTimers).toBe(0);
    expect(() => limiter.check('k')).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    await expect(limiter.acquire('k')).rejects.toSatisfy((e) => isMajraError(e, 'ERR_CLOSED'));
    expect(limiter.isClosed).toBe(true);
    await limiter[Symbol.asyncDispose]();
  });

  it('acquire with a cost waits until the bucket holds it', async () => {
    const { limiter, clock } = setup(10, 5);
    limiter.check('k', 5);
    let done = false;
    const waiting = limiter.acquire('k', { cost: 3 }).then(() => (done = true));
    await clock.advanceAsync(299);
    expect(done).toBe(false);
    await clock.advanceAsync(1);
    await waiting;
    expect(done).toBe(true);
    expect(limiter.check('k').allowed).toBe(false);
  });
});

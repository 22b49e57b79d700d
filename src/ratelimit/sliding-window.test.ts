import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { SlidingWindowLimiter } from './sliding-window.js';

function setup(maxRequests: number, windowMs: number, extra: { maxKeys?: number } = {}) {
  const clock = new ManualClock();
  const metrics = new MemoryMetricsSink();
  const limiter = new SlidingWindowLimiter({ maxRequests, windowMs, clock, metrics, ...extra });
  const allowed = (key: string, n = 1): boolean[] =>
    Array.from({ length: n }, () => limiter.check(key).allowed);
  return { clock, metrics, limiter, allowed };
}

describe('SlidingWindowLimiter, spec scenarios', () => {
  it('#9 max 3 per 1 s: T, T, T, F; independent keys; stats; recovery', () => {
    const { allowed, limiter } = setup(3, 1000);
    expect(allowed('k', 4)).toEqual([true, true, true, false]);
    const one = setup(1, 1000);
    expect([...one.allowed('a'), ...one.allowed('b')]).toEqual([true, true]);
    one.allowed('a');
    expect(one.limiter.stats()).toEqual({ allowed: 2, rejected: 1, activeKeys: 2, evicted: 0 });
    expect(limiter.keyCount).toBe(1);
    const fast = setup(1, 20);
    expect(fast.allowed('k', 2)).toEqual([true, false]);
    fast.clock.advance(45);
    expect(fast.allowed('k')).toEqual([true]);
  });

  it('#13 interpolation: 25 % into window 2 with 10 in window 1 admits exactly 3 more', () => {
    const { allowed, clock, limiter } = setup(10, 1000);
    allowed('k');
    clock.advance(999);
    expect(allowed('k', 9).every(Boolean)).toBe(true);
    clock.advance(251);
    expect(allowed('k', 4)).toEqual([true, true, true, false]);
    expect(limiter.check('k').retryAfterMs).toBeGreaterThan(0);
  });

  it('#14 the grid advances by exactly one window, and resets after two', () => {
    const { allowed, clock } = setup(4, 100);
    allowed('k', 4); // window [0, 100)
    clock.advance(175); // window [100, 200): prev 4 at weight 0.25 = 1
    expect(allowed('k', 4)).toEqual([true, true, true, false]);
    clock.advance(25); // t = 200, window [200, 300): prev 3 at weight 1
    expect(allowed('k', 2)).toEqual([true, false]);
    clock.advance(199); // t = 399: one full window idle, prev = 1 at weight 0.01
    expect(allowed('k', 4)).toEqual([true, true, true, true]);
    clock.advance(400); // idle two windows: both counts expire
    expect(allowed('k', 5)).toEqual([true, true, true, true, false]);
  });

  it('#15 (deviation) eviction is by last access, from 2 × windowMs idle, and counted', () => {
    const { limiter, clock, allowed } = setup(2, 100);
    allowed('old');
    clock.advance(150);
    allowed('busy');
    clock.advance(50);
    expect(limiter.evictStale()).toBe(1); // old idle 200 ms; busy idle 50 ms
    clock.advance(149);
    allowed('busy');
    clock.advance(199);
    expect(limiter.evictStale()).toBe(0);
    clock.advance(1);
    expect(limiter.evictStale()).toBe(1);
    expect(limiter.stats()).toMatchObject({ activeKeys: 0, evicted: 2 });
  });

  it('costs count in units and the rule is floor(estimate) + cost <= max', () => {
    const { limiter, clock } = setup(10, 1000);
    expect(limiter.check('k', 10)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
    clock.advance(1500); // estimate 10 × 0.5 = 5
    expect(limiter.check('k', 6)).toMatchObject({ allowed: false, remaining: 5 });
    expect(limiter.check('k', 5)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
  });

  it('waiting exactly retryAfterMs always suffices (random traffic)', () => {
    const clock = new ManualClock();
    let seed = 11;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let i = 0; i < 300; i++) {
      const max = 1 + Math.floor(random() * 40);
      const windowMs = 1 + random() * 5000;
      const limiter = new SlidingWindowLimiter({ maxRequests: max, windowMs, clock });
      const cost = 1 + Math.floor(random() * max);
      for (let j = 0; j < 20; j++) {
        limiter.check('k', 1 + Math.floor(random() * max));
        clock.advance(random() * windowMs * 0.3);
      }
      let wanted = cost;
      let decision = limiter.check('k', wanted);
      if (decision.allowed) {
        wanted = max;
        decision = limiter.check('k', wanted);
      }
      if (decision.allowed) continue;
      clock.advance(decision.retryAfterMs);
      expect(limiter.check('k', wanted).allowed).toBe(true);
    }
  });

  it('retryAfterMs is the shortest whole wait, fractional costs included', () => {
    const clock = new ManualClock();
    let seed = 5;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let i = 0; i < 300; i++) {
      const max = 2 + Math.floor(random() * 40);
      const windowMs = 100 + Math.floor(random() * 5000);
      const limiter = new SlidingWindowLimiter({ maxRequests: max, windowMs, clock });
      const cost = 0.5 + random() * (max - 1);
      while (limiter.check('k', cost).allowed) clock.advance(random() * windowMs * 0.1);
      const { retryAfterMs } = limiter.check('k', cost);
      if (retryAfterMs > 1) {
        clock.advance(retryAfterMs - 1);
        expect(limiter.check('k', cost).allowed).toBe(false);
        clock.advance(1);
      } else {
        clock.advance(retryAfterMs);
      }
      expect(limiter.check('k', cost).allowed).toBe(true);
    }
  });
});

describe('SlidingWindowLimiter window edges', () => {
  it('a full burst at the end of a window blocks a second burst at the start of the next', () => {
    const { allowed, clock } = setup(100, 1000);
    allowed('k'); // anchors the grid at 0
    clock.advance(999);
    expect(allowed('k', 99).every(Boolean)).toBe(true);
    clock.advance(1);
    const second = allowed('k', 100).filter(Boolean).length;
    expect(second).toBe(0);
    clock.advance(10); // 1 % into the window: about one more
    expect(allowed('k', 100).filter(Boolean).length).toBe(1);
  });

  it('a burst right before the boundary on a fresh grid counts fully in the next window', () => {
    const { allowed, clock } = setup(10, 1000);
    clock.advance(5000);
    expect(allowed('k', 10).every(Boolean)).toBe(true);
    clock.advance(1000); // exactly one window later: prev 10 at weight 1
    expect(allowed('k')).toEqual([false]);
  });
});

describe('SlidingWindowLimiter validation', () => {
  it.each([
    { maxRequests: 0, windowMs: 1000 },
    { maxRequests: -1, windowMs: 1000 },
    { maxRequests: 1.5, windowMs: 1000 },
    { maxRequests: Number.NaN, windowMs: 1000 },
    { maxRequests: 1, windowMs: 0 },
    { maxRequests: 1, windowMs: -5 },
    { maxRequests: 1, windowMs: Number.NaN },
    { maxRequests: 1, windowMs: Number.POSITIVE_INFINITY },
    { maxRequests: 1, windowMs: 100, staleAfterMs: 199 },
  ])('rejects %o with ERR_INVALID_ARGUMENT', (options) => {
    expect(() => new SlidingWindowLimiter(options)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('reports metrics with the sliding_window label', () => {
    const { metrics, allowed } = setup(1, 100);
    allowed('k', 2);
    const labels = { limiter: 'sliding_window' };
    expect(metrics.counter('majra_ratelimit_checks_total', { ...labels, result: 'allowed' })).toBe(
      1,
    );
    expect(metrics.counter('majra_ratelimit_checks_total', { ...labels, result: 'rejected' })).toBe(
      1,
    );
  });
});

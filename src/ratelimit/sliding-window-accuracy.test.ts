// How far the two-window approximation strays from an exact sliding log. The figures
// published in docs/ratelimit.md are the ones these deterministic (seeded) runs produce.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { SlidingWindowLimiter } from './sliding-window.js';

const W = 1_000;
const MAX = 100;

function mulberry32(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Outcome {
  /** (approx admitted / exact admitted) - 1 over the whole run. */
  readonly aggregate: number;
  /** Most approx admissions in any window of length W, / MAX - 1. */
  readonly peak: number;
}

/** Replays `arrivals` (sorted ms) against the limiter and an exact sliding log. */
function replay(arrivals: readonly number[], max = MAX, windowMs = W): Outcome {
  const clock = new ManualClock();
  const limiter = new SlidingWindowLimiter({ maxRequests: max, windowMs, clock });
  const approx: number[] = [];
  const exact: number[] = [];
  let head = 0;
  for (const t of arrivals) {
    clock.advance(t - clock.monotonic());
    if (limiter.check('k').allowed) approx.push(t);
    while (head < exact.length && exact[head]! <= t - windowMs) head++;
    if (exact.length - head < max) exact.push(t);
  }
  let peak = 0;
  let h = 0;
  for (let i = 0; i < approx.length; i++) {
    while (approx[h]! <= approx[i]! - windowMs) h++;
    peak = Math.max(peak, i - h + 1);
  }
  return { aggregate: approx.length / exact.length - 1, peak: peak / max - 1 };
}

/** Poisson arrivals at `load` × the limit, over `windows` windows. */
function poisson(load: number, seed: number, windows = 200): number[] {
  const random = mulberry32(seed);
  const lambda = (load * MAX) / W;
  const out: number[] = [];
  for (let t = 0; t < windows * W;) {
    t += -Math.log(1 - random()) / lambda;
    out.push(t);
  }
  return out;
}

/** On/off traffic: bursts at 10 × load during 10 % of every 0.7 W period. */
function bursty(load: number, seed: number, windows = 200): number[] {
  const random = mulberry32(seed);
  const lambda = ((load * MAX) / W) * 10;
  const period = 0.7 * W;
  const out: number[] = [];
  for (let t = 0; t < windows * W;) {
    if (t % period < 0.1 * period) {
      t += -Math.log(1 - random()) / lambda;
      out.push(t);
    } else {
      t = (Math.floor(t / period) + 1) * period + random();
    }
  }
  return out;
}

describe('SlidingWindowLimiter accuracy against an exact sliding log', () => {
  it.each([0.8, 1, 1.2, 2, 5, 10])(
    'Poisson traffic at %s× the limit: within 5 percent overall, 20 percent in the worst window',
    (load) => {
      const { aggregate, peak } = replay(poisson(load, 42));
      expect(Math.abs(aggregate)).toBeLessThanOrEqual(0.05);
      expect(peak).toBeLessThanOrEqual(0.2);
    },
  );

  it.each([2, 5])(
    'bursty traffic at %s× the limit: within 5 percent overall, 30 percent peak',
    (load) => {
      const { aggregate, peak } = replay(bursty(load, 7));
      expect(Math.abs(aggregate)).toBeLessThanOrEqual(0.05);
      expect(peak).toBeLessThanOrEqual(0.3);
    },
  );

  it('a burst at the end of a window plus one at the start of the next: no over-admission', () => {
    const arrivals = [0];
    for (let i = 0; i < MAX - 1; i++) arrivals.push(W - 1 + i * 0.001);
    for (let i = 0; i < MAX; i++) arrivals.push(W + i * 0.001);
    const { peak } = replay(arrivals);
    expect(peak).toBe(0);
  });

  it('adversarial: a burst at a window end then probing every ms reaches ~2× (the known worst case)', () => {
    const arrivals = [0];
    for (let i = 0; i < MAX - 1; i++) arrivals.push(W - 1 + i * 0.001);
    for (let t = W; t < 4 * W; t++) arrivals.push(t);
    const { peak } = replay(arrivals);
    expect(peak).toBeGreaterThan(0.9);
    expect(peak).toBeLessThanOrEqual(1);
  });

  it('never admits more than 2 × maxRequests in any window, whatever the traffic', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 5, max: 100 }),
        (gaps, max, windowMs) => {
          let t = 0;
          const arrivals = gaps.map((g) => (t += g));
          const { peak } = replay(arrivals, max, windowMs);
          expect(peak).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 200 },
    );
  });
});

// House rule 6 for the limiters: 1 000 000 distinct keys (a key-rotating attacker) with
// maxKeys set keep the key table and the heap bounded.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { SlidingWindowLimiter } from './sliding-window.js';
import { RateLimiter } from './token-bucket.js';

function gc(): void {
  let collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  collect();
}

function retainedBytes(): number {
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

const MAX_KEYS = 10_000;
const DISTINCT = 1_000_000;

describe.each([
  [
    'RateLimiter',
    (clock: ManualClock) =>
      new RateLimiter({ ratePerSecond: 100, burst: 10, maxKeys: MAX_KEYS, clock }),
  ],
  [
    'SlidingWindowLimiter',
    (clock: ManualClock) =>
      new SlidingWindowLimiter({ maxRequests: 10, windowMs: 50, maxKeys: MAX_KEYS, clock }),
  ],
] as const)('%s under 1 000 000 distinct keys', (_name, build) => {
  it('never tracks more than maxKeys, evicts stale keys to admit new ones, and keeps the heap flat', () => {
    const clock = new ManualClock();
    const limiter = build(clock);
    // Warm up to full size once so the measurement sees steady state.
    for (let i = 0; i < MAX_KEYS; i++) limiter.check(`warm:${i}`);
    const before = retainedBytes();
    let admitted = 0;
    let maxSeen = 0;
    for (let i = 0; i < DISTINCT; i++) {
      if (limiter.check(`attacker:${i}`).allowed) admitted++;
      if (i % 1000 === 999) {
        clock.advance(25); // time moves: old keys go stale and make room
        maxSeen = Math.max(maxSeen, limiter.keyCount);
      }
    }
    const after = retainedBytes();
    const stats = limiter.stats();
    expect(maxSeen).toBeLessThanOrEqual(MAX_KEYS);
    expect(limiter.keyCount).toBeLessThanOrEqual(MAX_KEYS);
    // Some new keys were refused while the table was full of active keys, others were
    // admitted by evicting stale ones: both sides of the policy ran.
    expect(admitted).toBeGreaterThan(MAX_KEYS);
    expect(admitted).toBeLessThan(DISTINCT);
    expect(stats.evicted).toBeGreaterThan(0);
    expect(stats.allowed + stats.rejected).toBe(DISTINCT + MAX_KEYS);
    // 10 000 keys fit in ~1.5 MB; a table growing with the 1 000 000 keys would need ~100 MB.
    expect(after - before).toBeLessThan(8 * 1024 * 1024);
  }, 120_000);
});

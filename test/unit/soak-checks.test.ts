// The soak's loss and limiter checks catch what they are meant to catch.
import { describe, expect, it } from 'vitest';
import { IdLedger } from '../../soak/lib.js';
import { OrderedIntervals, SlidingWindowBound, TokenBucketBound } from '../../soak/limits.js';

describe('IdLedger', () => {
  it('accepts each id once, in any order, and reports lost ids', () => {
    const ledger = new IdLedger();
    const ids = Array.from({ length: 10 }, () => ledger.issue());
    for (const id of [3, 1, 0, 2, 5, 4, 9, 8]) expect(ledger.settle(ids[id]!)).toBe(true);
    expect(ledger.settle(4)).toBe(false);
    expect(ledger.settle(0)).toBe(false);
    expect(ledger.settle(42)).toBe(false);
    expect(ledger.outstanding).toBe(2);
    expect(ledger.missing()).toEqual([6, 7]);
    expect(ledger.verify('jobs')).toEqual([
      'jobs: 2 of 10 never settled (lost), e.g. ids 6, 7',
      'jobs: 2 settled twice',
      'jobs: 1 settlements of unknown ids',
    ]);
  });
});

describe('TokenBucketBound', () => {
  it('passes admissions at exactly the rate after a full burst', () => {
    const bound = new TokenBucketBound(100, 10);
    for (let i = 0; i < 10; i++) bound.admit(0, 0);
    for (let i = 1; i <= 1000; i++) bound.admit(i * 10, i * 10);
    expect(bound.violations).toBe(0);
  });

  it('flags one admission beyond the burst', () => {
    const bound = new TokenBucketBound(100, 10);
    for (let i = 0; i < 11; i++) bound.admit(5, 5);
    expect(bound.violations).toBe(1);
  });

  it('flags a rate above the limit after the burst is spent', () => {
    const bound = new TokenBucketBound(100, 10);
    for (let i = 0; i < 200; i++) bound.admit(i * 5, i * 5);
    expect(bound.violations).toBeGreaterThan(0);
  });

  it('uses the call bounds: admissions whose calls overlapped a long time pass', () => {
    const bound = new TokenBucketBound(100, 10);
    const ordered = new OrderedIntervals((start, end) => bound.admit(start, end));
    const calls = Array.from({ length: 20 }, (_, i) => ordered.begin(i));
    // Replies arrive late and out of order: 20 admissions over [0, 119 ms] are possible.
    calls.reverse().forEach((token) => ordered.end(token, 119, true));
    expect(bound.admitted).toBe(20);
    expect(bound.violations).toBe(0);
  });
});

describe('SlidingWindowBound', () => {
  it('flags more than maxRequests in one grid window', () => {
    const bound = new SlidingWindowBound(10, 1000);
    for (let i = 0; i < 11; i++) bound.check(i, true);
    expect(bound.violations).toBe(1);
  });

  it('passes two full grid windows across a boundary, flags an 11th in the second', () => {
    const bound = new SlidingWindowBound(10, 1000);
    bound.check(0, false); // anchors the grid
    for (let i = 0; i < 10; i++) bound.check(990 + i, true);
    for (let i = 0; i < 10; i++) bound.check(1000 + i, true);
    expect(bound.violations).toBe(0);
    expect(bound.maxInSliding).toBe(20);
    bound.check(1500, true);
    expect(bound.violations).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { backoffDelay, resolveRetryPolicy } from './retry.js';

describe('backoffDelay', () => {
  it('grows fixed, linear and exponential delays', () => {
    const fixed = resolveRetryPolicy({ backoff: 'fixed', delayMs: 100, maxAttempts: 5 });
    const linear = resolveRetryPolicy({ backoff: 'linear', delayMs: 100, maxAttempts: 5 });
    const expo = resolveRetryPolicy({ backoff: 'exponential', delayMs: 100, maxAttempts: 5 });
    expect([1, 2, 3, 4].map((n) => backoffDelay(fixed, n))).toEqual([100, 100, 100, 100]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(linear, n))).toEqual([100, 200, 300, 400]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(expo, n))).toEqual([100, 200, 400, 800]);
  });

  it('caps every delay at maxDelayMs, even for huge failure counts', () => {
    const expo = resolveRetryPolicy({ delayMs: 1000, maxDelayMs: 5000 });
    expect(backoffDelay(expo, 3)).toBe(4000);
    expect(backoffDelay(expo, 4)).toBe(5000);
    expect(backoffDelay(expo, 5000)).toBe(5000);
    const linear = resolveRetryPolicy({ backoff: 'linear', delayMs: 86_400_000 });
    expect(backoffDelay(linear, 1e9)).toBe(86_400_000);
  });

  it('applies jitter deterministically from the injected random source', () => {
    const policy = resolveRetryPolicy({ backoff: 'fixed', delayMs: 1000, jitter: 0.5 });
    expect(backoffDelay(policy, 1, () => 0)).toBe(1000);
    expect(backoffDelay(policy, 1, () => 0.5)).toBe(750);
    expect(backoffDelay(policy, 1, () => 0.998)).toBe(501);
    const full = resolveRetryPolicy({ backoff: 'fixed', delayMs: 1000, jitter: 1 });
    expect(backoffDelay(full, 1, () => 0.25)).toBe(750);
    // A misbehaving source cannot produce a negative or NaN delay.
    expect(backoffDelay(full, 1, () => Number.NaN)).toBe(1000);
    expect(backoffDelay(full, 1, () => 7)).toBe(0);
  });

  it('defaults to one attempt and exponential 1 s backoff capped at 60 s', () => {
    expect(resolveRetryPolicy(undefined)).toEqual({
      maxAttempts: 1,
      backoff: 'exponential',
      delayMs: 1000,
      maxDelayMs: 60_000,
      jitter: 0,
    });
    expect(resolveRetryPolicy({ delayMs: 120_000 }).maxDelayMs).toBe(120_000);
  });
});

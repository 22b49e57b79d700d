/**
 * Retry policies of workflow steps: how many attempts, and how long to wait between them.
 *
 * @module
 */
import type { CodeOf } from '../core/error-codes.js';
import { integerInRange, invalid } from '../core/validate.js';

/** How the delay grows between attempts. */
export type BackoffStrategy = 'fixed' | 'linear' | 'exponential';

/** Retry policy of a step. Every field is optional; the default is one attempt (no retry). */
export interface RetryPolicy {
  /** Attempts in total, including the first; 1..100, default 1. */
  readonly maxAttempts?: number;
  /**
   * `fixed`: every wait is `delayMs`; `linear`: `delayMs × n` after the n-th failure;
   * `exponential` (default): `delayMs × 2^(n-1)`.
   */
  readonly backoff?: BackoffStrategy;
  /** Base delay in ms; 0..86 400 000, default 1000. */
  readonly delayMs?: number;
  /** Cap on any single wait in ms; default 60 000 (at least `delayMs` when given). */
  readonly maxDelayMs?: number;
  /**
   * Random share of each wait, 0..1, default 0: the wait is `capped × (1 − jitter × r)`
   * with `r` uniform in [0, 1). `1` is "full jitter", `0.5` "equal jitter".
   */
  readonly jitter?: number;
}

/** A retry policy with every field filled in and checked. */
export interface ResolvedRetryPolicy {
  /** Attempts in total, 1..100 (1 = no retry). */
  readonly maxAttempts: number;
  /** How the wait grows: `fixed`, `linear` or `exponential`. */
  readonly backoff: BackoffStrategy;
  /** Base wait after the first failure, ms. */
  readonly delayMs: number;
  /** Cap on any single wait, ms. */
  readonly maxDelayMs: number;
  /** Fraction 0..1 by which each wait is randomly shortened. */
  readonly jitter: number;
}

/** Most attempts a step may have. */
export const MAX_ATTEMPTS = 100;
/** Longest single backoff wait (one day). */
export const MAX_BACKOFF_MS = 86_400_000;

/** The policy used when a step declares none: one attempt. */
export const DEFAULT_RETRY: ResolvedRetryPolicy = Object.freeze({
  maxAttempts: 1,
  backoff: 'exponential',
  delayMs: 1000,
  maxDelayMs: 60_000,
  jitter: 0,
});

const STRATEGIES: ReadonlySet<string> = new Set(['fixed', 'linear', 'exponential']);

/**
 * Checks and completes a retry policy.
 *
 * @param name - where the policy sits, for error messages (e.g. `steps[2].retry`).
 * @throws InvalidArgumentError (with `code`, default `ERR_WORKFLOW_INVALID_DEFINITION`)
 *   for a value out of range or of the wrong type.
 */
export function resolveRetryPolicy(
  policy: RetryPolicy | undefined,
  name = 'retry',
  code: CodeOf<'InvalidArgumentError'> = 'ERR_WORKFLOW_INVALID_DEFINITION',
): ResolvedRetryPolicy {
  if (policy === undefined) return DEFAULT_RETRY;
  if (typeof policy !== 'object' || (policy as unknown) === null || Array.isArray(policy)) {
    invalid(name, 'a retry policy object', policy, code);
  }
  const maxAttempts = integerInRange(
    `${name}.maxAttempts`,
    policy.maxAttempts ?? 1,
    1,
    MAX_ATTEMPTS,
    code,
  );
  const backoff = policy.backoff ?? 'exponential';
  if (!STRATEGIES.has(backoff)) {
    invalid(`${name}.backoff`, "'fixed', 'linear' or 'exponential'", backoff, code);
  }
  const delayMs = integerInRange(
    `${name}.delayMs`,
    policy.delayMs ?? 1000,
    0,
    MAX_BACKOFF_MS,
    code,
  );
  const maxDelayMs = integerInRange(
    `${name}.maxDelayMs`,
    policy.maxDelayMs ?? Math.max(60_000, delayMs),
    0,
    MAX_BACKOFF_MS,
    code,
  );
  if (maxDelayMs < delayMs) {
    invalid(`${name}.maxDelayMs`, `at least delayMs (${delayMs})`, maxDelayMs, code);
  }
  const jitter = policy.jitter ?? 0;
  if (typeof jitter !== 'number' || !Number.isFinite(jitter) || jitter < 0 || jitter > 1) {
    invalid(`${name}.jitter`, 'a number from 0 to 1', jitter, code);
  }
  return Object.freeze({ maxAttempts, backoff, delayMs, maxDelayMs, jitter });
}

/**
 * The wait before the next attempt after the `failures`-th failed attempt (1-based),
 * capped at `maxDelayMs`, with jitter drawn from `random` (uniform in [0, 1)). Pure and
 * deterministic for a given `random`.
 */
export function backoffDelay(
  policy: ResolvedRetryPolicy,
  failures: number,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(failures));
  let raw: number;
  switch (policy.backoff) {
    case 'fixed':
      raw = policy.delayMs;
      break;
    case 'linear':
      raw = policy.delayMs * n;
      break;
    case 'exponential':
      // 2^1023 overflows to Infinity, which the cap absorbs; no NaN is possible.
      raw = policy.delayMs * 2 ** Math.min(n - 1, 1023);
      break;
  }
  const capped = Math.min(raw, policy.maxDelayMs);
  if (policy.jitter === 0) return capped;
  const r = random();
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return Math.round(capped * (1 - policy.jitter * unit));
}

import { defineMetric } from '../core/metrics.js';

/**
 * Metric definitions of the rate limiters. Labels are bounded: `limiter` is
 * `token_bucket` or `sliding_window`, `result` is `allowed` or `rejected`; keys are never
 * labels.
 *
 * @internal
 */

/** Checks by outcome. */
export const RATELIMIT_CHECKS = defineMetric({
  name: 'majra_ratelimit_checks_total',
  type: 'counter',
  help: 'Rate-limit checks, by limiter kind and result.',
  labelNames: ['limiter', 'result'],
});

/** Keys removed as stale. */
export const RATELIMIT_EVICTIONS = defineMetric({
  name: 'majra_ratelimit_evictions_total',
  type: 'counter',
  help: 'Keys evicted as stale (explicitly or to make room under maxKeys), by limiter kind.',
  labelNames: ['limiter'],
});

/** Checks for a new key refused because maxKeys was reached and no key was stale. */
export const RATELIMIT_KEYS_FULL = defineMetric({
  name: 'majra_ratelimit_keys_full_total',
  type: 'counter',
  help: 'Checks on new keys rejected because maxKeys active keys were tracked.',
  labelNames: ['limiter'],
});

/** Keys tracked (set when the count changes). */
export const RATELIMIT_KEYS = defineMetric({
  name: 'majra_ratelimit_keys',
  type: 'gauge',
  help: 'Keys currently tracked, by limiter kind.',
  labelNames: ['limiter'],
});

import { defineMetric } from '../core/metrics.js';

/**
 * Metric definitions of the barriers. Barrier names are never labels; `reason` is one of
 * `timeout`, `aborted`, `removed`, `replaced`, `closed`.
 *
 * @internal
 */

/** Arrivals counted (first arrival of a declared participant). */
export const BARRIER_ARRIVALS = defineMetric({
  name: 'majra_barrier_arrivals_total',
  type: 'counter',
  help: 'Participant arrivals counted at barriers.',
});

/** Barriers released. */
export const BARRIER_RELEASES = defineMetric({
  name: 'majra_barrier_releases_total',
  type: 'counter',
  help: 'Barriers released (every remaining participant arrived).',
});

/** Participants removed with forceRelease. */
export const BARRIER_FORCED = defineMetric({
  name: 'majra_barrier_forced_total',
  type: 'counter',
  help: 'Participants removed from a barrier with forceRelease.',
});

/** Waits that ended without a release. */
export const BARRIER_WAIT_FAILURES = defineMetric({
  name: 'majra_barrier_wait_failures_total',
  type: 'counter',
  help: 'Barrier waits rejected, by reason.',
  labelNames: ['reason'],
});

/** Barriers currently defined. */
export const BARRIER_ACTIVE = defineMetric({
  name: 'majra_barrier_barriers',
  type: 'gauge',
  help: 'Barriers currently defined (created and not completed).',
});

/** Pending waiters across all barriers. */
export const BARRIER_WAITERS = defineMetric({
  name: 'majra_barrier_waiters',
  type: 'gauge',
  help: 'Pending arriveAndWait / wait calls across all barriers.',
});

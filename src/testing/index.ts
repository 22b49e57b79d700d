/**
 * Test helpers: a manual clock, an in-memory metrics sink, and iteration helpers.
 *
 * @example
 * ```ts
 * import { ManualClock } from 'majra/testing';
 * const clock = new ManualClock();
 * clock.setTimer(100, () => console.log('fired'));
 * clock.advance(100); // prints 'fired'
 * ```
 *
 * @module
 */
export { ManualClock, flushMicrotasks } from './manual-clock.js';
export { MemoryMetricsSink } from './memory-metrics.js';
export { collect } from './collect.js';

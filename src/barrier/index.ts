/**
 * Named N-way barriers with declared participants, forced release of dead participants,
 * and waits that take `signal` and `timeoutMs` and fail with typed errors instead of
 * hanging when their barrier is completed or re-created.
 *
 * @example
 * ```ts
 * import { BarrierSet } from 'majra/barrier';
 *
 * const barriers = new BarrierSet();
 * barriers.create('checkpoint', ['w1', 'w2']);
 * const w1 = barriers.arriveAndWait('checkpoint', 'w1', { timeoutMs: 10_000 });
 * barriers.forceRelease('checkpoint', 'w2'); // w2 died: release the others
 * await w1;
 * console.log(barriers.complete('checkpoint')); // { name: 'checkpoint', participants: ['w1'], forced: true, released: true }
 * ```
 *
 * @module
 */
export { BarrierSet } from './barrier-set.js';
export {
  MAX_BARRIER_NAME_LENGTH,
  DEFAULT_MAX_BARRIERS,
  DEFAULT_MAX_PARTICIPANTS,
} from './types.js';
export type { BarrierResult, BarrierRecord, BarrierStats, BarrierSetOptions } from './types.js';

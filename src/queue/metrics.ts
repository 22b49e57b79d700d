/**
 * Metric definitions reported by `ManagedQueue`, and (enqueued, dequeued, depth) by
 * `PriorityQueue` and `ConcurrentPriorityQueue` given a sink. Labels are bounded: `queue` is the
 * queue's configured name, `priority` a tier name, `from`/`to` a job state, `op` a store
 * operation name.
 *
 * @module
 */
import { defineMetric } from '../core/metrics.js';

/** Jobs enqueued. */
export const QUEUE_ENQUEUED = defineMetric({
  name: 'majra_queue_enqueued_total',
  type: 'counter',
  help: 'Jobs enqueued, by queue and priority tier.',
  labelNames: ['queue', 'priority'],
});

/** Jobs dequeued (moved to running). */
export const QUEUE_DEQUEUED = defineMetric({
  name: 'majra_queue_dequeued_total',
  type: 'counter',
  help: 'Jobs dequeued (ManagedQueue: moved into running), by queue and priority tier.',
  labelNames: ['queue', 'priority'],
});

/** Job state transitions. */
export const QUEUE_TRANSITIONS = defineMetric({
  name: 'majra_queue_state_transitions_total',
  type: 'counter',
  help: 'Job state transitions, by queue and from/to state.',
  labelNames: ['queue', 'from', 'to'],
});

/** Queued jobs now. */
export const QUEUE_DEPTH = defineMetric({
  name: 'majra_queue_depth',
  type: 'gauge',
  help: 'Jobs currently queued.',
  labelNames: ['queue'],
});

/** Running jobs now. */
export const QUEUE_RUNNING = defineMetric({
  name: 'majra_queue_running',
  type: 'gauge',
  help: 'Jobs currently running.',
  labelNames: ['queue'],
});

/** Finished jobs evicted by TTL. */
export const QUEUE_EVICTED = defineMetric({
  name: 'majra_queue_evicted_total',
  type: 'counter',
  help: 'Finished jobs removed by TTL eviction.',
  labelNames: ['queue'],
});

/** Events dropped because a stream subscriber lagged. */
export const QUEUE_EVENTS_DROPPED = defineMetric({
  name: 'majra_queue_events_dropped_total',
  type: 'counter',
  help: 'Queue events dropped from slow event-stream subscribers (drop-oldest).',
  labelNames: ['queue'],
});

/** Store operations that failed (the queue operation was rejected). */
export const QUEUE_STORE_ERRORS = defineMetric({
  name: 'majra_queue_store_errors_total',
  type: 'counter',
  help: 'QueueStore operations that failed, by operation; the queue operation was rejected.',
  labelNames: ['queue', 'operation'],
});

import { defineMetric, labelTable } from '../core/metrics.js';
import { NODE_STATUSES } from './types.js';

/**
 * Metric definitions of the heartbeat tracker. Labels are bounded: `from` and `to` are
 * node statuses; node ids are never labels.
 *
 * @internal
 */

/** Status changes, including recoveries reported by heartbeats. */
export const HEARTBEAT_TRANSITIONS = defineMetric({
  name: 'majra_heartbeat_transitions_total',
  type: 'counter',
  help: 'Node status transitions, by from and to status.',
  labelNames: ['from', 'to'],
});

/** Nodes removed by the eviction policy. */
export const HEARTBEAT_EVICTIONS = defineMetric({
  name: 'majra_heartbeat_evictions_total',
  type: 'counter',
  help: 'Nodes evicted after staying offline for the configured number of sweeps.',
});

/** Nodes per status after each sweep or membership change. */
export const HEARTBEAT_NODES = defineMetric({
  name: 'majra_heartbeat_nodes',
  type: 'gauge',
  help: 'Tracked nodes, by status.',
  labelNames: ['status'],
});

/** Heartbeats accepted. */
export const HEARTBEAT_BEATS = defineMetric({
  name: 'majra_heartbeat_beats_total',
  type: 'counter',
  help: 'Heartbeats recorded for known nodes.',
});

/** Frozen `status` labels of {@link HEARTBEAT_NODES}. @internal */
export const STATUS_LABELS = labelTable('status', NODE_STATUSES);

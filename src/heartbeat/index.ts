/**
 * Node liveness from heartbeats: online → suspect → offline by silence, recovery on the
 * next heartbeat, GPU telemetry and fleet capacity, eviction of long-offline nodes, and
 * an optional unref'd sweep timer. A Redis version with the same contract lives in
 * `majra/redis`.
 *
 * @example
 * ```ts
 * import { HeartbeatTracker } from 'majra/heartbeat';
 *
 * const tracker = new HeartbeatTracker({
 *   suspectAfterMs: 10_000,
 *   offlineAfterMs: 30_000,
 *   eviction: { offlineSweeps: 3 },
 * });
 * tracker.on('transition', ({ nodeId, from, to }) => console.log(nodeId, from, '->', to));
 * tracker.on('evicted', (nodeId) => console.log('evicted', nodeId));
 * tracker.register('gpu-1', {
 *   metadata: { zone: 'eu-1' },
 *   gpus: [{ utilizationPct: 40, memoryUsedMb: 8_000, memoryTotalMb: 24_000 }],
 * });
 * const stop = tracker.startSweeper(1_000);
 * tracker.beat('gpu-1');
 * console.log(tracker.fleetStats().availableVramMb); // 16000
 * stop();
 * ```
 *
 * @module
 */
export { HeartbeatTracker, ConcurrentHeartbeatTracker } from './tracker.js';
export { DEFAULT_MAX_NODES } from './tracker-options.js';
export type {
  HeartbeatTrackerOptions,
  HeartbeatEvents,
  FleetStatsOptions,
} from './tracker-options.js';
export { MAX_GPUS_PER_NODE } from './telemetry.js';
export {
  NODE_STATUSES,
  DEFAULT_SUSPECT_AFTER_MS,
  DEFAULT_OFFLINE_AFTER_MS,
  MAX_NODE_ID_LENGTH,
} from './types.js';
export type {
  NodeStatus,
  GpuTelemetry,
  NodeUpdate,
  NodeState,
  StatusTransition,
  FleetStats,
  HeartbeatEvictionPolicy,
  HeartbeatThresholds,
  HeartbeatTrackerContract,
  MaybePromise,
} from './types.js';

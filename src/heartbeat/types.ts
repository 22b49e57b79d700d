/**
 * The heartbeat-tracker contract shared by the in-memory `HeartbeatTracker` and every
 * backend (Redis). The memory tracker answers synchronously; a backend answers the same
 * shapes through promises.
 *
 * @module
 */

/**
 * Liveness of a node, by time since its last heartbeat: `online` below `suspectAfterMs`,
 * `suspect` from `suspectAfterMs` (inclusive), `offline` from `offlineAfterMs` (inclusive).
 */
export type NodeStatus = 'online' | 'suspect' | 'offline';

/** Every status, in FSM order. */
export const NODE_STATUSES: readonly NodeStatus[] = Object.freeze([
  'online',
  'suspect',
  'offline',
] as const);

/** Telemetry of one GPU. All numbers finite and >= 0; `utilizationPct` at most 100. */
export interface GpuTelemetry {
  /** Utilisation, 0..100. */
  readonly utilizationPct: number;
  /** Memory in use, MB. May exceed `memoryTotalMb` (it then contributes 0 available). */
  readonly memoryUsedMb: number;
  /** Memory installed, MB. */
  readonly memoryTotalMb: number;
  /** Temperature in °C, when reported. */
  readonly temperatureC?: number | undefined;
}

/** What `register` and `beat` may set on a node. */
export interface NodeUpdate {
  /** Replaces the node's metadata (opaque JSON-compatible value). */
  readonly metadata?: unknown;
  /** Replaces the node's whole GPU list. */
  readonly gpus?: readonly GpuTelemetry[] | undefined;
}

/** A snapshot (copy) of one tracked node. */
export interface NodeState {
  /** The node's id, as registered. */
  readonly nodeId: string;
  /** Status as of the last sweep or heartbeat (statuses change only then). */
  readonly status: NodeStatus;
  /** Clock time of the last heartbeat or registration (`clock.monotonic()` ms in memory). */
  readonly lastSeen: number;
  /** Opaque metadata, `null` when none was given. */
  readonly metadata: unknown;
  /** GPU telemetry; empty when none was reported. */
  readonly gpus: readonly GpuTelemetry[];
}

/** A change of status, reported by sweeps (ageing) and by heartbeats (recovery). */
export interface StatusTransition {
  /** The node that changed status. */
  readonly nodeId: string;
  /** Status before this sweep or heartbeat. */
  readonly from: NodeStatus;
  /** Status after it. */
  readonly to: NodeStatus;
  /** Clock time at which the transition was observed. */
  readonly at: number;
}

/**
 * Fleet summary. Counts cover every tracked node; GPU totals and utilisation cover only
 * nodes that are not offline (an offline node's GPUs are not available capacity).
 */
export interface FleetStats {
  /** Nodes tracked, whatever their status. */
  readonly totalNodes: number;
  /** Nodes whose status is `online` (heard from within `suspectAfterMs` at the last sweep). */
  readonly online: number;
  /** Nodes silent for `suspectAfterMs` or more, but less than `offlineAfterMs`. */
  readonly suspect: number;
  /** Nodes silent for `offlineAfterMs` or more (not yet evicted). */
  readonly offline: number;
  /** GPUs on nodes that are online or suspect. */
  readonly totalGpus: number;
  /** Σ memoryTotalMb over those GPUs. */
  readonly totalVramMb: number;
  /** Σ max(0, memoryTotalMb − memoryUsedMb) over those GPUs. */
  readonly availableVramMb: number;
  /** Mean utilizationPct over those GPUs; 0 when there are none. */
  readonly avgGpuUtilizationPct: number;
}

/** When long-offline nodes are removed. A node that is online or suspect is never evicted. */
export interface HeartbeatEvictionPolicy {
  /**
   * Evict a node after this many consecutive sweeps that classified it offline (an integer
   * >= 1; 1 evicts in the first sweep that sees it offline). Any heartbeat resets the count.
   */
  readonly offlineSweeps: number;
}

/** Timing options shared by every tracker implementation. */
export interface HeartbeatThresholds {
  /** Silence after which a node is suspect; default 30 000. */
  readonly suspectAfterMs?: number | undefined;
  /** Silence after which a node is offline; default 90 000; must exceed suspectAfterMs. */
  readonly offlineAfterMs?: number | undefined;
}

/** A value or a promise of it: the memory tracker is synchronous, backends are not. */
export type MaybePromise<T> = T | Promise<T>;

/** What every tracker implements (memory synchronously, backends through promises). */
export interface HeartbeatTrackerContract {
  /** Adds (or re-registers, resetting to online) a node. */
  register(nodeId: string, update?: NodeUpdate): MaybePromise<void>;
  /** Records a heartbeat; false (and no change) for an unknown node. */
  beat(nodeId: string, update?: NodeUpdate): MaybePromise<boolean>;
  /** Removes a node; false when it was unknown. */
  deregister(nodeId: string): MaybePromise<boolean>;
  /** A copy of one node, or undefined. */
  get(nodeId: string): MaybePromise<NodeState | undefined>;
  /** Nodes with the given status, in registration order. */
  listByStatus(status: NodeStatus): MaybePromise<readonly NodeState[]>;
  /** Reclassifies every node by silence; returns the transitions (and applies eviction). */
  sweep(): MaybePromise<readonly StatusTransition[]>;
  /** Counts per status and GPU totals of nodes that are not offline. */
  fleetStats(): MaybePromise<FleetStats>;
}

/** Default silence before a node is suspect. */
export const DEFAULT_SUSPECT_AFTER_MS = 30_000;
/** Default silence before a node is offline. */
export const DEFAULT_OFFLINE_AFTER_MS = 90_000;
/** Longest node id accepted. */
export const MAX_NODE_ID_LENGTH = 256;

import { EventEmitter } from 'node:events';
import { throwIfAborted } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
import { CapacityExceededError, InvalidStateError, toError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import {
  invalid,
  nonEmptyString,
  optionalSignal,
  positiveInteger,
  positiveNumber,
} from '../core/validate.js';
import {
  HEARTBEAT_BEATS,
  HEARTBEAT_EVICTIONS,
  HEARTBEAT_NODES,
  HEARTBEAT_TRANSITIONS,
  STATUS_LABELS,
} from './metrics.js';
import { runPeriodically } from './periodic.js';
import { validateGpus } from './telemetry.js';
import {
  DEFAULT_OFFLINE_AFTER_MS,
  DEFAULT_SUSPECT_AFTER_MS,
  MAX_NODE_ID_LENGTH,
  NODE_STATUSES,
  type FleetStats,
  type GpuTelemetry,
  type HeartbeatEvictionPolicy,
  type HeartbeatTrackerContract,
  type NodeState,
  type NodeStatus,
  type NodeUpdate,
  type StatusTransition,
} from './types.js';
import {
  DEFAULT_MAX_NODES,
  assertUpdate,
  copyMetadata,
  type FleetStatsOptions,
  type HeartbeatEvents,
  type HeartbeatTrackerOptions,
} from './tracker-options.js';

interface NodeRecord {
  status: NodeStatus;
  lastSeen: number;
  metadata: unknown;
  gpus: readonly GpuTelemetry[];
  offlineSweeps: number;
}

const NO_GPUS: readonly GpuTelemetry[] = Object.freeze([]);

/**
 * Tracks node liveness by heartbeat: each node is `online` until silent for
 * `suspectAfterMs`, then `suspect`, then `offline` from `offlineAfterMs`. Statuses are
 * recomputed by {@link HeartbeatTracker.sweep} (by hand or on an unref'd timer started
 * with {@link HeartbeatTracker.startSweeper}); a heartbeat makes a node online at once,
 * reported as a recovery transition. Carries per-node metadata and GPU telemetry, sums
 * the fleet's capacity, and can evict nodes that stay offline.
 *
 * @example
 * ```ts
 * const tracker = new HeartbeatTracker({ suspectAfterMs: 10_000, offlineAfterMs: 30_000 });
 * tracker.on('transition', (t) => console.log(`${t.nodeId}: ${t.from} -> ${t.to}`));
 * tracker.register('gpu-1', { gpus: [{ utilizationPct: 40, memoryUsedMb: 8_000, memoryTotalMb: 24_000 }] });
 * const stop = tracker.startSweeper(1_000);
 * tracker.beat('gpu-1');
 * tracker.fleetStats(); // { totalNodes: 1, online: 1, ..., availableVramMb: 16000 }
 * stop();
 * ```
 */
export class HeartbeatTracker
  extends EventEmitter<HeartbeatEvents>
  implements HeartbeatTrackerContract, Closeable
{
  /** Silence after which a node is suspect. */
  readonly suspectAfterMs: number;
  /** Silence after which a node is offline. */
  readonly offlineAfterMs: number;
  readonly #eviction: HeartbeatEvictionPolicy | undefined;
  readonly #maxNodes: number;
  readonly #clock: Clock;
  readonly #metrics: MetricsSink;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #nodes = new Map<string, NodeRecord>();
  /** Nodes per status, kept in step with every change. */
  readonly #counts: Record<NodeStatus, number> = { online: 0, suspect: 0, offline: 0 };
  readonly #life = new Lifecycle('HeartbeatTracker');
  #stopSweeper: (() => void) | undefined;

  /**
   * Creates an empty tracker; validates the thresholds and caps (`ERR_INVALID_ARGUMENT`). No timer
   * runs until `startSweeper`.
   */
  constructor(options: HeartbeatTrackerOptions = {}) {
    super();
    this.suspectAfterMs = positiveNumber(
      'suspectAfterMs',
      options.suspectAfterMs ?? DEFAULT_SUSPECT_AFTER_MS,
    );
    this.offlineAfterMs = positiveNumber(
      'offlineAfterMs',
      options.offlineAfterMs ?? DEFAULT_OFFLINE_AFTER_MS,
    );
    if (this.offlineAfterMs <= this.suspectAfterMs) {
      invalid(
        'offlineAfterMs',
        `a number greater than suspectAfterMs (${this.suspectAfterMs})`,
        this.offlineAfterMs,
      );
    }
    if (options.eviction !== undefined) {
      const policy: unknown = options.eviction;
      if (typeof policy !== 'object' || policy === null) {
        invalid('eviction', 'an object { offlineSweeps }', policy);
      }
      this.#eviction = Object.freeze({
        offlineSweeps: positiveInteger('eviction.offlineSweeps', options.eviction.offlineSweeps),
      });
    }
    this.#maxNodes =
      options.maxNodes === undefined
        ? DEFAULT_MAX_NODES
        : positiveInteger('maxNodes', options.maxNodes);
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics ?? noopMetrics;
    this.#onError = options.onError;
  }

  /** Nodes tracked. */
  get size(): number {
    return this.#nodes.size;
  }

  /** True when no node is tracked. */
  isEmpty(): boolean {
    return this.#nodes.size === 0;
  }

  /**
   * Adds a node as online, or re-registers it: status online, last seen now, metadata and
   * GPU list replaced (a re-registration without `gpus` clears them), offline-sweep count
   * reset. A re-registered node that was not online reports a recovery transition.
   */
  register(nodeId: string, update: NodeUpdate = {}): void {
    this.#life.assertOpen('register');
    nonEmptyString('nodeId', nodeId, MAX_NODE_ID_LENGTH);
    assertUpdate(update);
    const metadata = copyMetadata(update.metadata);
    const gpus = update.gpus === undefined ? NO_GPUS : validateGpus(update.gpus);
    const now = this.#clock.monotonic();
    const existing = this.#nodes.get(nodeId);
    if (existing === undefined) {
      if (this.#nodes.size >= this.#maxNodes) {
        throw new CapacityExceededError(
          `heartbeat tracker is full: maxNodes (${this.#maxNodes}) reached`,
          { code: 'ERR_HEARTBEAT_CAPACITY', details: { maxNodes: this.#maxNodes } },
        );
      }
      this.#nodes.set(nodeId, {
        status: 'online',
        lastSeen: now,
        metadata,
        gpus,
        offlineSweeps: 0,
      });
      this.#counts.online++;
      this.#reportCounts();
      return;
    }
    const from = existing.status;
    this.#setStatus(existing, 'online');
    existing.lastSeen = now;
    existing.metadata = metadata;
    existing.gpus = gpus;
    existing.offlineSweeps = 0;
    if (from !== 'online') this.#recovered(nodeId, from, now);
  }

  /**
   * Records a heartbeat: last seen now, status online (a recovery transition when it was
   * not), offline-sweep count reset, and `metadata` / `gpus` replaced when given. Returns
   * false, changing nothing, for an unknown node (nodes are never auto-registered).
   */
  beat(nodeId: string, update: NodeUpdate = {}): boolean {
    this.#life.assertOpen('beat');
    nonEmptyString('nodeId', nodeId, MAX_NODE_ID_LENGTH);
    assertUpdate(update);
    const hasMetadata = 'metadata' in update;
    const metadata = hasMetadata ? copyMetadata(update.metadata) : undefined;
    const gpus = update.gpus === undefined ? undefined : validateGpus(update.gpus);
    const node = this.#nodes.get(nodeId);
    if (node === undefined) return false;
    const now = this.#clock.monotonic();
    const from = node.status;
    node.lastSeen = now;
    this.#setStatus(node, 'online');
    node.offlineSweeps = 0;
    if (hasMetadata) node.metadata = metadata;
    if (gpus !== undefined) node.gpus = gpus;
    this.#metrics.increment(HEARTBEAT_BEATS);
    if (from !== 'online') this.#recovered(nodeId, from, now);
    return true;
  }

  /** Removes a node; false when it was unknown. */
  deregister(nodeId: string): boolean {
    nonEmptyString('nodeId', nodeId, MAX_NODE_ID_LENGTH);
    const node = this.#nodes.get(nodeId);
    if (node === undefined) return false;
    this.#nodes.delete(nodeId);
    this.#counts[node.status]--;
    this.#reportCounts();
    return true;
  }

  /** A snapshot of one node (metadata deep-copied), or undefined. */
  get(nodeId: string): NodeState | undefined {
    const node = this.#nodes.get(nodeId);
    return node === undefined ? undefined : this.#snapshot(nodeId, node);
  }

  /** Snapshots of the nodes with `status`, in registration order. */
  listByStatus(status: NodeStatus): NodeState[] {
    if (!NODE_STATUSES.includes(status)) {
      invalid('status', "'online', 'suspect' or 'offline'", status);
    }
    const out: NodeState[] = [];
    for (const [nodeId, node] of this.#nodes) {
      if (node.status === status) out.push(this.#snapshot(nodeId, node));
    }
    return out;
  }

  /** Snapshots of the online nodes, in registration order. */
  online(): NodeState[] {
    return this.listByStatus('online');
  }

  /**
   * Reclassifies every node by its silence (boundaries inclusive), emits and returns the
   * transitions (a late sweep may go online → offline directly), then applies the
   * eviction policy: nodes seen offline by `offlineSweeps` consecutive sweeps are removed
   * and emitted as `'evicted'` (they may also appear in this sweep's transitions).
   */
  sweep(): StatusTransition[] {
    this.#life.assertOpen('sweep');
    const now = this.#clock.monotonic();
    const transitions: StatusTransition[] = [];
    const evicted: string[] = [];
    const limit = this.#eviction?.offlineSweeps;
    for (const [nodeId, node] of this.#nodes) {
      const silence = now - node.lastSeen;
      const status: NodeStatus =
        silence >= this.offlineAfterMs
          ? 'offline'
          : silence >= this.suspectAfterMs
            ? 'suspect'
            : 'online';
      if (status !== node.status) {
        transitions.push(Object.freeze({ nodeId, from: node.status, to: status, at: now }));
        this.#setStatus(node, status);
      }
      node.offlineSweeps = status === 'offline' ? node.offlineSweeps + 1 : 0;
      if (limit !== undefined && node.offlineSweeps >= limit) evicted.push(nodeId);
    }
    for (const nodeId of evicted) {
      this.#nodes.delete(nodeId);
      this.#counts.offline--;
    }
    this.#reportCounts();
    for (const t of transitions) {
      this.#metrics.increment(HEARTBEAT_TRANSITIONS, 1, { from: t.from, to: t.to });
      this.#safely(() => this.emit('transition', t));
    }
    if (evicted.length > 0) this.#metrics.increment(HEARTBEAT_EVICTIONS, evicted.length);
    for (const nodeId of evicted) this.#safely(() => this.emit('evicted', nodeId));
    return transitions;
  }

  /** The reference's name for {@link HeartbeatTracker.sweep}. */
  updateStatuses(): StatusTransition[] {
    return this.sweep();
  }

  /**
   * Counts per status over every node; GPU totals and mean utilisation over nodes that are
   * not offline (or over all nodes with `includeOffline`).
   */
  fleetStats(options: FleetStatsOptions = {}): FleetStats {
    const includeOffline = options.includeOffline === true;
    let totalGpus = 0;
    let totalVramMb = 0;
    let availableVramMb = 0;
    let utilization = 0;
    for (const node of this.#nodes.values()) {
      if (node.status === 'offline' && !includeOffline) continue;
      for (const gpu of node.gpus) {
        totalGpus++;
        totalVramMb += gpu.memoryTotalMb;
        availableVramMb += Math.max(0, gpu.memoryTotalMb - gpu.memoryUsedMb);
        utilization += gpu.utilizationPct;
      }
    }
    return {
      totalNodes: this.#nodes.size,
      online: this.#counts.online,
      suspect: this.#counts.suspect,
      offline: this.#counts.offline,
      totalGpus,
      totalVramMb,
      availableVramMb,
      avgGpuUtilizationPct: totalGpus === 0 ? 0 : utilization / totalGpus,
    };
  }

  /**
   * Sweeps every `intervalMs` on an unref'd timer (it never keeps the process alive) until
   * the returned function is called, `signal` aborts or the tracker closes. Sweep errors
   * go to `onError` / `'error'`. One sweeper at a time: a second start throws.
   */
  startSweeper(intervalMs: number, options: { readonly signal?: AbortSignal } = {}): () => void {
    this.#life.assertOpen('startSweeper');
    positiveNumber('intervalMs', intervalMs);
    const signal = optionalSignal('signal', options.signal);
    throwIfAborted(signal, 'startSweeper');
    if (this.#stopSweeper !== undefined) {
      throw new InvalidStateError('a sweeper is already running: stop it first');
    }
    const stopPeriodic = runPeriodically(
      this.#clock,
      intervalMs,
      () => this.sweep(),
      (error) => this.#report(error),
      signal,
    );
    const stop = (): void => {
      stopPeriodic();
      signal?.removeEventListener('abort', stop);
      if (this.#stopSweeper === stop) this.#stopSweeper = undefined;
    };
    signal?.addEventListener('abort', stop, { once: true });
    this.#stopSweeper = stop;
    return stop;
  }

  /** True while a sweeper started by {@link HeartbeatTracker.startSweeper} runs. */
  get sweeping(): boolean {
    return this.#stopSweeper !== undefined;
  }

  /** Resolves once closed. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Stops the sweeper and refuses further registrations, beats and sweeps. Idempotent. */
  close(): Promise<void> {
    this.#life.closeSync(() => this.#stopSweeper?.());
    return this.#life.closed;
  }

  /** Same as `close()`, so `await using tracker = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #recovered(nodeId: string, from: NodeStatus, now: number): void {
    this.#reportCounts();
    this.#metrics.increment(HEARTBEAT_TRANSITIONS, 1, { from, to: 'online' });
    const transition: StatusTransition = Object.freeze({ nodeId, from, to: 'online', at: now });
    this.#safely(() => this.emit('transition', transition));
  }

  #setStatus(node: NodeRecord, status: NodeStatus): void {
    if (node.status === status) return;
    this.#counts[node.status]--;
    this.#counts[status]++;
    node.status = status;
  }

  #reportCounts(): void {
    for (const status of NODE_STATUSES) {
      this.#metrics.set(HEARTBEAT_NODES, this.#counts[status], STATUS_LABELS[status]);
    }
  }

  #snapshot(nodeId: string, node: NodeRecord): NodeState {
    return {
      nodeId,
      status: node.status,
      lastSeen: node.lastSeen,
      metadata: node.metadata === null ? null : structuredClone(node.metadata),
      gpus: node.gpus,
    };
  }

  /** Runs a listener call; a throwing listener goes to onError / 'error', not the caller. */
  #safely(emit: () => void): void {
    try {
      emit();
    } catch (error) {
      this.#report(toError(error));
    }
  }

  #report(error: Error): void {
    if (this.#onError !== undefined) this.#onError(error);
    else this.emit('error', error);
  }
}

/** The reference's name for the full-featured tracker. */
export { HeartbeatTracker as ConcurrentHeartbeatTracker };

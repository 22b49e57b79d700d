import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../core/codec.js';
import { CapacityExceededError, NotFoundError, toError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import { isFunction, nonNegativeInteger, positiveInteger } from '../core/validate.js';
import type { HeartbeatTracker } from '../heartbeat/tracker.js';
import type { NodeStatus, StatusTransition } from '../heartbeat/types.js';
import { parsePriority, type Priority } from '../queue/priority.js';
import { parseResourceReq, poolSatisfies } from '../queue/resource-ledger.js';
import type { ResourceReq } from '../queue/types.js';
import { fleetMoved, fleetSubmitted, fleetTracked } from './metrics.js';
import type { FleetNode, FleetNodeLoad, FleetTask } from './types.js';

/** Options of {@link FleetQueue}. */
export interface FleetQueueOptions {
  /** A node with more queued jobs than this is a donor for `rebalance`. @defaultValue 10 */
  readonly stealThreshold?: number;
  /** Most jobs one `rebalance` moves. @defaultValue 5 */
  readonly maxStealBatch?: number;
  /** Most queued jobs tracked across the fleet. @defaultValue 1000000 */
  readonly maxTrackedJobs?: number;
  /**
   * Node health: only `online` nodes get work, and a node that turns `offline` has its
   * queued jobs redistributed. Without it every node counts as online.
   */
  readonly heartbeat?: HeartbeatTracker;
  /** Receives background failures (redistribution after a node went offline). */
  readonly onError?: (error: Error) => void;
  /** Metrics sink (`majra_fleet_*`). @defaultValue discards */
  readonly metrics?: MetricsSink;
}

/** Options of {@link FleetQueue.submit}. */
export interface FleetSubmitOptions {
  /** What the job needs; it only goes to (and is only stolen by) nodes that fit it. */
  readonly resources?: ResourceReq;
}

/** A node's load and health, from {@link FleetQueue.nodeLoads}. */
export interface FleetNodeStatus extends FleetNodeLoad {
  /** The node's id. */
  readonly nodeId: string;
  /** Health from the heartbeat tracker (`online` without one). */
  readonly status: NodeStatus;
}

/** Counters of a {@link FleetQueue}. */
export interface FleetQueueStats {
  /** Nodes in the fleet now. */
  readonly nodes: number;
  /** Queued jobs the fleet tracks (placed, not yet started). */
  readonly trackedQueued: number;
  /** Jobs submitted since creation. */
  readonly totalSubmitted: number;
  /** Jobs moved by `rebalance` (work stealing). */
  readonly totalStolen: number;
  /** Jobs moved off nodes that went offline or were removed. */
  readonly totalRedistributed: number;
}

interface NodeEntry<T extends JsonValue> {
  readonly node: FleetNode<T>;
  readonly unsubscribe: () => void;
}

interface Placement<T extends JsonValue> {
  task: FleetTask<T>;
  nodeId: string;
}

/**
 * Distributes jobs over nodes, each with its own queue. `submit` routes to the
 * least-loaded healthy node that fits (queued + running; ties go to the node registered
 * first); `rebalance` moves up to `maxStealBatch` queued jobs from overloaded nodes to
 * idle ones; a node that goes offline (per the heartbeat tracker) has its queued jobs
 * redistributed. A moved job keeps its fleet id. Nodes are local ({@link LocalFleetNode})
 * or remote over a Relay ({@link RemoteFleetNode}).
 */
export class FleetQueue<T extends JsonValue = JsonValue> implements Closeable {
  /** Queued jobs above which a node donates work in `rebalance` (from the options). */
  readonly stealThreshold: number;
  /** Most jobs one `rebalance` moves (from the options). */
  readonly maxStealBatch: number;
  /** Most queued jobs tracked across the fleet (from the options). */
  readonly maxTrackedJobs: number;
  readonly #nodes = new Map<string, NodeEntry<T>>();
  readonly #placed = new Map<string, Placement<T>>();
  readonly #heartbeat: HeartbeatTracker | undefined;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #metrics: MetricsSink;
  readonly #life = new Lifecycle('FleetQueue');
  readonly #onTransition: ((t: StatusTransition) => void) | undefined;
  #submitted = 0;
  #stolen = 0;
  #redistributed = 0;

  /** @throws InvalidArgumentError for a bad option. */
  constructor(options: FleetQueueOptions = {}) {
    this.stealThreshold = nonNegativeInteger('stealThreshold', options.stealThreshold ?? 10);
    this.maxStealBatch = nonNegativeInteger('maxStealBatch', options.maxStealBatch ?? 5);
    this.maxTrackedJobs = positiveInteger('maxTrackedJobs', options.maxTrackedJobs ?? 1_000_000);
    if (options.onError !== undefined) isFunction('onError', options.onError);
    this.#onError = options.onError;
    this.#metrics = options.metrics ?? noopMetrics;
    this.#heartbeat = options.heartbeat;
    if (this.#heartbeat !== undefined) {
      this.#onTransition = (t: StatusTransition) => {
        if (t.to === 'offline' && this.#nodes.has(t.nodeId)) {
          this.redistribute(t.nodeId).catch((error: unknown) => this.#report(error));
        }
      };
      this.#heartbeat.on('transition', this.#onTransition);
    }
  }

  /** Registered nodes. */
  get nodeCount(): number {
    return this.#nodes.size;
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Adds a node (true) or replaces the node with the same id (false). */
  addNode(node: FleetNode<T>): boolean {
    this.#life.assertOpen('addNode');
    const existing = this.#nodes.get(node.nodeId);
    existing?.unsubscribe();
    const unsubscribe = node.onDequeued((jobId) => {
      const placement = this.#placed.get(jobId);
      if (placement?.nodeId === node.nodeId) this.#untrack(jobId);
    });
    this.#nodes.set(node.nodeId, { node, unsubscribe });
    return existing === undefined;
  }

  /** The node with this id. */
  node(nodeId: string): FleetNode<T> | undefined {
    return this.#nodes.get(nodeId)?.node;
  }

  /** Where a queued job is now, or undefined once it started (or is unknown). */
  locate(jobId: string): string | undefined {
    return this.#placed.get(jobId)?.nodeId;
  }

  /**
   * Removes a node; its queued jobs are redistributed first. Resolves with how many moved.
   */
  async removeNode(nodeId: string): Promise<number> {
    if (!this.#nodes.has(nodeId)) return 0;
    const moved = await this.redistribute(nodeId);
    this.#nodes.get(nodeId)?.unsubscribe();
    this.#nodes.delete(nodeId);
    return moved;
  }

  /**
   * Queues `payload` on the least-loaded healthy node that fits `resources`. Resolves with
   * the fleet job id (stable across moves) and the node chosen.
   *
   * @throws NotFoundError `ERR_FLEET_NO_NODE`; CapacityExceededError `ERR_FLEET_FULL`;
   *   InvalidArgumentError for a bad priority or resources; the node's enqueue error.
   */
  async submit(
    priority: Priority,
    payload: T,
    options: FleetSubmitOptions = {},
  ): Promise<{
    /** The fleet job id; it stays the same when the job is stolen or redistributed. */
    readonly jobId: string;
    /** The node the job was queued on. */
    readonly nodeId: string;
  }> {
    this.#life.assertOpen('submit');
    const tier = parsePriority(priority);
    const resources =
      options.resources === undefined ? undefined : parseResourceReq(options.resources);
    if (this.#placed.size >= this.maxTrackedJobs) {
      throw new CapacityExceededError(`fleet tracks ${this.#placed.size} queued jobs`, {
        code: 'ERR_FLEET_FULL',
        details: { maxTrackedJobs: this.maxTrackedJobs },
      });
    }
    const task: FleetTask<T> = {
      id: randomUUID(),
      priority: tier,
      payload,
      ...(resources === undefined ? {} : { resources }),
    };
    const nodeId = await this.#place(task, undefined);
    this.#submitted++;
    this.#metrics.increment(fleetSubmitted);
    return { jobId: task.id, nodeId };
  }

  /**
   * One rebalancing pass: donors are healthy nodes with more than `stealThreshold`
   * queued jobs, thieves are healthy nodes with nothing queued or running. Jobs move one
   * at a time, round-robin over (donor, thief) pairs, highest priority first among the
   * donor's jobs that fit the thief, until `maxStealBatch` moved or nothing fits. A moved
   * job keeps its id. Resolves with the number moved.
   */
  async rebalance(): Promise<number> {
    this.#life.assertOpen('rebalance');
    if (this.maxStealBatch === 0) return 0;
    const loads = await this.#loads();
    const donors = loads.filter((l) => l.status === 'online' && l.queued > this.stealThreshold);
    const thieves = loads.filter((l) => l.status === 'online' && l.queued === 0 && l.running === 0);
    if (donors.length === 0 || thieves.length === 0) return 0;
    let moved = 0;
    let progress = true;
    while (progress && moved < this.maxStealBatch) {
      progress = false;
      for (const donor of donors) {
        for (const thief of thieves) {
          if (moved >= this.maxStealBatch) break;
          if (await this.#stealOne(donor.nodeId, thief.nodeId)) {
            moved++;
            progress = true;
          }
        }
      }
    }
    this.#stolen += moved;
    return moved;
  }

  /**
   * Moves every queued job of `nodeId` to other healthy nodes. Jobs are taken back from
   * the node when it answers; when it does not (it is down), they are re-queued elsewhere
   * from the fleet's own record, so a node that comes back may still run them
   * (at-least-once). Resolves with the number moved.
   */
  async redistribute(nodeId: string): Promise<number> {
    const entry = this.#nodes.get(nodeId);
    if (entry === undefined) return 0;
    const ids = [...this.#placed.values()].filter((p) => p.nodeId === nodeId).map((p) => p.task.id);
    if (ids.length === 0) return 0;
    let tasks: FleetTask<T>[];
    try {
      tasks = await entry.node.take(ids);
    } catch {
      tasks = ids.flatMap((id) => {
        const placement = this.#placed.get(id);
        return placement === undefined ? [] : [placement.task];
      });
    }
    let moved = 0;
    for (const task of tasks) {
      try {
        await this.#place(task, nodeId);
        moved++;
      } catch (error) {
        this.#untrack(task.id);
        this.#report(error);
      }
    }
    this.#redistributed += moved;
    this.#metrics.increment(fleetMoved, moved, { reason: 'redistributed' });
    return moved;
  }

  /** Load and health of every node, in registration order. */
  nodeLoads(): Promise<FleetNodeStatus[]> {
    return this.#loads();
  }

  /** A snapshot of the counters. */
  stats(): FleetQueueStats {
    return {
      nodes: this.#nodes.size,
      trackedQueued: this.#placed.size,
      totalSubmitted: this.#submitted,
      totalStolen: this.#stolen,
      totalRedistributed: this.#redistributed,
    };
  }

  /** Stops following the heartbeat tracker and node events. Node queues are not closed. */
  close(): Promise<void> {
    return this.#life.close(() => {
      if (this.#onTransition !== undefined) this.#heartbeat?.off('transition', this.#onTransition);
      for (const entry of this.#nodes.values()) entry.unsubscribe();
    });
  }

  /** Same as `close()`, so `await using fleet = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #status(nodeId: string): NodeStatus {
    if (this.#heartbeat === undefined) return 'online';
    return this.#heartbeat.get(nodeId)?.status ?? 'offline';
  }

  async #loads(): Promise<FleetNodeStatus[]> {
    const entries = [...this.#nodes.values()];
    return Promise.all(
      entries.map(async ({ node }) => {
        const status = this.#status(node.nodeId);
        if (status === 'offline') return { nodeId: node.nodeId, status, queued: 0, running: 0 };
        try {
          return { nodeId: node.nodeId, status, ...(await node.load()) };
        } catch {
          // An unreachable node is treated as offline for this decision.
          return { nodeId: node.nodeId, status: 'offline' as const, queued: 0, running: 0 };
        }
      }),
    );
  }

  /** Enqueues `task` on the best node other than `exclude`; returns its id. */
  async #place(task: FleetTask<T>, exclude: string | undefined): Promise<string> {
    const loads = await this.#loads();
    let best: FleetNodeStatus | undefined;
    for (const load of loads) {
      if (load.status !== 'online' || load.nodeId === exclude) continue;
      const node = this.#nodes.get(load.nodeId)?.node;
      if (node === undefined) continue;
      if (node.resources !== undefined && !poolSatisfies(node.resources, task.resources)) continue;
      if (best === undefined || load.queued + load.running < best.queued + best.running)
        best = load;
    }
    const target = best === undefined ? undefined : this.#nodes.get(best.nodeId)?.node;
    if (target === undefined) {
      throw new NotFoundError('no healthy fleet node can take the job', {
        code: 'ERR_FLEET_NO_NODE',
        details: { jobId: task.id },
      });
    }
    // Track before enqueueing: the node may report the job dequeued before enqueue resolves.
    this.#track(task, target.nodeId);
    try {
      await target.enqueue(task);
    } catch (error) {
      this.#untrack(task.id);
      throw error;
    }
    return target.nodeId;
  }

  async #stealOne(donorId: string, thiefId: string): Promise<boolean> {
    const donor = this.#nodes.get(donorId)?.node;
    const thief = this.#nodes.get(thiefId)?.node;
    if (donor === undefined || thief === undefined) return false;
    let best: Placement<T> | undefined;
    for (const placement of this.#placed.values()) {
      if (placement.nodeId !== donorId) continue;
      if (
        thief.resources !== undefined &&
        !poolSatisfies(thief.resources, placement.task.resources)
      ) {
        continue;
      }
      if (best === undefined || placement.task.priority > best.task.priority) best = placement;
    }
    if (best === undefined) return false;
    const [task] = await donor.take([best.task.id]);
    if (task === undefined) return false;
    this.#track(task, thiefId);
    try {
      await thief.enqueue(task);
    } catch (error) {
      // Put it back where it was.
      this.#track(task, donorId);
      await donor.enqueue(task);
      this.#report(error);
      return false;
    }
    this.#metrics.increment(fleetMoved, 1, { reason: 'stolen' });
    return true;
  }

  #track(task: FleetTask<T>, nodeId: string): void {
    this.#placed.set(task.id, { task, nodeId });
    this.#metrics.set(fleetTracked, this.#placed.size);
  }

  #untrack(jobId: string): void {
    if (this.#placed.delete(jobId)) this.#metrics.set(fleetTracked, this.#placed.size);
  }

  #report(error: unknown): void {
    try {
      this.#onError?.(toError(error));
    } catch {
      // onError must not break the fleet.
    }
  }
}

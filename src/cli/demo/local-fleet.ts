/**
 * The in-process worker fleet of the demo: a few simulated GPU nodes, each a
 * `LocalFleetNode` over its own `ManagedQueue`, behind a `FleetQueue` that routes by
 * load and health and steals queued work for idle nodes. Nodes send heartbeats with GPU
 * telemetry to a `HeartbeatTracker`; in the normal (non-short) demo one node goes silent
 * for a while, turns suspect then offline, and its queued work is redistributed.
 *
 * @module
 */
import { systemClock } from '../../core/clock.js';
import { deferred, sleep, type Deferred } from '../../core/abort.js';
import type { MetricsSink } from '../../core/metrics.js';
import { FleetQueue, LocalFleetNode, type FleetJobPayload } from '../../fleet/index.js';
import { HeartbeatTracker } from '../../heartbeat/tracker.js';
import type { GpuTelemetry } from '../../heartbeat/types.js';
import { ManagedQueue } from '../../queue/managed-queue.js';
import { Priority } from '../../queue/priority.js';
import type { ResourcePool } from '../../queue/types.js';
import type { NodeView } from '../snapshot.js';
import type { WorkTask } from './workflow.js';

/** A simulated node: id and GPU capacity. */
export interface NodeSpec {
  readonly nodeId: string;
  readonly pool: ResourcePool;
}

/** The demo's nodes. */
export const DEMO_NODES: readonly NodeSpec[] = [
  { nodeId: 'node-a', pool: { gpuCount: 2, vramMb: 48_000 } },
  { nodeId: 'node-b', pool: { gpuCount: 1, vramMb: 24_000 } },
  { nodeId: 'node-c', pool: { gpuCount: 1, vramMb: 24_000 } },
];

interface Running {
  readonly vramMb: number;
}

/** Options of {@link LocalFleet}. */
export interface LocalFleetOptions {
  readonly stepMs: number;
  /** Make node-c go silent for a while (not in short mode: it slows runs down). */
  readonly flakyNode: boolean;
  readonly metrics: MetricsSink;
  readonly onError: (error: Error) => void;
  /** Called when a node finishes a task. */
  readonly onDone?: (task: WorkTask, nodeId: string) => void;
}

/** The simulated fleet: submit work, read node views, close. */
export class LocalFleet {
  readonly tracker: HeartbeatTracker;
  readonly fleet: FleetQueue<WorkTask>;
  readonly nodes = new Map<string, LocalFleetNode<WorkTask>>();
  readonly #waiters = new Map<string, Deferred<string>>();
  readonly #running = new Map<string, Running[]>();
  readonly #stop = new AbortController();
  readonly #loops: Promise<void>[] = [];
  readonly #opts: LocalFleetOptions;
  readonly #startedAt = Date.now();

  constructor(options: LocalFleetOptions) {
    this.#opts = options;
    const beatMs = Math.max(20, Math.min(500, options.stepMs));
    this.tracker = new HeartbeatTracker({
      suspectAfterMs: beatMs * 4,
      offlineAfterMs: beatMs * 10,
      metrics: options.metrics,
    });
    this.fleet = new FleetQueue({
      stealThreshold: 1,
      maxStealBatch: 4,
      heartbeat: this.tracker,
      metrics: options.metrics,
      onError: options.onError,
    });
    for (const spec of DEMO_NODES) {
      const queue = new ManagedQueue<FleetJobPayload<WorkTask>>({
        name: spec.nodeId,
        maxConcurrency: spec.pool.gpuCount,
        capacity: spec.pool,
        finishedTtlMs: 60_000,
        metrics: options.metrics,
        onError: options.onError,
      });
      const node = new LocalFleetNode(spec.nodeId, queue, { resources: spec.pool });
      this.nodes.set(spec.nodeId, node);
      this.fleet.addNode(node);
      this.#running.set(spec.nodeId, []);
      this.tracker.register(spec.nodeId, { metadata: { pool: spec.pool }, gpus: this.#gpus(spec) });
      for (let slot = 0; slot < spec.pool.gpuCount; slot++) this.#loops.push(this.#worker(spec));
    }
    this.#loops.push(this.#heartbeats(beatMs));
    this.#loops.push(this.#rebalancer(Math.max(20, beatMs / 2)));
  }

  /** Runs `task` on the fleet; resolves with the node that ran it. */
  async work(task: WorkTask, signal: AbortSignal): Promise<string> {
    const { jobId } = await this.fleet.submit(Priority.Normal, task, {
      resources: task.resources,
    });
    const done = deferred<string>();
    this.#waiters.set(jobId, done);
    const onAbort = (): void => {
      this.#waiters.delete(jobId);
      done.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await done.promise;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  async #worker(spec: NodeSpec): Promise<void> {
    const node = this.nodes.get(spec.nodeId);
    if (node === undefined) return;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      let job;
      try {
        job = await node.queue.dequeueWait(undefined, { signal });
      } catch {
        return;
      }
      const task = job.payload.payload;
      const running = this.#running.get(spec.nodeId) ?? [];
      const entry = { vramMb: task.resources.vramMb };
      running.push(entry);
      try {
        await sleep(task.durationMs, { signal });
        await node.queue.complete(job.id);
        this.#opts.onDone?.(task, spec.nodeId);
        const waiter = this.#waiters.get(job.payload.jobId);
        this.#waiters.delete(job.payload.jobId);
        waiter?.resolve(spec.nodeId);
      } catch (error) {
        if (this.#stopped()) return;
        this.#opts.onError(error instanceof Error ? error : new Error(String(error)));
      } finally {
        running.splice(running.indexOf(entry), 1);
      }
    }
  }

  #silent(nodeId: string): boolean {
    if (!this.#opts.flakyNode || nodeId !== 'node-c') return false;
    const elapsed = Date.now() - this.#startedAt;
    return elapsed > this.#opts.stepMs * 8 && elapsed < this.#opts.stepMs * 22;
  }

  async #heartbeats(everyMs: number): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      for (const spec of DEMO_NODES) {
        if (!this.#silent(spec.nodeId)) this.tracker.beat(spec.nodeId, { gpus: this.#gpus(spec) });
      }
      this.tracker.sweep();
      try {
        await sleep(everyMs, { signal });
      } catch {
        return;
      }
    }
  }

  async #rebalancer(everyMs: number): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        await this.fleet.rebalance();
        await sleep(everyMs, { signal });
      } catch {
        if (this.#stopped()) return;
      }
    }
  }

  #gpus(spec: NodeSpec): GpuTelemetry[] {
    const running = this.#running.get(spec.nodeId) ?? [];
    const perGpu = spec.pool.vramMb / spec.pool.gpuCount;
    return Array.from({ length: spec.pool.gpuCount }, (_, i) => {
      const job = running[i];
      return {
        utilizationPct: job === undefined ? 2 : 85 + ((Date.now() / 97 + i * 7) % 14),
        memoryUsedMb: job === undefined ? 400 : Math.min(perGpu, job.vramMb + 400),
        memoryTotalMb: perGpu,
        temperatureC: job === undefined ? 38 : 71,
      };
    });
  }

  /** Node views for the dashboard. */
  views(): NodeView[] {
    const now = systemClock.monotonic();
    return DEMO_NODES.map((spec) => {
      const state = this.tracker.get(spec.nodeId);
      const queue = this.nodes.get(spec.nodeId)?.queue;
      return {
        nodeId: spec.nodeId,
        status: state?.status ?? 'offline',
        lastSeenAgoMs: state === undefined ? 0 : Math.max(0, Math.round(now - state.lastSeen)),
        running: queue?.runningCount ?? 0,
        queued: queue?.queuedCount ?? 0,
        gpus: state?.gpus ?? [],
      };
    });
  }

  /** The node queues (for queue views). */
  queues(): ManagedQueue<unknown>[] {
    return [...this.nodes.values()].map((n) => n.queue as ManagedQueue<unknown>);
  }

  /** Stops workers and heartbeats and closes the node queues. */
  async close(): Promise<void> {
    this.#stop.abort();
    for (const waiter of this.#waiters.values()) waiter.reject(new Error('fleet closed'));
    this.#waiters.clear();
    await Promise.allSettled(this.#loops);
    await this.fleet.close();
    await Promise.allSettled([...this.nodes.values()].map((n) => n.queue.close()));
    await this.tracker.close();
  }
}

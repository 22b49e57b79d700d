import type { JsonValue } from '../core/codec.js';
import type { Priority } from '../queue/priority.js';
import type { ResourcePool, ResourceReq } from '../queue/types.js';

/** A job as the fleet moves it between nodes; `id` is the fleet job id and never changes. */
export interface FleetTask<T extends JsonValue = JsonValue> {
  /** The fleet job id. */
  readonly id: string;
  /** Priority tier on whichever node runs it. */
  readonly priority: Priority;
  /** The job's JSON payload. */
  readonly payload: T;
  /** What the job needs; only nodes whose `resources` satisfy it receive it. */
  readonly resources?: ResourceReq | undefined;
}

/** What a node's ManagedQueue holds: the fleet job id travels with the payload. */
export interface FleetJobPayload<T extends JsonValue = JsonValue> {
  /** The fleet job id (the node queue's own job id differs and changes when the job moves). */
  readonly jobId: string;
  /** The payload given to `FleetQueue.submit`. */
  readonly payload: T;
}

/** A node's current load. Both queued and running jobs count for routing. */
export interface FleetNodeLoad {
  /** Jobs waiting on the node. */
  readonly queued: number;
  /** Jobs running on the node. */
  readonly running: number;
}

/**
 * The fleet's view of one node: local (`LocalFleetNode`, a ManagedQueue in this process)
 * or remote (`RemoteFleetNode`, over a Relay).
 */
export interface FleetNode<T extends JsonValue = JsonValue> {
  /** The node's id (also its heartbeat id). */
  readonly nodeId: string;
  /** Static capacity used to decide which jobs fit; undefined = anything fits. */
  readonly resources: ResourcePool | undefined;
  /** Queues `task` on this node under its fleet id. */
  enqueue(task: FleetTask<T>): Promise<void>;
  /** The node's current queued and running counts. */
  load(): Promise<FleetNodeLoad>;
  /** Removes the listed jobs that are still queued here and returns them (others are skipped). */
  take(jobIds: readonly string[]): Promise<FleetTask<T>[]>;
  /** Registers a listener for jobs that left the queued state here (started or cancelled). */
  onDequeued(listener: (jobId: string) => void): () => void;
}

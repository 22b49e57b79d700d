import type { JsonValue } from '../core/codec.js';
import type { Priority } from '../queue/priority.js';
import type { ResourcePool, ResourceReq } from '../queue/types.js';

/** A job as the fleet moves it between nodes; `id` is the fleet job id and never changes. */
export interface FleetTask<T extends JsonValue = JsonValue> {
  readonly id: string;
  readonly priority: Priority;
  readonly payload: T;
  readonly resources?: ResourceReq | undefined;
}

/** What a node's ManagedQueue holds: the fleet job id travels with the payload. */
export interface FleetJobPayload<T extends JsonValue = JsonValue> {
  readonly jobId: string;
  readonly payload: T;
}

/** A node's current load. Both queued and running jobs count for routing. */
export interface FleetNodeLoad {
  readonly queued: number;
  readonly running: number;
}

/**
 * The fleet's view of one node: local (`LocalFleetNode`, a ManagedQueue in this process)
 * or remote (`RemoteFleetNode`, over a Relay).
 */
export interface FleetNode<T extends JsonValue = JsonValue> {
  readonly nodeId: string;
  /** Static capacity used to decide which jobs fit; undefined = anything fits. */
  readonly resources: ResourcePool | undefined;
  /** Queues `task` on this node under its fleet id. */
  enqueue(task: FleetTask<T>): Promise<void>;
  load(): Promise<FleetNodeLoad>;
  /** Removes the listed jobs that are still queued here and returns them (others are skipped). */
  take(jobIds: readonly string[]): Promise<FleetTask<T>[]>;
  /** Registers a listener for jobs that left the queued state here (started or cancelled). */
  onDequeued(listener: (jobId: string) => void): () => void;
}

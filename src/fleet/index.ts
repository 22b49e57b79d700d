/**
 * A job queue spread over nodes with work stealing: `FleetQueue` routes each job to the
 * least-loaded healthy node (queued + running, offline and suspect nodes avoided via a
 * `HeartbeatTracker`), `rebalance()` moves queued jobs from overloaded to idle nodes,
 * and a node going offline has its queued jobs redistributed. A moved job keeps its
 * fleet id. Nodes are local (`LocalFleetNode`, a `ManagedQueue`) or in other processes
 * (`RemoteFleetNode` + `serveFleetNode`, over a `Relay`).
 *
 * @example
 * ```ts
 * import { FleetQueue, LocalFleetNode, type FleetJobPayload } from 'majra/fleet';
 * import { ManagedQueue, Priority } from 'majra/queue';
 *
 * const fleet = new FleetQueue<{ file: string }>({ stealThreshold: 2, maxStealBatch: 5 });
 * for (const id of ['n1', 'n2']) {
 *   fleet.addNode(new LocalFleetNode(id, new ManagedQueue<FleetJobPayload<{ file: string }>>()));
 * }
 * const { jobId, nodeId } = await fleet.submit(Priority.Normal, { file: 'a.png' });
 * await fleet.rebalance();
 * console.log(jobId, nodeId, fleet.locate(jobId));
 * ```
 *
 * @module
 */
export { FleetQueue } from './fleet-queue.js';
export type {
  FleetQueueOptions,
  FleetSubmitOptions,
  FleetNodeStatus,
  FleetQueueStats,
} from './fleet-queue.js';
export { LocalFleetNode } from './local-node.js';
export { RemoteFleetNode, serveFleetNode, FLEET_MESSAGES } from './remote-node.js';
export type { RemoteFleetNodeOptions } from './remote-node.js';
export type { FleetTask, FleetJobPayload, FleetNodeLoad, FleetNode } from './types.js';
export { fleetSubmitted, fleetMoved, fleetTracked } from './metrics.js';

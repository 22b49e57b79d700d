import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { HeartbeatTracker } from '../heartbeat/tracker.js';
import { ManagedQueue } from '../queue/managed-queue.js';
import { Priority } from '../queue/priority.js';
import { PeerRouter } from '../relay/peer-router.js';
import { Relay } from '../relay/relay.js';
import { ManualClock } from '../testing/manual-clock.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { ConnectionPool } from '../transport/connection-pool.js';
import { MemoryTransport } from '../transport/memory.js';
import { FleetQueue, type FleetQueueOptions } from './fleet-queue.js';
import { LocalFleetNode } from './local-node.js';
import { RemoteFleetNode, serveFleetNode } from './remote-node.js';
import type { FleetJobPayload } from './types.js';

type P = { n: number };

function local(id: string, resources?: { gpuCount: number; vramMb: number }) {
  const queue = new ManagedQueue<FleetJobPayload<P>>({ name: id });
  return new LocalFleetNode<P>(id, queue, resources === undefined ? {} : { resources });
}

function fleetOf(ids: string[], options: FleetQueueOptions = {}) {
  const fleet = new FleetQueue<P>(options);
  const nodes = ids.map((id) => local(id));
  for (const node of nodes) fleet.addNode(node);
  return { fleet, nodes };
}

describe('FleetQueue routing', () => {
  it('routes to the least-loaded node, counting queued and running; ties by registration order', async () => {
    const { fleet, nodes } = fleetOf(['a', 'b', 'c']);
    const placed: string[] = [];
    for (let n = 0; n < 6; n++) placed.push((await fleet.submit(Priority.Normal, { n })).nodeId);
    expect(placed).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    // One job of a runs: a now has 1 queued + 1 running = 2, same as the others → a wins ties,
    // so make b and c heavier.
    await nodes[0]!.queue.dequeue();
    await fleet.submit(Priority.Normal, { n: 7 }); // tie at 2 each → a (first)
    expect(nodes.map((x) => x.queue.queuedCount + x.queue.runningCount)).toEqual([3, 2, 2]);
    expect((await fleet.submit(Priority.Normal, { n: 8 })).nodeId).toBe('b');
    expect(fleet.stats().totalSubmitted).toBe(8);
  });

  it('only nodes whose resources fit get the job', async () => {
    const fleet = new FleetQueue<P>();
    fleet.addNode(local('cpu', { gpuCount: 0, vramMb: 0 }));
    fleet.addNode(local('gpu', { gpuCount: 4, vramMb: 80_000 }));
    const placed = await fleet.submit(
      Priority.High,
      { n: 1 },
      { resources: { gpuCount: 2, vramMb: 16_000 } },
    );
    expect(placed.nodeId).toBe('gpu');
    await expect(
      fleet.submit(Priority.High, { n: 2 }, { resources: { gpuCount: 8, vramMb: 128_000 } }),
    ).rejects.toMatchObject({ code: 'ERR_FLEET_NO_NODE' });
    await expect(new FleetQueue<P>().submit(Priority.Normal, { n: 0 })).rejects.toMatchObject({
      code: 'ERR_FLEET_NO_NODE',
    });
  });

  it('avoids suspect and offline nodes per the heartbeat tracker', async () => {
    const clock = new ManualClock();
    const heartbeat = new HeartbeatTracker({ clock, suspectAfterMs: 100, offlineAfterMs: 1000 });
    const { fleet } = fleetOf(['a', 'b'], { heartbeat });
    heartbeat.register('a');
    heartbeat.register('b');
    clock.advance(150);
    heartbeat.beat('b');
    heartbeat.sweep(); // a is suspect now
    for (let n = 0; n < 3; n++)
      expect((await fleet.submit(Priority.Normal, { n })).nodeId).toBe('b');
    const loads = await fleet.nodeLoads();
    expect(loads.map((l) => l.status)).toEqual(['suspect', 'online']);
  });

  it('validates input with typed errors and leaves state unchanged', async () => {
    const { fleet } = fleetOf(['a']);
    await expect(fleet.submit(9 as Priority, { n: 0 })).rejects.toSatisfy((e) => isMajraError(e));
    await expect(
      fleet.submit(Priority.Normal, { n: 0 }, { resources: { gpuCount: -1, vramMb: 0 } }),
    ).rejects.toSatisfy((e) => isMajraError(e));
    expect(fleet.stats().totalSubmitted).toBe(0);
    for (const bad of [{ stealThreshold: -1 }, { maxStealBatch: 1.5 }, { maxTrackedJobs: 0 }]) {
      expect(() => new FleetQueue(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });

  it('tracked queued jobs are bounded and released when jobs start', async () => {
    const { fleet, nodes } = fleetOf(['a'], { maxTrackedJobs: 2 });
    await fleet.submit(Priority.Normal, { n: 1 });
    await fleet.submit(Priority.Normal, { n: 2 });
    await expect(fleet.submit(Priority.Normal, { n: 3 })).rejects.toMatchObject({
      code: 'ERR_FLEET_FULL',
    });
    await nodes[0]!.queue.dequeue();
    expect(fleet.stats().trackedQueued).toBe(1);
    await fleet.submit(Priority.Normal, { n: 3 });
  });
});

describe('FleetQueue rebalancing', () => {
  it('steals up to maxStealBatch queued jobs from an overloaded node; stolen jobs keep their id', async () => {
    const metrics = new MemoryMetricsSink();
    const fleet = new FleetQueue<P>({ stealThreshold: 2, maxStealBatch: 3, metrics });
    const busy = local('busy');
    fleet.addNode(busy);
    const ids: string[] = [];
    for (let n = 0; n < 8; n++) {
      ids.push((await fleet.submit(n === 5 ? Priority.Critical : Priority.Normal, { n })).jobId);
    }
    const idle = local('idle');
    fleet.addNode(idle);
    expect(await fleet.rebalance()).toBe(3);
    expect(busy.queue.queuedCount).toBe(5);
    expect(idle.queue.queuedCount).toBe(3);
    const movedIds = idle.queue.list({ state: 'queued' }).map((j) => j.payload.jobId);
    expect(movedIds).toContain(ids[5]); // highest priority first
    for (const id of movedIds) {
      expect(ids).toContain(id);
      expect(fleet.locate(id)).toBe('idle');
    }
    // The donor shows them cancelled (not completed) and they run only on the thief.
    expect(busy.queue.counts().cancelled).toBe(3);
    const job = await idle.queue.dequeue();
    expect(job?.payload.jobId).toBe(ids[5]);
    expect(fleet.stats().totalStolen).toBe(3);
    expect(metrics.counter('majra_fleet_jobs_moved_total', { reason: 'stolen' })).toBe(3);
  });

  it('nothing moves without a donor or an idle node, or with maxStealBatch 0', async () => {
    const { fleet } = fleetOf(['a', 'b'], { stealThreshold: 2 });
    await fleet.submit(Priority.Normal, { n: 1 });
    await fleet.submit(Priority.Normal, { n: 2 });
    expect(await fleet.rebalance()).toBe(0);
    const zero = fleetOf(['x', 'y'], { stealThreshold: 0, maxStealBatch: 0 });
    await zero.fleet.submit(Priority.Normal, { n: 1 });
    expect(await zero.fleet.rebalance()).toBe(0);
  });

  it('a thief too small for every donor job steals nothing', async () => {
    const fleet = new FleetQueue<P>({ stealThreshold: 1 });
    fleet.addNode(local('big', { gpuCount: 8, vramMb: 100_000 }));
    for (let n = 0; n < 4; n++) {
      await fleet.submit(Priority.Normal, { n }, { resources: { gpuCount: 4, vramMb: 10 } });
    }
    fleet.addNode(local('small', { gpuCount: 1, vramMb: 10 }));
    expect(await fleet.rebalance()).toBe(0);
  });
});

describe('FleetQueue offline redistribution', () => {
  it('jobs queued on a node that goes offline move to healthy nodes with their ids', async () => {
    const clock = new ManualClock();
    const heartbeat = new HeartbeatTracker({ clock, suspectAfterMs: 100, offlineAfterMs: 200 });
    const { fleet, nodes } = fleetOf(['a', 'b'], { heartbeat });
    heartbeat.register('a');
    heartbeat.register('b');
    const jobs: { jobId: string; nodeId: string }[] = [];
    for (let n = 0; n < 4; n++) jobs.push(await fleet.submit(Priority.Normal, { n }));
    const onA = jobs.filter((j) => j.nodeId === 'a').map((j) => j.jobId);
    expect(onA.length).toBe(2);
    clock.advance(150);
    heartbeat.beat('b');
    clock.advance(100);
    heartbeat.beat('b');
    heartbeat.sweep(); // a: offline → redistribution starts
    await new Promise((r) => setImmediate(r));
    expect(nodes[0]!.queue.queuedCount).toBe(0);
    expect(nodes[1]!.queue.queuedCount).toBe(4);
    for (const id of onA) expect(fleet.locate(id)).toBe('b');
    expect(fleet.stats().totalRedistributed).toBe(2);
    await fleet.close();
  });

  it('removeNode redistributes first', async () => {
    const { fleet, nodes } = fleetOf(['a', 'b']);
    await fleet.submit(Priority.Normal, { n: 1 });
    await fleet.submit(Priority.Normal, { n: 2 });
    expect(await fleet.removeNode('a')).toBe(1);
    expect(fleet.nodeCount).toBe(1);
    expect(nodes[1]!.queue.queuedCount).toBe(2);
    expect(await fleet.removeNode('nobody')).toBe(0);
  });
});

describe('FleetQueue over the Relay (in-memory transport)', () => {
  it('remote nodes receive, report load, and give up stolen jobs', async () => {
    const net = new MemoryTransport();
    const ids = ['coord', 'n1', 'n2'];
    const relays = new Map<string, Relay>();
    const pools: ConnectionPool[] = [];
    for (const id of ids) {
      const pool = new ConnectionPool(net);
      pools.push(pool);
      const peers = Object.fromEntries(ids.filter((p) => p !== id).map((p) => [p, `mem:${p}`]));
      const relay = new Relay(id, { router: new PeerRouter(pool, { peers }) });
      await relay.listen(net, `mem:${id}`);
      relays.set(id, relay);
    }
    const n1 = local('n1');
    const n2 = local('n2');
    serveFleetNode(relays.get('n1')!, n1, { coordinator: 'coord' });
    serveFleetNode(relays.get('n2')!, n2, { coordinator: 'coord' });
    const fleet = new FleetQueue<P>({ stealThreshold: 1, maxStealBatch: 2 });
    fleet.addNode(new RemoteFleetNode<P>(relays.get('coord')!, 'n1'));
    const submitted: { jobId: string }[] = [];
    for (let n = 0; n < 4; n++) submitted.push(await fleet.submit(Priority.Normal, { n }));
    expect(n1.queue.queuedCount).toBe(4);
    fleet.addNode(new RemoteFleetNode<P>(relays.get('coord')!, 'n2'));
    expect(await fleet.rebalance()).toBe(2);
    expect(
      n2.queue
        .list({ state: 'queued' })
        .map((j) => j.payload.jobId)
        .every((id) => submitted.some((s) => s.jobId === id)),
    ).toBe(true);
    // A job started on a node is no longer tracked by the coordinator.
    const started = await n2.queue.dequeue();
    await new Promise((r) => setImmediate(r));
    expect(fleet.locate(started!.payload.jobId)).toBeUndefined();
    await fleet.close();
    for (const relay of relays.values()) await relay.close();
    for (const pool of pools) await pool.close();
  });
});

// A job queue spread over several nodes: jobs go to the least-loaded healthy node, idle
// nodes steal queued work from busy ones, and a node that goes offline has its queued
// jobs moved elsewhere. A job keeps its id wherever it runs. The nodes are local queues
// here; RemoteFleetNode puts the same contract over a Relay between processes.
// Run: npm run build && node --import tsx examples/fleet.ts
import { FleetQueue, LocalFleetNode, type FleetJobPayload } from 'majra/fleet';
import { HeartbeatTracker } from 'majra/heartbeat';
import { ManagedQueue, Priority } from 'majra/queue';

// A type alias, not an interface: fleet payloads must be JSON (they may cross processes).
type Thumbnail = { file: string };

// The fleet avoids nodes the heartbeat tracker considers suspect or offline.
const heartbeat = new HeartbeatTracker({ suspectAfterMs: 10_000, offlineAfterMs: 30_000 });
const fleet = new FleetQueue<Thumbnail>({ stealThreshold: 1, maxStealBatch: 10, heartbeat });

function addNode(nodeId: string): LocalFleetNode<Thumbnail> {
  const queue = new ManagedQueue<FleetJobPayload<Thumbnail>>({ name: nodeId, maxConcurrency: 1 });
  const node = new LocalFleetNode(nodeId, queue, { resources: { gpuCount: 1, vramMb: 24_000 } });
  fleet.addNode(node);
  heartbeat.register(nodeId);
  return node;
}
const gpu1 = addNode('gpu-1');
addNode('gpu-2');

// Submissions spread over both nodes.
const placed: Record<string, number> = {};
for (let i = 0; i < 6; i++) {
  const { nodeId } = await fleet.submit(Priority.Normal, { file: `img-${i}.png` });
  placed[nodeId] = (placed[nodeId] ?? 0) + 1;
}
console.log('placed', JSON.stringify(placed));

// gpu-2 is being drained (or its heartbeats stopped): its queued jobs move to gpu-1.
const moved = await fleet.removeNode('gpu-2');
console.log(`removed gpu-2, moved ${moved} job(s) to gpu-1`);

// A worker on gpu-1 runs everything; the fleet job id travels in the payload.
const seen = new Set<string>();
for (;;) {
  const job = await gpu1.queue.dequeue();
  if (job === undefined) break;
  seen.add(job.payload.jobId);
  await gpu1.queue.complete(job.id);
}
console.log(`gpu-1 ran ${seen.size} distinct fleet jobs`);
console.log('stats', JSON.stringify(fleet.stats().totalRedistributed), 'redistributed');

await fleet.close();
await heartbeat.close();
console.log('fleet example done');

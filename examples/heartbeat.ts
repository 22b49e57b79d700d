// Node liveness from heartbeats: a node that stops beating becomes suspect, then offline,
// and recovers on its next beat. GPU telemetry rolls up into fleet capacity.
// Run: npm run build && node --import tsx examples/heartbeat.ts
import { setTimeout as sleep } from 'node:timers/promises';
import { HeartbeatTracker } from 'majra/heartbeat';

// Short thresholds so the example runs in a fraction of a second; production values are
// seconds (e.g. 10 s suspect, 30 s offline).
const tracker = new HeartbeatTracker({ suspectAfterMs: 100, offlineAfterMs: 200, maxNodes: 1_000 });
tracker.on('transition', ({ nodeId, from, to }) => console.log(`${nodeId}: ${from} -> ${to}`));

const gpu = (usedMb: number) => [
  { utilizationPct: 50, memoryUsedMb: usedMb, memoryTotalMb: 24_000 },
];
tracker.register('gpu-1', { metadata: { zone: 'eu-1' }, gpus: gpu(8_000) });
tracker.register('gpu-2', { gpus: gpu(12_000) });

// gpu-1 keeps beating; gpu-2 goes silent. sweep() applies the thresholds (startSweeper()
// runs it on an unref'd timer instead).
for (const wait of [120, 120]) {
  await sleep(wait);
  tracker.beat('gpu-1', { gpus: gpu(9_000) });
  tracker.sweep();
}
console.log(
  'online:',
  tracker
    .online()
    .map((node) => node.nodeId)
    .join(', '),
);

tracker.beat('gpu-2', { gpus: gpu(4_000) }); // back: offline -> online
const stats = tracker.fleetStats();
console.log(
  `fleet: ${stats.online}/${stats.totalNodes} online, ${stats.availableVramMb} MB VRAM free`,
);

await tracker.close();
console.log('heartbeat example done');

// An in-process job queue: priorities, an exact concurrency cap, resource-fitting dequeue
// (GPUs/VRAM) and a per-job AbortSignal that tells a running worker its job was cancelled.
// Run: npm run build && node --import tsx examples/queue.ts
import { ManagedQueue, Priority } from 'majra/queue';

interface Render {
  scene: string;
}

const queue = new ManagedQueue<Render>({
  maxConcurrency: 2, // never more than two jobs running
  capacity: { gpuCount: 2, vramMb: 48_000 }, // dequeue() only hands out jobs that fit
  maxQueued: 1_000, // enqueue beyond this rejects with ERR_QUEUE_FULL
});

// Watch the lifecycle (listeners run synchronously after each change).
queue.onEvent((event) => {
  if (event.type === 'stateChanged')
    console.log(`  ${event.id.slice(0, 8)} ${event.from} -> ${event.to}`);
});

await queue.enqueue(
  Priority.Low,
  { scene: 'backdrop' },
  { resources: { gpuCount: 1, vramMb: 8_000 } },
);
await queue.enqueue(
  Priority.Critical,
  { scene: 'hero' },
  { resources: { gpuCount: 1, vramMb: 24_000 } },
);
const doomed = await queue.enqueue(Priority.Normal, { scene: 'outtake' });

// Two workers; each takes the highest-priority job that fits what is free.
async function worker(name: string): Promise<void> {
  for (;;) {
    const job = await queue.dequeue();
    if (job === undefined) return; // nothing left that fits
    console.log(`${name} renders ${job.payload.scene} (priority ${job.priority})`);
    if (job.id === doomed) {
      await queue.cancel(job.id); // e.g. the user gave up: the worker's signal aborts
      console.log(`${name} saw cancel: signal.aborted = ${job.signal?.aborted}`);
      continue;
    }
    await queue.complete(job.id);
  }
}
await Promise.all([worker('w1'), worker('w2')]);

console.log('counts', JSON.stringify(queue.counts()));
await queue.close();
console.log('queue example done');

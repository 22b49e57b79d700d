/**
 * A worker process of the distributed demo (forked by the coordinator, not a public
 * command): claims GPU shard tasks from the Redis queue, simulates them, acknowledges
 * them, reports completion on Redis pub/sub and sends heartbeats with GPU telemetry to
 * the Redis heartbeat tracker. It exits when the coordinator goes away.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { sleep } from '../../core/abort.js';
import {
  connectRedisHeartbeatTracker,
  connectRedisPubSub,
  connectRedisQueue,
  type RedisJob,
} from '../../backends/redis/index.js';
import { DEMO_REDIS_PREFIX, WORK_QUEUE, NODES_TRACKER, PUBSUB_NAME } from './distributed-names.js';
import type { WorkTask } from './workflow.js';

const { values } = parseArgs({
  options: {
    redis: { type: 'string' },
    node: { type: 'string' },
    gpus: { type: 'string' },
    'step-ms': { type: 'string' },
  },
});
const url = values.redis ?? 'redis://127.0.0.1:6379';
const nodeId = values.node ?? `worker-${process.pid}`;
const gpus = Number(values.gpus ?? '1');
const stepMs = Number(values['step-ms'] ?? '400');
const beatMs = Math.max(20, Math.min(500, stepMs));
const vramPerGpu = 24_000;

const stop = new AbortController();
const shutdown = (): void => stop.abort();
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.on('disconnect', shutdown);

const options = { prefix: DEMO_REDIS_PREFIX };
const queue = await connectRedisQueue<WorkTask>(url, WORK_QUEUE, {
  ...options,
  visibilityTimeoutMs: 30_000,
});
const bus = await connectRedisPubSub(url, PUBSUB_NAME, options);
const tracker = await connectRedisHeartbeatTracker(url, NODES_TRACKER, {
  ...options,
  suspectAfterMs: beatMs * 4,
  offlineAfterMs: beatMs * 10,
  // Stopped workers stay listed (offline) for a while, so dashboards can show them.
  retainOfflineMs: 600_000,
});

const running: number[] = [];
function telemetry(): {
  metadata: unknown;
  gpus: {
    utilizationPct: number;
    memoryUsedMb: number;
    memoryTotalMb: number;
    temperatureC: number;
  }[];
} {
  return {
    metadata: { running: running.length, pid: process.pid },
    gpus: Array.from({ length: gpus }, (_, i) => {
      const vram = running[i];
      return {
        utilizationPct: vram === undefined ? 2 : 90,
        memoryUsedMb: vram === undefined ? 400 : Math.min(vramPerGpu, vram + 400),
        memoryTotalMb: vramPerGpu,
        temperatureC: vram === undefined ? 38 : 71,
      };
    }),
  };
}

await tracker.register(nodeId, telemetry());
process.send?.({ type: 'ready', nodeId });

async function heartbeats(): Promise<void> {
  while (!stop.signal.aborted) {
    await tracker.beat(nodeId, telemetry()).catch(() => undefined);
    await sleep(beatMs, { signal: stop.signal }).catch(() => undefined);
  }
}

async function slot(): Promise<void> {
  while (!stop.signal.aborted) {
    let job: RedisJob<WorkTask>;
    try {
      job = await queue.dequeueWait({ signal: stop.signal });
    } catch {
      // Stopping, or Redis went away for a moment: back off instead of spinning.
      await sleep(100, { signal: stop.signal }).catch(() => undefined);
      continue;
    }
    const vram = job.payload.resources.vramMb;
    running.push(vram);
    try {
      await sleep(job.payload.durationMs, { signal: stop.signal });
      await queue.ack(job);
      await bus.publish('demo/jobs/done', { ...job.payload, jobId: job.id, nodeId });
    } catch {
      // Stopped mid-task: the lease expires and another worker gets the task.
    } finally {
      running.splice(running.indexOf(vram), 1);
    }
  }
}

await Promise.all([heartbeats(), ...Array.from({ length: gpus }, () => slot())]);
await Promise.allSettled([queue.close(), bus.close(), tracker.close()]);
process.exit(0);

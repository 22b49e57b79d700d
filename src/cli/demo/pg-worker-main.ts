/**
 * A worker process of the PostgreSQL-only distributed demo (forked by the coordinator,
 * not a public command): runs GPU shard tasks from the PostgreSQL job queue
 * (`FOR UPDATE SKIP LOCKED` claims with leases) and sends heartbeats with GPU telemetry
 * to the coordinator over the fork IPC channel. It exits when the coordinator goes away.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { sleep } from '../../core/abort.js';
import { connectPostgresJobQueue } from '../../backends/postgres/index.js';
import { DEMO_PG_SCHEMA, PG_WORK_QUEUE } from './distributed-names.js';
import type { WorkTask } from './workflow.js';

const { values } = parseArgs({
  options: {
    postgres: { type: 'string' },
    node: { type: 'string' },
    gpus: { type: 'string' },
    'step-ms': { type: 'string' },
  },
});
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

const jobs = await connectPostgresJobQueue({
  connectionString: values.postgres ?? 'postgres://postgres@127.0.0.1:5432/test',
  schema: DEMO_PG_SCHEMA,
});
const running: number[] = [];

function beat(): void {
  process.send?.({
    type: 'beat',
    nodeId,
    running: running.length,
    gpus: Array.from({ length: gpus }, (_, i) => {
      const vram = running[i];
      return {
        utilizationPct: vram === undefined ? 2 : 90,
        memoryUsedMb: vram === undefined ? 400 : Math.min(vramPerGpu, vram + 400),
        memoryTotalMb: vramPerGpu,
        temperatureC: vram === undefined ? 38 : 71,
      };
    }),
  });
}

jobs.work<WorkTask>(
  PG_WORK_QUEUE,
  async (job, { signal }) => {
    const vram = job.payload.resources.vramMb;
    running.push(vram);
    try {
      await sleep(job.payload.durationMs, { signal });
      return { nodeId };
    } finally {
      running.splice(running.indexOf(vram), 1);
    }
  },
  { concurrency: gpus },
);
beat();
process.send?.({ type: 'ready', nodeId });
while (!stop.signal.aborted) {
  beat();
  await sleep(beatMs, { signal: stop.signal }).catch(() => undefined);
}
await jobs.close().catch(() => undefined);
process.exit(0);

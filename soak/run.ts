// The soak run: every primitive under sustained mixed load at once, memory sampled every
// second after a forced GC, losses and invariant violations collected from every workload.
// Exits 0 when everything held, 1 with the reasons otherwise.
//
//   npm run soak -- --seconds 60            (REDIS_URL / DATABASE_URL, defaults on loopback)
//   npm run soak -- --seconds 20 --only pubsub,queue
//   npm run soak -- --seconds 600 --samples memory.json   (every sample, for a closer look)
//
// `--inject-leak` (hidden, for the test proving the leak check works) retains every
// message, job and decision the workloads handle, each with 1 KiB of padding (so a short
// test run leaks enough to judge; without padding the leak is ~0.5 MiB/s, which the
// 60-second run catches too: `--inject-leak --leak-padding 0`).
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteWorkflowStore } from '../src/backends/sqlite/workflow-store.js';
import { connectPostgresWorkflowStore } from '../src/backends/postgres/workflow-store.js';
import { MemoryWorkflowStore } from '../src/workflow/memory-store.js';
import { describe, type SoakContext, type Workload, type WorkloadReport } from './lib.js';
import { judgeMemory, sampleMemory, type MemorySample } from './memory.js';
import { startBarrier } from './workloads/barrier.js';
import { startHeartbeat } from './workloads/heartbeat.js';
import { startIpc } from './workloads/ipc.js';
import { postgresScope, startPostgres } from './workloads/postgres.js';
import { startPubSub } from './workloads/pubsub.js';
import { startQueue } from './workloads/queue.js';
import { startRateLimits } from './workloads/ratelimit.js';
import { startRedis } from './workloads/redis.js';
import { startWorkflows } from './workloads/workflow.js';

const ALL = [
  'pubsub',
  'queue',
  'workflow-memory',
  'workflow-sqlite',
  'workflow-postgres',
  'ratelimit',
  'barrier',
  'heartbeat',
  'ipc',
  'redis',
  'postgres',
];

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    only: { type: 'string' },
    'inject-leak': { type: 'boolean', default: false },
    'leak-padding': { type: 'string', default: '1024' },
    samples: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds < 5) {
  console.error(`soak: --seconds must be a number >= 5, got ${values.seconds}`);
  process.exit(2);
}
const only = values.only === undefined ? ALL : values.only.split(',');
for (const name of only) {
  if (!ALL.includes(name)) {
    console.error(`soak: unknown workload ${name} (known: ${ALL.join(', ')})`);
    process.exit(2);
  }
}

const MAX_FAILURE_LINES = 40;
const failures: string[] = [];
let failureCount = 0;
const fail = (message: string): void => {
  failureCount++;
  if (failures.length < MAX_FAILURE_LINES) failures.push(message);
};
process.on('unhandledRejection', (reason) => fail(`unhandled rejection: ${describe(reason)}`));

const leaked: unknown[] = [];
const padding = Number(values['leak-padding']);
const controller = new AbortController();
// Every pause() of every workload listens on this one signal.
setMaxListeners(0, controller.signal);
const ctx: SoakContext = {
  signal: controller.signal,
  retain: values['inject-leak']
    ? (value) => leaked.push(padding > 0 ? { value, padding: Buffer.alloc(padding) } : value)
    : () => undefined,
  fail,
  runId: randomBytes(4).toString('hex'),
  redisUrl: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  databaseUrl: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
};

/** Starts the selected workloads; the PostgreSQL ones share one pool and schema. */
async function startAll(): Promise<{ workloads: Workload[]; dispose: () => Promise<void> }> {
  const workloads: Workload[] = [];
  const disposers: (() => Promise<void>)[] = [];
  const wants = (name: string): boolean => only.includes(name);
  const pgScope = wants('postgres') || wants('workflow-postgres') ? postgresScope(ctx) : undefined;
  if (pgScope !== undefined) disposers.push(() => pgScope.dispose());
  const sqliteDir = mkdtempSync(join(tmpdir(), 'majra-soak-sqlite-'));
  disposers.push(async () => rmSync(sqliteDir, { recursive: true, force: true }));
  try {
    if (wants('pubsub')) workloads.push(startPubSub(ctx));
    if (wants('queue')) workloads.push(startQueue(ctx));
    if (wants('workflow-memory')) {
      const store = new MemoryWorkflowStore({ maxRuns: 1000, finishedRunTtlMs: 2000 });
      workloads.push(
        startWorkflows(ctx, {
          name: 'workflow-memory',
          store,
          runsPerSecond: 150,
          inFlight: 32,
          dispose: () => store.close(),
        }),
      );
    }
    if (wants('workflow-sqlite')) {
      const store = SqliteWorkflowStore.open(join(sqliteDir, 'workflows.db'), {
        maxRuns: 1000,
        finishedRunTtlMs: 2000,
      });
      workloads.push(
        startWorkflows(ctx, {
          name: 'workflow-sqlite',
          store,
          runsPerSecond: 40,
          inFlight: 8,
          dispose: () => store.close(),
        }),
      );
    }
    if (pgScope !== undefined && wants('workflow-postgres')) {
      const store = await connectPostgresWorkflowStore({
        pool: pgScope.pool,
        schema: pgScope.schema,
        maxRuns: 1000,
        finishedRunTtlMs: 2000,
      });
      workloads.push(
        startWorkflows(ctx, {
          name: 'workflow-postgres',
          store,
          runsPerSecond: 15,
          inFlight: 4,
          dispose: () => store.close(),
        }),
      );
    }
    if (wants('ratelimit')) workloads.push(startRateLimits(ctx));
    if (wants('barrier')) workloads.push(startBarrier(ctx));
    if (wants('heartbeat')) workloads.push(startHeartbeat(ctx));
    if (wants('ipc')) workloads.push(await startIpc(ctx));
    if (wants('redis')) workloads.push(await startRedis(ctx));
    if (pgScope !== undefined && wants('postgres'))
      workloads.push(await startPostgres(ctx, pgScope));
  } catch (error) {
    controller.abort();
    await Promise.allSettled(workloads.map((w) => w.stop()));
    for (const dispose of disposers.reverse()) await dispose().catch(() => undefined);
    throw error;
  }
  return {
    workloads,
    dispose: async () => {
      for (const dispose of disposers.reverse()) await dispose();
    },
  };
}

function formatRate(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(n >= 100 ? 0 : 1);
}

const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);

async function main(): Promise<number> {
  let started;
  try {
    started = await startAll();
  } catch (error) {
    console.error(`soak: FAILED to start: ${describe(error)}`);
    return 1;
  }
  const t0 = performance.now();
  const samples: MemorySample[] = [sampleMemory(0)];
  const sampler = setInterval(() => {
    samples.push(sampleMemory((performance.now() - t0) / 1000));
  }, 1000);
  // Ctrl-C ends the measured period early; the run still drains, verifies and cleans up.
  let interrupted = false;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, seconds * 1000);
    process.once('SIGINT', () => {
      interrupted = true;
      clearTimeout(timer);
      resolve();
    });
  });
  clearInterval(sampler);
  samples.push(sampleMemory((performance.now() - t0) / 1000));
  const elapsed = (performance.now() - t0) / 1000;
  controller.abort();

  // Every workload drains and verifies itself; a hung one must not hang the run.
  const reports = new Map<string, WorkloadReport>();
  const stopping = Promise.all(
    started.workloads.map(async (w) => {
      try {
        reports.set(w.name, await w.stop());
      } catch (error) {
        fail(`${w.name}: stop failed: ${describe(error)}`);
      }
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    stopping.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 120_000))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    const hung = started.workloads.filter((w) => !reports.has(w.name)).map((w) => w.name);
    fail(`stop: ${hung.join(', ')} did not stop within 120 s`);
  } else {
    try {
      await started.dispose();
    } catch (error) {
      fail(`cleanup failed: ${describe(error)}`);
    }
  }

  const memory = judgeMemory(samples, interrupted ? elapsed : seconds);
  if (values.samples !== undefined) writeFileSync(values.samples, JSON.stringify(samples));
  const lines: string[] = [];
  lines.push(
    `soak: ${elapsed.toFixed(1)} s, ${started.workloads.length} workloads, node ${process.version}, run ${ctx.runId}${interrupted ? ', INTERRUPTED' : ''}${values['inject-leak'] ? ', LEAK INJECTED' : ''}`,
  );
  for (const w of started.workloads) {
    const r = reports.get(w.name);
    if (r === undefined) {
      lines.push(`  ${w.name.padEnd(18)} (no report)`);
      continue;
    }
    const counts = Object.entries(r.counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    lines.push(
      `  ${w.name.padEnd(18)} ${formatRate(r.ops / elapsed).padStart(7)} ${r.unit}/s  ${counts}`,
    );
    for (const f of r.failures) fail(f);
  }
  const h = memory.heap;
  const r = memory.rss;
  lines.push(
    `  memory (MiB, ${memory.samples} samples after ${memory.warmupSeconds} s warm-up): ` +
      `heap+external min ${mib(h.min)} max ${mib(h.max)} plateau ${mib(h.plateau)} final ${mib(h.final)} slope ${(h.slope / 1024).toFixed(1)} KiB/s; ` +
      `rss min ${mib(r.min)} max ${mib(r.max)} slope ${(r.slope / 1024).toFixed(1)} KiB/s`,
  );
  for (const f of memory.failures) fail(f);
  console.log(lines.join('\n'));
  if (failureCount > 0) {
    console.log(`soak: FAILED (${failureCount} problems)`);
    for (const f of failures) console.log(`  - ${f}`);
    if (failureCount > failures.length) {
      console.log(`  ... and ${failureCount - failures.length} more`);
    }
    return 1;
  }
  console.log('soak: PASSED');
  return 0;
}

process.exit(await main());

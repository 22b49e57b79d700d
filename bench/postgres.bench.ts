// PostgreSQL job queue vs pg-boss, on the same database in the same run.
// Rows: end-to-end jobs/s (batch insert + drain), drain of pre-inserted jobs, one-at-a-time
// enqueue, idle add-to-start latency p50, and the raw committed single-row INSERT rate as
// the floor any durable enqueue pays. Schemas are created per run and dropped after.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { connectPostgresJobQueue, type PostgresJobQueue } from '../src/backends/postgres/index.js';
import {
  median,
  percentile,
  spread,
  type BenchOptions,
  type BenchReport,
  type BenchRow,
} from './lib.js';

const url = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function majraInsert(q: PostgresJobQueue, name: string, n: number): Promise<void> {
  for (let start = 0; start < n; start += 1000) {
    const size = Math.min(1000, n - start);
    await q.enqueueMany(
      name,
      Array.from({ length: size }, (_, i) => ({ payload: { n: start + i } })),
    );
  }
}

async function majraDrain(q: PostgresJobQueue, name: string, n: number): Promise<void> {
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = q.work(
    name,
    () => {
      if (++done === n) finish();
    },
    { concurrency: 200, batchSize: 100 },
  );
  await finished;
  await worker.close();
}

async function bossInsert(boss: PgBoss, name: string, n: number): Promise<void> {
  for (let start = 0; start < n; start += 1000) {
    const size = Math.min(1000, n - start);
    await boss.insert(Array.from({ length: size }, (_, i) => ({ name, data: { n: start + i } })));
  }
}

async function bossBatchLoop(boss: PgBoss, name: string, n: number): Promise<void> {
  let done = 0;
  while (done < n) {
    const jobs = await boss.fetch<{ n: number }>(name, { batchSize: 100 });
    if (jobs.length === 0) continue;
    await boss.complete(
      name,
      jobs.map((job) => job.id),
    );
    done += jobs.length;
  }
}

async function bossWork(boss: PgBoss, name: string, n: number): Promise<void> {
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const id = await boss.work(name, { batchSize: 100, pollingIntervalSeconds: 0.5 }, (jobs) => {
    done += jobs.length;
    if (done >= n) finish();
    return Promise.resolve();
  });
  await finished;
  await boss.offWork({ id });
}

/** Latency from enqueue to handler start with an idle worker, `samples` times. */
async function latency(
  samples: number,
  start: (onStart: () => void) => Promise<() => Promise<void>>,
  enqueue: () => Promise<unknown>,
): Promise<number[]> {
  let resolveStart: (() => void) | undefined;
  const stop = await start(() => resolveStart?.());
  const out: number[] = [];
  await sleep(300);
  for (let i = 0; i < samples; i++) {
    const started = new Promise<void>((resolve) => (resolveStart = resolve));
    const t0 = performance.now();
    await enqueue();
    await started;
    out.push(performance.now() - t0);
    await sleep(50);
  }
  await stop();
  return out;
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const tag = randomBytes(3).toString('hex');
  const majraSchema = `majra_bench_${tag}`;
  const bossSchema = `pgboss_bench_${tag}`;
  const n = options.quick ? 300 : 10_000;
  const repeats = options.quick ? 1 : 3;
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  const q = await connectPostgresJobQueue({
    connectionString: url,
    schema: majraSchema,
    maxPoolSize: 10,
    retention: { completedMs: 3_600_000 },
  });
  const boss = new PgBoss({
    connectionString: url,
    schema: bossSchema,
    max: 10,
    supervise: false,
    schedule: false,
  });
  boss.on('error', () => undefined);
  await boss.start();
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  try {
    const e2eMajra: number[] = [];
    const e2eBoss: number[] = [];
    const drainMajra: number[] = [];
    const drainBoss: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const qa = `e2e_${r}`;
      await boss.createQueue(qa);
      e2eMajra.push(
        n /
          ((await timed(async () => {
            await majraInsert(q, qa, n);
            await majraDrain(q, qa, n);
          })) /
            1000),
      );
      e2eBoss.push(
        n /
          ((await timed(async () => {
            await bossInsert(boss, qa, n);
            await bossBatchLoop(boss, qa, n);
          })) /
            1000),
      );
      const qb = `drain_${r}`;
      await boss.createQueue(qb);
      await majraInsert(q, qb, n);
      await bossInsert(boss, qb, n);
      drainMajra.push(n / ((await timed(() => majraDrain(q, qb, n))) / 1000));
      drainBoss.push(n / ((await timed(() => bossBatchLoop(boss, qb, n))) / 1000));
    }
    rows.push({
      name: `end-to-end jobs/s: batch insert + drain ${n} jobs (majra work() vs pg-boss fetch(100)+complete loop)`,
      unit: 'jobs/s',
      majra: median(e2eMajra),
      spread: spread(e2eMajra),
      peer: {
        name: 'pg-boss 10 insert + fetch/complete batch 100',
        value: median(e2eBoss),
        spread: spread(e2eBoss),
      },
      targetRatio: 2,
      target: '>= 2x pg-boss best batch loop',
    });
    rows.push({
      name: `drain ${n} pre-inserted jobs (majra work() vs pg-boss fetch(100)+complete loop)`,
      unit: 'jobs/s',
      majra: median(drainMajra),
      spread: spread(drainMajra),
      peer: {
        name: 'pg-boss 10 fetch/complete batch 100',
        value: median(drainBoss),
        spread: spread(drainBoss),
      },
      targetRatio: 2,
      target: '>= 2x pg-boss best batch loop',
    });

    // pg-boss work(): polling-bound.
    const workN = options.quick ? 200 : 2000;
    await boss.createQueue('work');
    await bossInsert(boss, 'work', workN);
    const bossWorkRate = workN / ((await timed(() => bossWork(boss, 'work', workN))) / 1000);
    await majraInsert(q, 'work', workN);
    const majraWorkRate = workN / ((await timed(() => majraDrain(q, 'work', workN))) / 1000);
    rows.push({
      name: `work() drain of ${workN} jobs (pg-boss work() batchSize 100, 0.5 s poll = its minimum)`,
      unit: 'jobs/s',
      majra: majraWorkRate,
      peer: { name: 'pg-boss 10 work()', value: bossWorkRate },
    });

    // One-at-a-time enqueue vs send vs raw committed insert.
    const singles = options.quick ? 50 : 1000;
    await admin.query(
      `CREATE TABLE ${majraSchema}.raw_insert (id bigserial primary key, payload text not null)`,
    );
    const rawRate =
      singles /
      ((await timed(async () => {
        for (let i = 0; i < singles; i++)
          await admin.query(`INSERT INTO ${majraSchema}.raw_insert (payload) VALUES ($1)`, [
            `{"n":${i}}`,
          ]);
      })) /
        1000);
    const enqRate =
      singles /
      ((await timed(async () => {
        for (let i = 0; i < singles; i++) await q.enqueue('single', { n: i });
      })) /
        1000);
    await boss.createQueue('single');
    const sendRate =
      singles /
      ((await timed(async () => {
        for (let i = 0; i < singles; i++) await boss.send('single', { n: i });
      })) /
        1000);
    rows.push({
      name: 'enqueue one job at a time, awaited (majra enqueue vs pg-boss send)',
      unit: 'jobs/s',
      majra: enqRate,
      peer: { name: 'pg-boss 10 send()', value: sendRate },
    });
    rows.push({
      name: 'raw committed single-row INSERT rate (pg driver, the floor for durable enqueue)',
      unit: 'rows/s',
      majra: enqRate,
      peer: { name: 'raw pg INSERT', value: rawRate },
    });

    // Idle add-to-start latency.
    const samples = options.quick ? 5 : 40;
    const majraLat = await latency(
      samples,
      (onStart) => {
        const worker = q.work('latency', () => onStart());
        return Promise.resolve(() => worker.close());
      },
      () => q.enqueue('latency', {}),
    );
    await boss.createQueue('latency');
    const bossLat = await latency(
      options.quick ? 3 : 10,
      async (onStart) => {
        const id = await boss.work('latency', { pollingIntervalSeconds: 0.5 }, () => {
          onStart();
          return Promise.resolve();
        });
        return () => boss.offWork({ id });
      },
      () => boss.send('latency', {}),
    );
    rows.push({
      name: 'idle add-to-start latency p50 (enqueue awaited -> handler starts)',
      unit: 'ms',
      majra: median(majraLat),
      spread: spread(majraLat),
      peer: { name: 'pg-boss 10 work() (0.5 s poll, its minimum)', value: median(bossLat) },
      lowerIsBetter: true,
      targetValue: 5,
      target: '<= 5 ms',
    });
    const commitLatency: number[] = [];
    for (let i = 0; i < (options.quick ? 5 : 40); i++) {
      const t0 = performance.now();
      await admin.query(`INSERT INTO ${majraSchema}.raw_insert (payload) VALUES ($1)`, ['{}']);
      commitLatency.push(performance.now() - t0);
    }
    notes.push(
      `one committed single-row INSERT took ${median(commitLatency).toFixed(2)} ms (p50) in this run: add-to-start latency includes one such commit (the enqueue) plus the claim`,
    );
    notes.push(
      `majra latency p99 ${percentile(majraLat, 99).toFixed(2)} ms over ${majraLat.length} samples`,
    );
    notes.push(
      'Machine shared by several engineers while measured: absolute figures are contended.',
    );
  } finally {
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await q.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${majraSchema} CASCADE`);
    await admin.query(`DROP SCHEMA IF EXISTS ${bossSchema} CASCADE`);
    await admin.end();
  }
  return { area: 'postgres', rows, notes };
}

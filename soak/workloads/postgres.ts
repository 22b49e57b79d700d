// The PostgreSQL job queue under load, in a per-run schema dropped at the end: batches of
// jobs enqueued with enqueueMany, a worker pool claiming them, injected first-attempt
// failures retried after a backoff. Every job must succeed exactly once (no lease is
// lost in a healthy run) and the queue must end empty with nothing dead.
import pg from 'pg';
import { connectPostgresJobQueue } from '../../src/backends/postgres/job-queue.js';
import { describe, IdLedger, paced, Window, type SoakContext, type Workload } from '../lib.js';

const BATCH = 20;

/** A pool and schema shared by the PostgreSQL workloads of one run. */
export interface PostgresScope {
  readonly pool: pg.Pool;
  readonly schema: string;
  /** Drops the schema and ends the pool (once every user is closed). */
  dispose(): Promise<void>;
}

export function postgresScope(ctx: SoakContext): PostgresScope {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 12 });
  pool.on('error', (error) => ctx.fail(`postgres pool: ${describe(error)}`));
  const schema = `majra_soak_${ctx.runId}`;
  return {
    pool,
    schema,
    async dispose() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

export async function startPostgres(ctx: SoakContext, scope: PostgresScope): Promise<Workload> {
  const jobs = await connectPostgresJobQueue({
    pool: scope.pool,
    schema: scope.schema,
    backoff: { type: 'fixed', delayMs: 50, jitter: 0 },
    maxAttempts: 3,
    retention: { completedMs: 2000, deadMs: 60_000 },
    maintenanceIntervalMs: 1000,
    onError: (error) => ctx.fail(`postgres queue: ${describe(error)}`),
  });
  const ledger = new IdLedger();
  const window = new Window(1000);
  let retried = 0;
  const worker = jobs.work<{ n: number }>(
    'soak',
    (job) => {
      ctx.retain(job);
      if (job.payload.n % 10 === 0 && job.attempt === 1) {
        retried++;
        throw new Error('injected: first attempt fails');
      }
      if (!ledger.settle(job.payload.n))
        ctx.fail(`postgres queue: job ${job.payload.n} succeeded twice`);
      else window.release();
      return { ok: true };
    },
    { concurrency: 8, batchSize: 20 },
  );
  const producer = paced(ctx.signal, 400 / BATCH, async () => {
    for (let i = 0; i < BATCH; i++) await window.acquire();
    const batch = Array.from({ length: BATCH }, () => ({
      payload: { n: ledger.issue() },
      priority: 0,
    }));
    try {
      await jobs.enqueueMany('soak', batch);
    } catch (error) {
      ctx.fail(`postgres queue: enqueueMany failed: ${describe(error)}`);
      for (const { payload } of batch) {
        ledger.settle(payload.n);
        window.release();
      }
    }
  });

  return {
    name: 'postgres',
    async stop() {
      await producer;
      const failures: string[] = [];
      if (!(await window.drained(30_000))) {
        failures.push(`postgres queue: ${window.inFlight} jobs not done 30 s after stop`);
      }
      await worker.close();
      const counts = await jobs.counts('soak');
      if (counts.queued + counts.running + counts.dead !== 0) {
        failures.push(`postgres queue: counts after drain ${JSON.stringify(counts)}`);
      }
      await jobs.close();
      failures.push(...ledger.verify('postgres jobs'));
      return {
        ops: ledger.issued - ledger.outstanding,
        unit: 'jobs',
        counts: { enqueued: ledger.issued, retried },
        failures,
      };
    },
  };
}

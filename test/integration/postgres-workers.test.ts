import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectPostgresJobQueue,
  type PostgresJobQueue,
} from '../../src/backends/postgres/index.js';
import { databaseUrl, uniqueName } from '../support/services.js';

const schema = uniqueName('majra_workers');
const admin = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
const script = fileURLToPath(new URL('../support/postgres-worker.ts', import.meta.url));
const children = new Set<ChildProcess>();
let queue: PostgresJobQueue;

interface ChildMessage {
  type: string;
  ran?: number[];
  ids?: string[];
  message?: string;
}

function spawnWorker(env: Record<string, string>): {
  child: ChildProcess;
  next: (type: string) => Promise<ChildMessage>;
} {
  const child = fork(script, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DATABASE_URL: databaseUrl(), SCHEMA: schema, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const inbox: ChildMessage[] = [];
  const waiters: (() => void)[] = [];
  child.on('message', (message) => {
    inbox.push(message as ChildMessage);
    for (const wake of waiters.splice(0)) wake();
  });
  const next = async (type: string): Promise<ChildMessage> => {
    for (;;) {
      const index = inbox.findIndex((m) => m.type === type);
      if (index >= 0) return inbox.splice(index, 1)[0] as ChildMessage;
      if (child.exitCode !== null)
        throw new Error(`worker exited (${child.exitCode}) before '${type}'`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        child.once('exit', () => resolve());
      });
    }
  };
  return { child, next };
}

beforeAll(async () => {
  queue = await connectPostgresJobQueue({
    connectionString: databaseUrl(),
    schema,
    maxPoolSize: 4,
  });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await queue.close();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

describe('PostgresJobQueue across processes', () => {
  it(
    'four worker processes drain 20,000 jobs, each exactly once',
    { timeout: 180_000 },
    async () => {
      const q = 'drain';
      const total = 20_000;
      for (let start = 0; start < total; start += 5000) {
        await queue.enqueueMany(
          q,
          Array.from({ length: 5000 }, (_, i) => ({ payload: { n: start + i } })),
        );
      }
      const workers = Array.from({ length: 4 }, () => spawnWorker({ MODE: 'drain', QUEUE: q }));
      await Promise.all(workers.map((w) => w.next('ready')));
      await expect
        .poll(async () => (await queue.counts(q)).completed, { timeout: 150_000, interval: 500 })
        .toBe(total);
      for (const w of workers) w.child.send('stop');
      const reports = await Promise.all(workers.map((w) => w.next('done')));
      const ran = reports.flatMap((r) => r.ran ?? []);
      expect(ran).toHaveLength(total);
      expect(new Set(ran).size).toBe(total);
      // Work was actually shared between processes.
      expect(reports.filter((r) => (r.ran?.length ?? 0) > 0).length).toBeGreaterThanOrEqual(2);
      expect(await queue.counts(q)).toMatchObject({
        queued: 0,
        running: 0,
        dead: 0,
        completed: total,
      });
    },
  );

  it('reclaims and finishes jobs held by a SIGKILLed worker', { timeout: 60_000 }, async () => {
    const q = 'killed';
    const ids = (
      await queue.enqueueMany(
        q,
        Array.from({ length: 5 }, (_, i) => ({ payload: i })),
      )
    ).map((r) => r.id);
    const holder = spawnWorker({ MODE: 'hold', QUEUE: q, HOLD: '5', LEASE_MS: '1500' });
    const holding = await holder.next('holding');
    expect([...(holding.ids ?? [])].sort()).toEqual([...ids].sort());
    holder.child.kill('SIGKILL');
    await new Promise((resolve) => holder.child.once('exit', resolve));
    expect((await queue.counts(q)).running).toBe(5);
    const rescuer = await connectPostgresJobQueue({
      connectionString: databaseUrl(),
      schema,
      maintenanceIntervalMs: 200,
    });
    try {
      const attempts = new Map<string, number>();
      const worker = rescuer.work(q, (job) => void attempts.set(job.id, job.attempt), {
        concurrency: 5,
      });
      await expect.poll(() => attempts.size, { timeout: 30_000 }).toBe(5);
      await worker.close();
      expect([...attempts.values()]).toEqual([2, 2, 2, 2, 2]);
      expect((await queue.counts(q)).completed).toBe(5);
    } finally {
      await rescuer.close();
    }
  });

  it(
    'recovers without loss when its connections are terminated mid-claim',
    { timeout: 120_000 },
    async () => {
      const q = 'terminate';
      const total = 3000;
      const appName = uniqueName('majra_term');
      const errors: Error[] = [];
      const victim = await connectPostgresJobQueue({
        connectionString: `${databaseUrl()}?application_name=${appName}`,
        schema,
        leaseMs: 2000,
        maintenanceIntervalMs: 300,
        onError: (e) => errors.push(e),
      });
      try {
        await queue.enqueueMany(
          q,
          Array.from({ length: total }, (_, i) => ({ payload: i })),
        );
        const runs = new Map<number, number>();
        const worker = victim.work<number>(
          q,
          async (job) => {
            runs.set(job.payload, (runs.get(job.payload) ?? 0) + 1);
            await new Promise((resolve) => setTimeout(resolve, 1));
          },
          { concurrency: 16, batchSize: 20 },
        );
        let kills = 0;
        while ((await queue.counts(q)).completed < total / 2 && kills < 40) {
          const result = await admin.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
            [appName],
          );
          kills += result.rowCount ?? 0;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(kills).toBeGreaterThan(0);
        await expect
          .poll(async () => (await queue.counts(q)).completed, { timeout: 90_000, interval: 300 })
          .toBe(total);
        await worker.close();
        expect(runs.size).toBe(total); // every job ran at least once; none lost
        expect(errors.length).toBeGreaterThan(0); // the terminations were seen and reported
        expect(await queue.counts(q)).toMatchObject({ queued: 0, running: 0, dead: 0 });
      } finally {
        await victim.close();
      }
    },
  );
});

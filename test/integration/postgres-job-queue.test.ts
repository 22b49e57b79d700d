import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMajraError } from '../../src/core/errors.js';
import {
  connectPostgresJobQueue,
  type PostgresJobQueue,
  type PostgresJobQueueOptions,
} from '../../src/backends/postgres/index.js';
import { MemoryMetricsSink } from '../../src/testing/index.js';
import { databaseUrl, uniqueName } from '../support/services.js';

const schema = uniqueName('majra_jobs');
const admin = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
const errors: Error[] = [];
const opened: PostgresJobQueue[] = [];
let queue: PostgresJobQueue;

async function open(options: Partial<PostgresJobQueueOptions> = {}): Promise<PostgresJobQueue> {
  const q = await connectPostgresJobQueue({
    connectionString: databaseUrl(),
    schema,
    maxPoolSize: 4,
    onError: (e) => errors.push(e),
    ...options,
  });
  opened.push(q);
  return q;
}

const INJECTIONS = [
  "'; DROP TABLE majra_jobs; --",
  '"; DROP SCHEMA public CASCADE; --',
  '$1',
  "\\'",
  'Robert"); DELETE FROM majra_jobs WHERE ("1"="1',
  '🔥 emoji',
];

beforeAll(async () => {
  queue = await open();
});

afterAll(async () => {
  await Promise.allSettled(opened.map((q) => q.close()));
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('PostgresJobQueue', () => {
  it('claims by priority, FIFO within a priority, in batches', async () => {
    const q = 'order';
    await queue.enqueueMany(q, [
      { payload: 'low-1', priority: 0 },
      { payload: 'high-1', priority: 5 },
      { payload: 'low-2', priority: 0 },
      { payload: 'high-2', priority: 5 },
      { payload: 'mid', priority: 2 },
    ]);
    const first = await queue.claim(q, { limit: 3 });
    const second = await queue.claim(q, { limit: 3 });
    expect(first.map((j) => j.payload)).toEqual(['high-1', 'high-2', 'mid']);
    expect(second.map((j) => j.payload)).toEqual(['low-1', 'low-2']);
    expect(await queue.claim(q, { limit: 3 })).toEqual([]);
    expect(await queue.ackMany([...first, ...second].map((job) => ({ job })))).toBe(5);
    expect((await queue.counts(q)).completed).toBe(5);
  });

  it('round-trips injection strings in queue names, payload keys and idempotency keys', async () => {
    for (const text of INJECTIONS) {
      const payload = { [text]: text, nested: { [text]: [text] } };
      const { id } = await queue.enqueue(text, payload, { idempotencyKey: text });
      const again = await queue.enqueue(text, { other: 1 }, { idempotencyKey: text });
      expect(again).toEqual({ id, created: false });
      const [job] = await queue.claim(text);
      expect(job?.id).toBe(id);
      expect(job?.payload).toEqual(payload);
      expect(job?.queue).toBe(text);
      const info = await queue.get(id);
      expect(info?.idempotencyKey).toBe(text);
    }
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".majra_jobs`);
    expect((rows[0] as { n: number }).n).toBeGreaterThan(0);
    const publicSchema = await admin.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'public'`);
    expect(publicSchema.rowCount).toBe(1);
  });

  it('refuses bad input with typed errors and writes nothing', async () => {
    const q = 'bad-input';
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const small = await open({ maxPayloadBytes: 64 });
    const cases: [Promise<unknown>, string][] = [
      [queue.enqueue(q, cyclic), 'ERR_CODEC_NOT_SERIALIZABLE'],
      [queue.enqueue(q, 1n), 'ERR_CODEC_NOT_SERIALIZABLE'],
      [queue.enqueue(q, undefined), 'ERR_CODEC_NOT_SERIALIZABLE'],
      [small.enqueue(q, 'x'.repeat(100)), 'ERR_CODEC_TOO_LARGE'],
      // One bad job fails the whole batch before any write.
      [queue.enqueueMany(q, [{ payload: 1 }, { payload: () => 1 }]), 'ERR_CODEC_NOT_SERIALIZABLE'],
      [queue.enqueue('', 1), 'ERR_POSTGRES_INVALID_QUEUE'],
      [queue.enqueue('a\u0000b', 1), 'ERR_POSTGRES_INVALID_QUEUE'],
      [queue.enqueue(q, 1, { idempotencyKey: 'a\u0000b' }), 'ERR_INVALID_ARGUMENT'],
      [queue.enqueue(q, 1, { priority: 2 ** 31 }), 'ERR_INVALID_ARGUMENT'],
      [queue.enqueue(q, 1, { delayMs: -1 }), 'ERR_INVALID_ARGUMENT'],
      [queue.enqueue(q, 1, { maxAttempts: 0 }), 'ERR_INVALID_ARGUMENT'],
      [queue.get('1; DROP TABLE x'), 'ERR_INVALID_ARGUMENT'],
      [queue.cancel('999999999'), 'ERR_POSTGRES_JOB_NOT_FOUND'],
    ];
    for (const [promise, code] of cases) {
      const error = await caught(promise);
      expect(isMajraError(error) ? error.code : error).toBe(code);
    }
    expect(await queue.counts(q)).toEqual({
      queued: 0,
      running: 0,
      completed: 0,
      dead: 0,
      cancelled: 0,
    });
  });

  it('enqueues inside the caller transaction: rollback leaves no job, commit publishes it', async () => {
    const q = 'tx';
    const seen: unknown[] = [];
    const worker = queue.work(q, (job) => void seen.push(job.payload));
    const client = await admin.connect();
    try {
      await client.query('BEGIN');
      await queue.enqueue(q, 'rolled-back', { executor: client });
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      await queue.enqueue(q, 'committed', { executor: client });
      expect((await queue.counts(q)).queued).toBe(0); // invisible until commit
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await expect.poll(() => seen, { timeout: 10_000 }).toEqual(['committed']);
    await worker.close();
  });

  it('retries with backoff and dead-letters after maxAttempts', async () => {
    const q = 'retry';
    const { id } = await queue.enqueue(q, 'flaky', { maxAttempts: 3 });
    const [a1] = await queue.claim(q);
    expect(a1?.attempt).toBe(1);
    if (a1 === undefined) throw new Error('no job');
    expect(await queue.nack(a1, new Error('boom 1'), { delayMs: 60_000 })).toBe('queued');
    expect(await queue.claim(q)).toEqual([]); // not due yet
    await admin.query(`UPDATE "${schema}".majra_jobs SET run_at = now() WHERE id = $1`, [id]);
    const [a2] = await queue.claim(q);
    if (a2 === undefined) throw new Error('no job');
    expect(a2.attempt).toBe(2);
    expect(await queue.ack(a1)).toBe(false); // stale attempt is fenced off
    expect(await queue.nack(a2, new Error('boom 2'), { delayMs: 0 })).toBe('queued');
    const [a3] = await queue.claim(q);
    if (a3 === undefined) throw new Error('no job');
    expect(await queue.nack(a3, new Error('boom 3'))).toBe('dead');
    const info = await queue.get(id);
    expect(info?.state).toBe('dead');
    expect(info?.lastError).toBe('boom 3');
    expect(await queue.retry(id)).toBe(true);
    const [again] = await queue.claim(q);
    expect(again?.attempt).toBe(1);
    if (again !== undefined) expect(await queue.ack(again, { fixed: true })).toBe(true);
    expect((await queue.get(id))?.result).toEqual({ fixed: true });
  });

  it('runs scheduled jobs only when due and wakes the worker for them', async () => {
    const q = 'delayed';
    const slow = await open({ pollIntervalMs: 60_000 });
    const seen: string[] = [];
    const worker = slow.work<string>(q, (job) => void seen.push(job.payload));
    await slow.enqueue(q, 'later', { delayMs: 300 });
    await slow.enqueue(q, 'now');
    await expect.poll(() => seen, { timeout: 10_000 }).toEqual(['now', 'later']);
    await worker.close();
  });

  it('wakes idle workers through NOTIFY, not polling', async () => {
    const q = 'notify';
    const slow = await open({ pollIntervalMs: 600_000 });
    const seen: number[] = [];
    const worker = slow.work<number>(q, (job) => void seen.push(job.payload), { concurrency: 4 });
    // Let the worker go idle with its 10-minute poll, then enqueue from another instance.
    await expect.poll(() => worker.inFlight).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let i = 0; i < 5; i++) await queue.enqueue(q, i);
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(5);
    await worker.close();
  });

  it('cancels a running job from another process and aborts its signal', async () => {
    const q = 'cancel';
    const other = await open();
    let aborted: unknown;
    let started = false;
    const worker = queue.work(q, (_job, { signal }) => {
      started = true;
      return new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => {
          aborted = signal.reason;
          resolve();
        });
      });
    });
    const { id } = await other.enqueue(q, 'long');
    await expect.poll(() => started, { timeout: 10_000 }).toBe(true);
    expect(await other.cancel(id)).toBe(true);
    await expect.poll(() => isMajraError(aborted, 'ERR_ABORTED'), { timeout: 10_000 }).toBe(true);
    await worker.close();
    expect((await queue.get(id))?.state).toBe('cancelled');
    expect(await other.cancel(id)).toBe(false);
    // A queued job cancels too and is never claimed.
    const queued = await other.enqueue('cancel-queued', 1);
    expect(await other.cancel(queued.id)).toBe(true);
    expect(await queue.claim('cancel-queued')).toEqual([]);
  });

  it('reclaims expired leases and fences the stale holder', async () => {
    const q = 'lease';
    const metrics = new MemoryMetricsSink();
    const short = await open({ metrics });
    const { id } = await short.enqueue(q, 'x', { maxAttempts: 2 });
    const [held] = await short.claim(q, { leaseMs: 1 });
    if (held === undefined) throw new Error('no job');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await short.reap()).toBe(1);
    expect((await short.get(id))?.state).toBe('queued');
    const [again] = await short.claim(q, { leaseMs: 1 });
    expect(again?.attempt).toBe(2);
    expect(await short.ack(held)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await short.reap()).toBe(1);
    expect((await short.get(id))?.state).toBe('dead'); // attempts used up by dead workers
    expect(metrics.counter('majra_postgres_jobs_reaped_total')).toBe(2);
    expect(metrics.counter('majra_postgres_jobs_leases_lost_total')).toBe(1);
  });

  it('sweeps finished jobs by retention, and deletes at ack with completedMs 0', async () => {
    const q = 'retention';
    const keepNone = await open({ retention: { completedMs: 0, deadMs: 0 } });
    const { id } = await keepNone.enqueue(q, 1);
    const [job] = await keepNone.claim(q);
    if (job === undefined) throw new Error('no job');
    expect(await keepNone.ack(job)).toBe(true);
    expect(await keepNone.get(id)).toBeUndefined();
    // Churn: many dead jobs, then one sweep pass keeps the table bounded.
    await keepNone.enqueueMany(
      q,
      Array.from({ length: 100 }, (_, i) => ({ payload: i, maxAttempts: 1 })),
    );
    for (const claimed of await keepNone.claim(q, { limit: 100 })) {
      await keepNone.nack(claimed, 'x');
    }
    expect((await keepNone.counts(q)).dead).toBe(100);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await keepNone.sweep(10_000)).toBeGreaterThanOrEqual(100);
    expect(await keepNone.counts(q)).toEqual({
      queued: 0,
      running: 0,
      completed: 0,
      dead: 0,
      cancelled: 0,
    });
  });

  it('work() runs handlers with bounded concurrency, nacks throws, stores results', async () => {
    const q = 'work';
    let running = 0;
    let peak = 0;
    const worker = queue.work<number>(
      q,
      async (job) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        if (job.payload % 10 === 0) throw new Error(`fail ${job.payload}`);
        return job.payload * 2;
      },
      { concurrency: 3, batchSize: 2 },
    );
    const results = await queue.enqueueMany(
      q,
      Array.from({ length: 30 }, (_, i) => ({ payload: i + 1, maxAttempts: 1 })),
    );
    await expect
      .poll(async () => (await queue.counts(q)).completed + (await queue.counts(q)).dead, {
        timeout: 20_000,
      })
      .toBe(30);
    await worker.close();
    expect(peak).toBeLessThanOrEqual(3);
    const counts = await queue.counts(q);
    expect(counts.dead).toBe(3);
    expect((await queue.get(results[4]?.id ?? ''))?.result).toBe(10);
  });

  it('abort() signals running handlers, nacks the ones that throw, and stops', async () => {
    const q = 'abort';
    const { id } = await queue.enqueue(q, 'long', { maxAttempts: 5 });
    let started = false;
    const worker = queue.work(q, (_job, { signal }) => {
      started = true;
      return new Promise<void>((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason as Error));
      });
    });
    await expect.poll(() => started, { timeout: 10_000 }).toBe(true);
    await worker.abort();
    expect(worker.isClosed).toBe(true);
    const info = await queue.get(id);
    expect(info).toMatchObject({ state: 'queued', attempts: 1 });
    expect(info?.lastError).toMatch(/worker stopping/);
  });

  it('stays bounded under worker churn: closed workers are forgotten', async () => {
    const q = 'churn';
    for (let round = 0; round < 50; round++) {
      const workers = Array.from({ length: 4 }, () => queue.work(q, () => undefined));
      expect(queue.activeWorkers).toBe(4);
      await Promise.all(workers.map((w) => w.close()));
    }
    await expect.poll(() => queue.activeWorkers).toBe(0);
    // A worker started after the churn still gets woken exactly as before.
    const seen: unknown[] = [];
    const worker = queue.work(q, (job) => void seen.push(job.payload));
    await queue.enqueue(q, 'after-churn');
    await expect.poll(() => seen, { timeout: 10_000 }).toEqual(['after-churn']);
    await worker.close();
  });

  it('closes idempotently and refuses work afterwards', async () => {
    const q = await open();
    await Promise.all([q.close(), q.close()]);
    expect(q.isClosed).toBe(true);
    const error = await caught(q.enqueue('x', 1));
    expect(isMajraError(error, 'ERR_CLOSED')).toBe(true);
    expect(errors.filter((e) => !isMajraError(e, 'ERR_POSTGRES_UNAVAILABLE'))).toEqual([]);
  });
});

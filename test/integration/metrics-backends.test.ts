// The metrics audit for the backends (see test/unit/metrics-audit.test.ts): each Redis,
// PostgreSQL and SQLite primitive, built with a recording sink and exercised against the
// real service, reports under the names docs/prometheus.md lists.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connectPostgresJobQueue,
  connectPostgresQueueStore,
  connectPostgresWorkflowStore,
  type JobWorker,
  type PostgresJobQueue,
  type PostgresQueueStore,
  type PostgresWorkflowStore,
} from '../../src/backends/postgres/index.js';
import {
  connectRedisHeartbeatTracker,
  connectRedisPubSub,
  connectRedisQueue,
  connectRedisRateLimiter,
  connectRedisSlidingWindowLimiter,
  connectRedisStreamPubSub,
  type RedisHeartbeatTracker,
  type RedisPubSub,
  type RedisQueue,
  type RedisRateLimiter,
  type RedisSlidingWindowLimiter,
  type RedisStreamPubSub,
} from '../../src/backends/redis/index.js';
import { SqliteQueueStore, SqliteWorkflowStore } from '../../src/backends/sqlite/index.js';
import type { StoredJob } from '../../src/queue/index.js';
import { MemoryMetricsSink } from '../../src/testing/index.js';
import { databaseUrl, uniqueName } from '../support/services.js';
import { redisScope } from '../support/redis.js';

const scope = redisScope('metrics');
const schema = uniqueName('majra_metrics');
const admin = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
const closers: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await scope.cleanup();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

function track<T extends { close(): Promise<unknown> }>(resource: T): T {
  closers.push(() => resource.close());
  return resource;
}

const job: StoredJob = {
  id: 'j1',
  seq: 1,
  priority: 2,
  state: 'queued',
  payload: '"x"',
  resources: undefined,
  attempts: 0,
  enqueuedAt: 1,
  startedAt: undefined,
  finishedAt: undefined,
};

describe('metrics audit: SQLite', () => {
  it('SqliteQueueStore counts operations by outcome', () => {
    const metrics = new MemoryMetricsSink();
    const store = track(SqliteQueueStore.inMemory({ metrics }));
    store.insert(job);
    expect(() => store.insert(job)).toThrow();
    expect(store.load()).toHaveLength(1);
    const count = (operation: string, outcome: string) =>
      metrics.counter('majra_sqlite_store_operations_total', {
        store: 'queue',
        operation,
        outcome,
      });
    expect([count('insert', 'ok'), count('insert', 'conflict'), count('load', 'ok')]).toEqual([
      1, 1, 1,
    ]);
  });

  it('SqliteWorkflowStore counts operations, step writes included', async () => {
    const metrics = new MemoryMetricsSink();
    const store = track(SqliteWorkflowStore.open(':memory:', { metrics }));
    await store.createRun(
      {
        id: 'r1',
        workflowId: 'wf',
        definitionHash: 'h',
        status: 'running',
        input: null,
        startedAt: 1,
      },
      'me',
      60_000,
    );
    await store.saveStep('me', {
      runId: 'r1',
      stepId: 's',
      status: 'completed',
      attempt: 1,
      output: 1,
      error: null,
      startedAt: 1,
      completedAt: 2,
      durationMs: 1,
      fallbackStepId: null,
    });
    expect(await store.countRuns()).toBe(1);
    const count = (operation: string) =>
      metrics.counter('majra_sqlite_store_operations_total', {
        store: 'workflow',
        operation,
        outcome: 'ok',
      });
    expect([count('createRun'), count('saveStep'), count('countRuns')]).toEqual([1, 1, 1]);
  });
});

describe('metrics audit: PostgreSQL', () => {
  it('connect migrates and counts it; PostgresQueueStore and PostgresWorkflowStore count operations', async () => {
    const metrics = new MemoryMetricsSink();
    const queueStore: PostgresQueueStore = track(
      await connectPostgresQueueStore({ connectionString: databaseUrl(), schema, metrics }),
    );
    expect(metrics.counter('majra_postgres_migrations_applied_total')).toBeGreaterThan(0);
    await queueStore.insert(job);
    await expect(queueStore.insert(job)).rejects.toThrow();
    expect(await queueStore.load()).toHaveLength(1);
    const workflowStore: PostgresWorkflowStore = track(
      await connectPostgresWorkflowStore({ connectionString: databaseUrl(), schema, metrics }),
    );
    expect(await workflowStore.countRuns()).toBe(0);
    const count = (store: string, operation: string, outcome = 'ok') =>
      metrics.counter('majra_postgres_store_operations_total', { store, operation, outcome });
    expect([
      count('queue', 'insert'),
      count('queue', 'insert', 'conflict'),
      count('queue', 'load'),
      count('workflow', 'countRuns'),
    ]).toEqual([1, 1, 1, 1]);
  });

  it('PostgresJobQueue and JobWorker report jobs and durations', async () => {
    const metrics = new MemoryMetricsSink();
    const queue: PostgresJobQueue = track(
      await connectPostgresJobQueue({ connectionString: databaseUrl(), schema, metrics }),
    );
    await queue.enqueue('q', { n: 1 });
    let done!: () => void;
    const handled = new Promise<void>((resolve) => (done = resolve));
    const worker: JobWorker = queue.work('q', () => done());
    await handled;
    await expect.poll(() => metrics.counter('majra_postgres_jobs_completed_total')).toBe(1);
    await worker.close();
    expect(metrics.counter('majra_postgres_jobs_enqueued_total')).toBe(1);
    expect(metrics.counter('majra_postgres_jobs_claimed_total')).toBe(1);
    expect(metrics.histograms.get('majra_postgres_job_duration_seconds')).toHaveLength(1);
  });
});

describe('metrics audit: Redis', () => {
  it('RedisQueue, RedisRateLimiter, RedisSlidingWindowLimiter, RedisHeartbeatTracker, RedisPubSub, RedisStreamPubSub', async () => {
    const metrics = new MemoryMetricsSink();
    const options = { prefix: scope.prefix, metrics };
    const queue: RedisQueue<number> = track(
      await connectRedisQueue<number>(scope.client(), 'q', options),
    );
    await queue.enqueue(1);
    const got = await queue.dequeue();
    if (got === undefined) throw new Error('no job');
    await queue.ack(got);
    const bucket: RedisRateLimiter = track(
      await connectRedisRateLimiter(scope.client(), 'tb', {
        ...options,
        ratePerSecond: 1,
        burst: 1,
      }),
    );
    const window: RedisSlidingWindowLimiter = track(
      await connectRedisSlidingWindowLimiter(scope.client(), 'sw', {
        ...options,
        maxRequests: 1,
        windowMs: 60_000,
      }),
    );
    for (const limiter of [bucket, window]) {
      expect((await limiter.check('k')).allowed).toBe(true);
      expect((await limiter.check('k')).allowed).toBe(false);
    }
    const heartbeat: RedisHeartbeatTracker = track(
      await connectRedisHeartbeatTracker(scope.client(), 'hb', options),
    );
    await heartbeat.register('n1');
    const hub: RedisPubSub<number> = track(
      await connectRedisPubSub<number>(scope.client(), 'bus', options),
    );
    const rx = await hub.subscribe('a/#');
    await hub.publish('a/b', 1);
    expect((await rx.recv()).payload).toBe(1);
    const stream: RedisStreamPubSub<number> = track(
      await connectRedisStreamPubSub<number>(scope.client(), 'log', options),
    );
    const srx = await stream.subscribe('a/#', { group: 'g' });
    await stream.publish('a/b', 2);
    const entry = await srx.recv();
    expect(entry.payload).toBe(2);
    expect(await stream.ack(entry)).toBe(1);

    expect(metrics.counter('majra_redis_queue_enqueued_total')).toBe(1);
    expect(metrics.counter('majra_redis_queue_delivered_total')).toBe(1);
    expect(metrics.counter('majra_redis_queue_acked_total')).toBe(1);
    for (const limiter of ['token_bucket', 'sliding_window']) {
      const decisions = (outcome: string) =>
        metrics.counter('majra_redis_ratelimit_decisions_total', { limiter, outcome });
      expect([decisions('allowed'), decisions('rejected')], limiter).toEqual([1, 1]);
    }
    expect(metrics.counter('majra_redis_heartbeat_beats_total')).toBe(1);
    expect(metrics.counter('majra_redis_pubsub_messages_total', { direction: 'published' })).toBe(
      1,
    );
    expect(metrics.counter('majra_redis_pubsub_messages_total', { direction: 'delivered' })).toBe(
      1,
    );
    for (const event of ['published', 'delivered', 'acked']) {
      expect(metrics.counter('majra_redis_stream_messages_total', { event }), event).toBe(1);
    }
  });
});

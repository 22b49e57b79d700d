/**
 * The distributed demo (`--redis`, optionally `--postgres`): this process is the
 * coordinator (the workflow engine, its admission queue and the dashboard); the GPU
 * shards run in `--workers` forked worker processes that claim them from a RedisQueue,
 * report completions on RedisPubSub and heartbeats to a RedisHeartbeatTracker. The
 * "external API" is guarded by a Redis token bucket. Workflow runs live in PostgreSQL
 * with `--postgres`, else in the SQLite file of the data directory. Resume after Ctrl-C
 * or a crash works as in the single-process demo.
 *
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { deferred, type Deferred } from '../../core/abort.js';
import type { JsonValue } from '../../core/codec.js';
import { TypedPubSub } from '../../pubsub/typed-pubsub.js';
import { ManagedQueue } from '../../queue/managed-queue.js';
import {
  connectRedisHeartbeatTracker,
  connectRedisPubSub,
  connectRedisQueue,
  connectRedisRateLimiter,
} from '../../backends/redis/index.js';
import { connectPostgresWorkflowStore } from '../../backends/postgres/index.js';
import { SqliteWorkflowStore } from '../../backends/sqlite/index.js';
import { PrometheusSink } from '../../metrics/prometheus/index.js';
import { WorkflowEngine, type StepTicket, type WorkflowStore } from '../../workflow/index.js';
import { CliError, EXIT, redactUrl, serviceError } from '../errors.js';
import { DashboardModel, QueueMeter } from '../model.js';
import { RateMeter } from '../snapshot.js';
import {
  DEMO_PG_SCHEMA,
  DEMO_REDIS_PREFIX,
  LIMITER_NAME,
  NODES_TRACKER,
  PUBSUB_NAME,
  WORK_QUEUE,
} from './distributed-names.js';
import { runSession, type DemoIo, type DemoOptions } from './driver.js';
import { DataDir } from './session.js';
import { journalTo, limitedExternal, type DemoEnv, type WorkTask } from './workflow.js';

async function connect<T>(service: string, url: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    throw serviceError(service, url, error);
  }
}

function forkWorker(redis: string, nodeId: string, gpus: number, stepMs: number): ChildProcess {
  const child = fork(
    new URL('./worker-main.js', import.meta.url),
    ['--redis', redis, '--node', nodeId, '--gpus', String(gpus), '--step-ms', String(stepMs)],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  return child;
}

function runningOf(metadata: unknown): number {
  const running = (metadata as { running?: unknown } | null)?.running;
  return typeof running === 'number' ? running : 0;
}

/** Runs the demo across worker processes; resolves with the exit code. */
export async function runDistributedDemo(options: DemoOptions, io: DemoIo): Promise<number> {
  const redis = options.redis;
  if (redis === undefined) {
    const { runPostgresDemo } = await import('./distributed-pg.js');
    return runPostgresDemo(options, io);
  }
  const dataDir = DataDir.open(options.dataDir);
  const cleanups: (() => unknown)[] = [() => dataDir.close()];
  const cleanup = async (): Promise<void> => {
    for (let fn = cleanups.pop(); fn !== undefined; fn = cleanups.pop()) {
      await Promise.resolve()
        .then(fn)
        .catch(() => undefined);
    }
  };
  try {
    const metrics = new PrometheusSink();
    const onError = (error: Error): void => io.debug(error);
    const redisOptions = { prefix: DEMO_REDIS_PREFIX, metrics, onError };
    const work = await connect('Redis', redis, () =>
      connectRedisQueue<WorkTask>(redis, WORK_QUEUE, redisOptions),
    );
    cleanups.push(() => work.close());
    const bus = await connect('Redis', redis, () =>
      connectRedisPubSub<JsonValue>(redis, PUBSUB_NAME, redisOptions),
    );
    cleanups.push(() => bus.close());
    const beatMs = Math.max(20, Math.min(500, options.stepMs));
    const tracker = await connect('Redis', redis, () =>
      connectRedisHeartbeatTracker(redis, NODES_TRACKER, {
        prefix: DEMO_REDIS_PREFIX,
        metrics,
        suspectAfterMs: beatMs * 4,
        offlineAfterMs: beatMs * 10,
        retainOfflineMs: 60_000,
      }),
    );
    cleanups.push(() => tracker.close());
    const limiter = await connect('Redis', redis, () =>
      connectRedisRateLimiter(redis, LIMITER_NAME, {
        ...redisOptions,
        ratePerSecond: options.short ? 50 : 3,
        burst: 2,
      }),
    );
    cleanups.push(() => limiter.close());
    let store: WorkflowStore;
    if (options.postgres !== undefined) {
      const pg = options.postgres;
      store = await connect('PostgreSQL', pg, () =>
        connectPostgresWorkflowStore({ connectionString: pg, schema: DEMO_PG_SCHEMA }),
      );
    } else {
      try {
        store = SqliteWorkflowStore.open(dataDir.databaseFile);
      } catch (error) {
        throw serviceError('SQLite', dataDir.databaseFile, error);
      }
    }
    cleanups.push(() => store.close());

    const hub = new TypedPubSub<JsonValue>({ replayCapacity: 1, maxReplayTopics: 64, metrics });
    cleanups.push(() => hub.close());
    const waiters = new Map<string, Deferred<string>>();
    const counts = { done: 0, allowed: 0, rejected: 0 };

    const workers: ChildProcess[] = [];
    cleanups.push(async () => {
      for (const child of workers) if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.all(
        workers.map((c) => (c.exitCode === null ? once(c, 'exit') : Promise.resolve())),
      );
    });
    for (let i = 1; i <= options.workers; i++) {
      workers.push(forkWorker(redis, `worker-${i}`, i === 1 ? 2 : 1, options.stepMs));
    }
    await Promise.all(
      workers.map(
        (child, i) =>
          new Promise<void>((resolve, reject) => {
            child.once('message', () => resolve());
            child.once('exit', (code) =>
              reject(
                new CliError(
                  `worker-${i + 1} exited with code ${code} before it was ready (is Redis at ${redactUrl(redis)} reachable?)`,
                  EXIT.unavailable,
                ),
              ),
            );
          }),
      ),
    );

    const stepQueue = new ManagedQueue<StepTicket>({
      name: 'steps',
      capacity: { gpuCount: options.workers + 1, vramMb: (options.workers + 1) * 24_000 },
      maxConcurrency: 2 * (options.workers + 1),
      finishedTtlMs: 60_000,
      metrics,
      onError,
    });
    cleanups.push(() => stepQueue.close());
    const stepsMeter = new QueueMeter('steps');
    stepsMeter.follow(stepQueue as ManagedQueue<unknown>);
    const enqRate = new RateMeter();
    const finRate = new RateMeter();
    let enqueued = 0;
    const model = new DashboardModel({
      source: `redis ${redactUrl(redis)} · ${options.postgres === undefined ? `sqlite ${dataDir.databaseFile}` : `postgres ${redactUrl(options.postgres)}`} · ${options.workers} worker processes`,
      readOnly: true,
      nodes: async () =>
        (await tracker.nodes()).map((n) => ({
          nodeId: n.nodeId,
          status: n.status,
          lastSeenAgoMs: Math.max(0, Date.now() - n.lastSeen),
          running: runningOf(n.metadata),
          queued: 0,
          gpus: n.gpus,
        })),
      queues: async (at) => {
        const s = await work.stats();
        return [
          stepsMeter.view(at),
          {
            name: `redis:${WORK_QUEUE}`,
            queued: s.ready + s.delayed,
            running: s.active,
            completed: counts.done,
            failed: s.dead,
            cancelled: 0,
            enqueuedPerSec: enqRate.sample(at, enqueued),
            finishedPerSec: finRate.sample(at, counts.done),
          },
        ];
      },
      limiters: () => [{ name: LIMITER_NAME, allowed: counts.allowed, rejected: counts.rejected }],
    });
    const engine = new WorkflowEngine({
      store,
      queue: stepQueue,
      engineId: dataDir.engineId,
      leaseMs: 15_000,
      metrics,
      onError,
    });
    cleanups.push(() => engine.close());
    const events = await bus.subscribe('demo/#', { capacity: 4096 });
    const relay = (async () => {
      for await (const message of events) {
        // Worker events reach the dashboard and topic rates through the local hub.
        hub.publish(message.topic, message.payload);
        if (message.topic !== 'demo/jobs/done') continue;
        const done = message.payload as { jobId?: string; nodeId?: string } & WorkTask;
        if (typeof done.jobId !== 'string') continue;
        counts.done++;
        model.setNode(done.runId, done.stepId, String(done.nodeId));
        waiters.get(done.jobId)?.resolve(String(done.nodeId));
        waiters.delete(done.jobId);
      }
    })();
    // Closing the receiver (first, LIFO) ends the relay loop.
    cleanups.push(() => relay.catch(() => undefined));
    cleanups.push(() => events.close());
    const env: DemoEnv = {
      stepMs: options.stepMs,
      work: async (task, signal) => {
        const done = deferred<string>();
        const jobId = await work.enqueue(task);
        enqueued++;
        waiters.set(jobId, done);
        const onAbort = (): void => {
          waiters.delete(jobId);
          done.reject(new Error('aborted'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          return await done.promise;
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      },
      external: limitedExternal(limiter, hub, counts),
      journal: journalTo(dataDir),
    };
    return await runSession({
      options,
      io,
      dataDir,
      engine,
      store,
      hub,
      metrics,
      model,
      env,
      cleanup,
    });
  } finally {
    await cleanup();
  }
}

/**
 * The distributed demo on PostgreSQL alone (`--postgres` without `--redis`): workflow
 * runs in `PostgresWorkflowStore`, GPU shards in the PostgreSQL job queue
 * (`PostgresJobQueue`), executed by forked worker processes that heartbeat to this
 * coordinator over the fork IPC channel (an in-memory `HeartbeatTracker` here). Shard
 * completion is read back from the job's stored result.
 *
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { sleep } from '../../core/abort.js';
import type { JsonValue } from '../../core/codec.js';
import { HeartbeatTracker } from '../../heartbeat/tracker.js';
import type { GpuTelemetry } from '../../heartbeat/types.js';
import { TypedPubSub } from '../../pubsub/typed-pubsub.js';
import { ManagedQueue } from '../../queue/managed-queue.js';
import { RateLimiter } from '../../ratelimit/token-bucket.js';
import {
  connectPostgresJobQueue,
  connectPostgresWorkflowStore,
} from '../../backends/postgres/index.js';
import { PrometheusSink } from '../../metrics/prometheus/index.js';
import { WorkflowEngine, type StepTicket } from '../../workflow/index.js';
import { systemClock } from '../../core/clock.js';
import { CliError, EXIT, redactUrl, serviceError } from '../errors.js';
import { DashboardModel, QueueMeter } from '../model.js';
import { RateMeter } from '../snapshot.js';
import { DEMO_PG_SCHEMA, PG_WORK_QUEUE } from './distributed-names.js';
import { runSession, type DemoIo, type DemoOptions } from './driver.js';
import { DataDir } from './session.js';
import { journalTo, limitedExternal, type DemoEnv, type WorkTask } from './workflow.js';

interface Beat {
  readonly type: 'beat' | 'ready';
  readonly nodeId: string;
  readonly running?: number;
  readonly gpus?: GpuTelemetry[];
}

/** Runs the PostgreSQL-only distributed demo; resolves with the exit code. */
export async function runPostgresDemo(options: DemoOptions, io: DemoIo): Promise<number> {
  const pg = options.postgres ?? '';
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
    const connect = async <T>(open: () => Promise<T>): Promise<T> => {
      try {
        return await open();
      } catch (error) {
        throw serviceError('PostgreSQL', pg, error);
      }
    };
    const store = await connect(() =>
      connectPostgresWorkflowStore({ connectionString: pg, schema: DEMO_PG_SCHEMA }),
    );
    cleanups.push(() => store.close());
    const jobs = await connect(() =>
      connectPostgresJobQueue({ connectionString: pg, schema: DEMO_PG_SCHEMA, onError }),
    );
    cleanups.push(() => jobs.close());
    const hub = new TypedPubSub<JsonValue>({ replayCapacity: 1, maxReplayTopics: 64, metrics });
    cleanups.push(() => hub.close());
    const limiter = new RateLimiter({ ratePerSecond: options.short ? 50 : 3, burst: 2, metrics });
    cleanups.push(() => limiter.close());
    const beatMs = Math.max(20, Math.min(500, options.stepMs));
    const tracker = new HeartbeatTracker({
      suspectAfterMs: beatMs * 4,
      offlineAfterMs: beatMs * 10,
      metrics,
    });
    cleanups.push(() => tracker.close());
    const running = new Map<string, number>();
    const sweeper = tracker.startSweeper(beatMs);
    cleanups.push(sweeper);
    tracker.on('transition', (t) => {
      hub.publish(`demo/nodes/${t.to}`, { nodeId: t.nodeId, from: t.from, to: t.to });
    });

    const workers: ChildProcess[] = [];
    cleanups.push(async () => {
      for (const child of workers) if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.all(
        workers.map((c) => (c.exitCode === null ? once(c, 'exit') : Promise.resolve())),
      );
    });
    const ready: Promise<void>[] = [];
    for (let i = 1; i <= options.workers; i++) {
      const nodeId = `worker-${i}`;
      const child = fork(
        new URL('./pg-worker-main.js', import.meta.url),
        [
          '--postgres',
          pg,
          '--node',
          nodeId,
          '--gpus',
          i === 1 ? '2' : '1',
          '--step-ms',
          String(options.stepMs),
        ],
        { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
      );
      child.on('message', (message: Beat) => {
        const update = message.gpus === undefined ? {} : { gpus: message.gpus };
        if (tracker.get(message.nodeId) === undefined) tracker.register(message.nodeId, update);
        else tracker.beat(message.nodeId, update);
        running.set(message.nodeId, message.running ?? 0);
      });
      workers.push(child);
      ready.push(
        new Promise<void>((resolve, reject) => {
          child.on('message', (m: Beat) => {
            if (m.type === 'ready') resolve();
          });
          child.once('exit', (code) =>
            reject(
              new CliError(
                `${nodeId} exited with code ${code} before it was ready (is PostgreSQL at ${redactUrl(pg)} reachable?)`,
                EXIT.unavailable,
              ),
            ),
          );
        }),
      );
    }
    await Promise.all(ready);

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
    const rates = { enq: new RateMeter(), fin: new RateMeter(), enqueued: 0 };
    const model = new DashboardModel({
      source: `postgres ${redactUrl(pg)} (${DEMO_PG_SCHEMA}) · ${options.workers} worker processes`,
      readOnly: true,
      nodes: () => {
        const now = systemClock.monotonic();
        return [...running.keys()].map((nodeId) => {
          const state = tracker.get(nodeId);
          return {
            nodeId,
            status: state?.status ?? 'offline',
            lastSeenAgoMs: state === undefined ? 0 : Math.max(0, Math.round(now - state.lastSeen)),
            running: running.get(nodeId) ?? 0,
            queued: 0,
            gpus: state?.gpus ?? [],
          };
        });
      },
      queues: async (at) => {
        const c = await jobs.counts(PG_WORK_QUEUE);
        return [
          stepsMeter.view(at),
          {
            name: `postgres:${PG_WORK_QUEUE}`,
            queued: c.queued,
            running: c.running,
            completed: c.completed,
            failed: c.dead,
            cancelled: c.cancelled,
            enqueuedPerSec: rates.enq.sample(at, rates.enqueued),
            finishedPerSec: rates.fin.sample(at, c.completed + c.dead + c.cancelled),
          },
        ];
      },
      limiters: () => {
        const s = limiter.stats();
        return [{ name: 'external-api', allowed: s.allowed, rejected: s.rejected }];
      },
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
    const pollMs = Math.max(10, Math.min(250, Math.round(options.stepMs / 2)));
    const env: DemoEnv = {
      stepMs: options.stepMs,
      work: async (task: WorkTask, signal) => {
        const { id } = await jobs.enqueue(PG_WORK_QUEUE, task);
        rates.enqueued++;
        try {
          for (;;) {
            await sleep(pollMs, { signal });
            const info = await jobs.get<WorkTask>(id);
            if (info?.state === 'completed') {
              const nodeId = String((info.result as { nodeId?: unknown } | null)?.nodeId);
              model.setNode(task.runId, task.stepId, nodeId);
              hub.publish('demo/jobs/done', { ...task, jobId: id, nodeId });
              return nodeId;
            }
            if (info === undefined || info.state === 'dead' || info.state === 'cancelled') {
              throw new Error(`shard job ${id} ${info?.state ?? 'vanished'}`);
            }
          }
        } catch (error) {
          if (signal.aborted) await jobs.cancel(id).catch(() => undefined);
          throw error;
        }
      },
      external: limitedExternal(limiter, hub),
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

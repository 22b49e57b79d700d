/**
 * `majra demo` in one process: a durable SQLite workflow store under the data directory,
 * a WorkflowEngine admitting step attempts through a ManagedQueue with GPU resources,
 * GPU steps executed on the simulated fleet (FleetQueue + HeartbeatTracker), a token
 * bucket in front of the "external API", progress on TypedPubSub, the terminal view and
 * the dashboard. Stopped with SIGINT it releases its leases; started again it resumes the
 * same runs.
 *
 * @module
 */
import type { JsonValue } from '../../core/codec.js';
import { TypedPubSub } from '../../pubsub/typed-pubsub.js';
import { ManagedQueue } from '../../queue/managed-queue.js';
import { RateLimiter } from '../../ratelimit/token-bucket.js';
import { SqliteWorkflowStore } from '../../backends/sqlite/index.js';
import { PrometheusSink } from '../../metrics/prometheus/index.js';
import { WorkflowEngine, type StepTicket } from '../../workflow/index.js';
import { serviceError } from '../errors.js';
import { DashboardModel, QueueMeter } from '../model.js';
import { LocalFleet } from './local-fleet.js';
import { DataDir } from './session.js';
import { runSession, type DemoOptions, type DemoIo } from './driver.js';
import { journalTo, limitedExternal, type DemoEnv } from './workflow.js';

/** Runs the single-process demo; resolves with the exit code. */
export async function runLocalDemo(options: DemoOptions, io: DemoIo): Promise<number> {
  const dataDir = DataDir.open(options.dataDir);
  const cleanups: (() => unknown)[] = [() => dataDir.close()];
  const cleanup = async (): Promise<void> => {
    // Last created, first closed; each only once (the session and this function both call it).
    for (let fn = cleanups.pop(); fn !== undefined; fn = cleanups.pop()) {
      await Promise.resolve()
        .then(fn)
        .catch(() => undefined);
    }
  };
  try {
    const metrics = new PrometheusSink();
    const onError = (error: Error): void => io.debug(error);
    let store: SqliteWorkflowStore;
    try {
      store = SqliteWorkflowStore.open(dataDir.databaseFile);
    } catch (error) {
      throw serviceError('SQLite', dataDir.databaseFile, error);
    }
    cleanups.push(() => store.close());
    const hub = new TypedPubSub<JsonValue>({ replayCapacity: 1, maxReplayTopics: 64, metrics });
    cleanups.push(() => hub.close());
    const limiter = new RateLimiter({
      ratePerSecond: options.short ? 50 : 3,
      burst: 2,
      metrics,
    });
    cleanups.push(() => limiter.close());
    const fleet = new LocalFleet({
      stepMs: options.stepMs,
      flakyNode: !options.short,
      metrics,
      onError,
      onDone: (task, nodeId) => {
        model.setNode(task.runId, task.stepId, nodeId);
        hub.publish('demo/jobs/done', { ...task, nodeId });
      },
    });
    cleanups.push(() => fleet.close());
    fleet.tracker.on('transition', (t) => {
      hub.publish(`demo/nodes/${t.to}`, { nodeId: t.nodeId, from: t.from, to: t.to });
      io.view.log(`node ${t.nodeId} ${t.from} -> ${t.to}`);
    });
    const stepQueue = new ManagedQueue<StepTicket>({
      name: 'steps',
      capacity: { gpuCount: 4, vramMb: 96_000 },
      maxConcurrency: 8,
      finishedTtlMs: 60_000,
      metrics,
      onError,
    });
    cleanups.push(() => stepQueue.close());
    const meters = [new QueueMeter('steps'), ...fleet.queues().map((q) => new QueueMeter(q.name))];
    meters[0]?.follow(stepQueue as ManagedQueue<unknown>);
    fleet.queues().forEach((q, i) => meters[i + 1]?.follow(q));
    const model = new DashboardModel({
      source: `sqlite ${dataDir.databaseFile}`,
      readOnly: true,
      nodes: () => fleet.views(),
      queues: (at) => meters.map((m) => m.view(at)),
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
    // The engine releases its leases on close; it must close before the queue and store.
    cleanups.push(() => engine.close());
    const env: DemoEnv = {
      stepMs: options.stepMs,
      work: (task, signal) => fleet.work(task, signal),
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

/**
 * The data behind `majra dashboard`: opens the given sources read-only, polls them into
 * a {@link DashboardModel}, and serves the page until interrupted.
 *
 * @module
 */
import Database from 'better-sqlite3';
import { sleep } from '../core/abort.js';
import type { JsonValue } from '../core/codec.js';
import { TypedPubSub } from '../pubsub/typed-pubsub.js';
import {
  connectRedisHeartbeatTracker,
  connectRedisPubSub,
  connectRedisQueue,
} from '../backends/redis/index.js';
import { PostgresWorkflowStore } from '../backends/postgres/index.js';
import { SqliteWorkflowStore } from '../backends/sqlite/index.js';
import { PrometheusSink } from '../metrics/prometheus/index.js';
import type { WorkflowDefinition } from '../workflow/dag.js';
import type { WorkflowStore } from '../workflow/types.js';
import type { DashboardOptions } from './dashboard-command.js';
import { CliError, EXIT, describeError, redactUrl, serviceError } from './errors.js';
import { DashboardModel } from './model.js';
import { DashboardServer } from './server.js';
import { SNAPSHOT_TOPIC, type NodeView, type QueueView } from './snapshot.js';
import { DEMO_WORKFLOW_ID, demoDefinition } from './demo/workflow.js';

async function open<T>(service: string, url: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw serviceError(service, url, error);
  }
}

async function openStore(options: DashboardOptions): Promise<WorkflowStore | undefined> {
  if (options.postgres !== undefined) {
    const url = options.postgres;
    const store = new PostgresWorkflowStore({ connectionString: url, schema: options.schema });
    // No migration: a read-only view must not create schemas. One query checks it all.
    await open('PostgreSQL', url, () => store.listRuns({ limit: 1 })).catch(async (e: unknown) => {
      await store.close().catch(() => undefined);
      throw e;
    });
    return store;
  }
  if (options.sqlite !== undefined) {
    const file = options.sqlite;
    return open('SQLite', file, () => {
      const database = new Database(file, { readonly: true, fileMustExist: true });
      return new SqliteWorkflowStore(database);
    });
  }
  return undefined;
}

/** The definition to draw a run's edges with: the demo's, else none (steps only). */
function definitionFor(workflowId: string, stepIds: readonly string[]): WorkflowDefinition {
  if (workflowId === DEMO_WORKFLOW_ID) {
    const shards = stepIds.filter((id) => id.startsWith('shard-')).length;
    const known = demoDefinition(Math.max(1, shards));
    if (known.steps.every((s) => stepIds.includes(s.id))) return known;
  }
  return { id: workflowId, steps: stepIds.map((id) => ({ id })) };
}

/** Serves the dashboard for `options` until `signal` aborts. */
export async function serveDeployment(
  options: DashboardOptions,
  signal: AbortSignal,
): Promise<void> {
  const closers: (() => unknown)[] = [];
  const closeAll = async (): Promise<void> => {
    for (let fn = closers.pop(); fn !== undefined; fn = closers.pop()) {
      await Promise.resolve()
        .then(fn)
        .catch(() => undefined);
    }
  };
  try {
    const metrics = new PrometheusSink();
    const hub = new TypedPubSub<JsonValue>({ replayCapacity: 1, maxReplayTopics: 64, metrics });
    closers.push(() => hub.close());
    const store = await openStore(options);
    if (store !== undefined) closers.push(() => store.close());

    let nodes: () => Promise<NodeView[]> = () => Promise.resolve([]);
    let queues: (at: number) => Promise<QueueView[]> = () => Promise.resolve([]);
    const rejected = { count: 0 };
    const sources: string[] = [];
    const model = new DashboardModel(
      {
        source: '',
        readOnly: true,
        nodes: () => nodes(),
        queues: (at) => queues(at),
        limiters: () =>
          options.redis === undefined
            ? []
            : [{ name: `${options.pubsub} rejections`, allowed: 0, rejected: rejected.count }],
      },
      options.runs,
    );
    if (options.redis !== undefined) {
      const url = options.redis;
      const redisOptions = { prefix: options.prefix, metrics };
      sources.push(`redis ${redactUrl(url)}`);
      const tracker = await open('Redis', url, () =>
        connectRedisHeartbeatTracker(url, options.nodes, redisOptions),
      );
      closers.push(() => tracker.close());
      const redisQueues = await Promise.all(
        options.queues.map((name) =>
          open('Redis', url, () => connectRedisQueue(url, name, redisOptions)),
        ),
      );
      for (const q of redisQueues) closers.push(() => q.close());
      const bus = await open('Redis', url, () =>
        connectRedisPubSub<JsonValue>(url, options.pubsub, redisOptions),
      );
      closers.push(() => bus.close());
      const receiver = await open('Redis', url, () => bus.subscribe('#', { capacity: 4096 }));
      const relay = (async () => {
        for await (const message of receiver) {
          model.topics.count(message.topic);
          if (message.topic.endsWith('/ratelimit/rejected')) rejected.count++;
        }
      })();
      closers.push(() => relay.catch(() => undefined));
      closers.push(() => receiver.close());
      nodes = async () =>
        (await tracker.nodes()).map((n) => ({
          nodeId: n.nodeId,
          status: n.status,
          lastSeenAgoMs: Math.max(0, Date.now() - n.lastSeen),
          running: 0,
          queued: 0,
          gpus: n.gpus,
        }));
      queues = () =>
        Promise.all(
          redisQueues.map(async (q, i) => {
            const s = await q.stats();
            return {
              name: `redis:${options.queues[i] ?? ''}`,
              queued: s.ready + s.delayed,
              running: s.active,
              completed: 0,
              failed: s.dead,
              cancelled: 0,
              enqueuedPerSec: 0,
              // Redis keeps no completion history; rates are shown by the demo only.
              finishedPerSec: 0,
            };
          }),
        );
    }
    if (options.postgres !== undefined)
      sources.push(`postgres ${redactUrl(options.postgres)} (${options.schema})`);
    if (options.sqlite !== undefined) sources.push(`sqlite ${options.sqlite}`);
    const source = sources.join(' · ');

    const refresh = async (): Promise<void> => {
      if (store !== undefined) {
        const runs = (await store.listRuns({ limit: 1000 })).slice(-options.runs);
        model.runs.clear();
        for (const run of runs) {
          const steps = await store.getSteps(run.id);
          const view = model.addRun(
            run.id,
            definitionFor(
              run.workflowId,
              steps.map((s) => s.stepId),
            ),
            steps,
          );
          view.status = run.status;
          view.startedAt = run.startedAt;
          view.completedAt = run.completedAt;
          for (const s of view.steps) {
            const record = steps.find((r) => r.stepId === s.id);
            if (record?.status === 'running') s.status = 'running';
          }
        }
      }
      const snapshot = { ...(await model.snapshot()), source };
      hub.publish(SNAPSHOT_TOPIC, snapshot as unknown as JsonValue);
      latest = snapshot;
    };
    let latest: unknown;
    await refresh();
    const server = await DashboardServer.start({
      port: options.port,
      hub,
      metrics,
      snapshot: async () => {
        latest ??= await model.snapshot();
        return latest as Awaited<ReturnType<DashboardModel['snapshot']>>;
      },
      onError: () => undefined,
    });
    closers.push(() => server.close());
    process.stdout.write(
      `majra dashboard · ${source} · read-only\ndashboard: ${server.url}\nCtrl-C stops\n`,
    );
    for (;;) {
      // Rejects (ending the loop) when Ctrl-C aborts the signal.
      const stop = await sleep(options.intervalMs, { signal }).then(
        () => false,
        () => true,
      );
      if (stop) break;
      await refresh().catch((error: unknown) => {
        process.stderr.write(`majra dashboard: refresh failed: ${describeError(error)}\n`);
      });
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`majra dashboard: ${describeError(error)}`, EXIT.failure);
  } finally {
    await closeAll();
  }
}

/**
 * One demo session, whatever the backends: registers the workflow, starts the session's
 * runs or resumes the interrupted ones, pumps engine events into the model, the terminal
 * view and pub/sub, publishes dashboard snapshots, and ends when every run finished or
 * on SIGINT (leases released, so the next start resumes at once).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { JsonValue } from '../../core/codec.js';
import type { PrometheusSink } from '../../metrics/prometheus/index.js';
import type { TypedPubSub } from '../../pubsub/typed-pubsub.js';
import type { WorkflowEngine } from '../../workflow/engine.js';
import type { WorkflowStore } from '../../workflow/types.js';
import { CliError, EXIT, describeError } from '../errors.js';
import type { DashboardModel } from '../model.js';
import type { ProgressView } from '../progress.js';
import { DashboardServer } from '../server.js';
import { SNAPSHOT_TOPIC } from '../snapshot.js';
import type { DataDir } from './session.js';
import { DEMO_WORKFLOW_ID, demoDefinition, demoExecutors, type DemoEnv } from './workflow.js';

/** Parsed flags of `majra demo`. */
export interface DemoOptions {
  readonly runs: number;
  readonly shards: number;
  readonly stepMs: number;
  readonly short: boolean;
  readonly dataDir: string;
  readonly port: number;
  readonly dashboard: boolean;
  readonly linger: boolean;
  readonly workers: number;
  readonly redis?: string | undefined;
  readonly postgres?: string | undefined;
}

/** Where the demo writes and what stops it. */
export interface DemoIo {
  readonly view: ProgressView;
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  /** Background errors (shown with --verbose). */
  debug(error: Error): void;
}

/** Everything {@link runSession} drives. */
export interface SessionParts {
  readonly options: DemoOptions;
  readonly io: DemoIo;
  readonly dataDir: DataDir;
  readonly engine: WorkflowEngine;
  readonly store: WorkflowStore;
  readonly hub: TypedPubSub<JsonValue>;
  readonly metrics: PrometheusSink;
  readonly model: DashboardModel;
  readonly env: DemoEnv;
  readonly cleanup: () => Promise<void>;
}

function newRunIds(count: number): string[] {
  const stamp = Date.now().toString(36);
  const salt = randomBytes(2).toString('hex');
  return Array.from({ length: count }, (_, i) => `run-${stamp}${salt}-${i + 1}`);
}

function stopped(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Runs one session to completion or interruption; resolves with the exit code. */
export async function runSession(parts: SessionParts): Promise<number> {
  const { options, io, dataDir, engine, store, hub, model, env } = parts;
  const { view } = io;
  const previous = dataDir.readSession();
  const shards = previous?.shards ?? options.shards;
  const runIds = previous?.runIds ?? newRunIds(options.runs);
  if (previous === undefined) {
    dataDir.writeSession({ runIds, shards, startedAt: Date.now() });
  } else if (previous.shards !== options.shards || previous.runIds.length !== options.runs) {
    view.log(
      `resuming the interrupted session (${runIds.length} runs, ${shards} shards); flags for a new session apply once it completes`,
    );
  }
  const definition = demoDefinition(shards);
  engine.register(definition, demoExecutors(shards, env));

  const stopCounting = hub.on('#', (_payload, topic) => model.topics.count(topic));
  const events = engine.events({ capacity: 4096 });
  const pump = (async () => {
    for await (const event of events) {
      model.apply(event);
      view.event(event);
      const kind = event.type === 'run' ? 'runs' : 'steps';
      hub.publish(`demo/${kind}/${event.status}`, event);
    }
  })();

  let server: DashboardServer | undefined;
  if (options.dashboard) {
    server = await DashboardServer.start({
      port: options.port,
      hub,
      metrics: parts.metrics,
      snapshot: () => model.snapshot(),
      onError: (error) => io.debug(error),
    });
  }
  view.header([
    `majra demo · ${runIds.length} workflow runs · data ${dataDir.path}`,
    server === undefined
      ? 'dashboard: off'
      : `dashboard: ${server.url}  (metrics: ${server.url}metrics)`,
    'Ctrl-C stops; run it again to resume where it stopped',
  ]);

  const waits: Promise<unknown>[] = [];
  const ticking = { on: true };
  const ticker = (async () => {
    while (ticking.on) {
      const snapshot = await model.snapshot();
      hub.publish(SNAPSHOT_TOPIC, snapshot as unknown as JsonValue);
      view.frame(snapshot);
      await new Promise((r) => setTimeout(r, view.live ? 120 : 250));
    }
  })();

  try {
    for (const runId of runIds) {
      if (io.signal.aborted) break;
      const run = await store.getRun(runId);
      if (run === undefined) {
        model.addRun(runId, definition);
        await engine.start(DEMO_WORKFLOW_ID, { shards }, { runId });
        waits.push(engine.wait(runId));
        continue;
      }
      const records = await store.getSteps(runId);
      model.addRun(runId, definition, records, run.status !== 'completed');
      if (run.status === 'completed' || run.status === 'cancelled') {
        const state = model.runs.get(runId);
        if (state !== undefined) state.status = run.status;
        continue;
      }
      const done = records.filter((r) => r.status === 'completed' || r.status === 'skipped');
      view.log(
        `resuming ${runId}: ${done.length} of ${definition.steps.length} steps already done, they will not run again`,
      );
      await engine.resume(runId);
      waits.push(engine.wait(runId));
    }
    const all = Promise.allSettled(waits);
    await Promise.race([all, stopped(io.signal)]);
    if (io.signal.aborted) {
      ticking.on = false;
      await ticker;
      view.stop();
      view.log('interrupted: leases released; run `majra demo` again to resume');
      return EXIT.interrupted;
    }
    const results = await all;
    const failed = results.filter(
      (r) =>
        r.status === 'rejected' ||
        (r.value as { status?: string } | undefined)?.status !== 'completed',
    ).length;
    model.done = true;
    ticking.on = false;
    await ticker;
    const final = await model.snapshot();
    hub.publish(SNAPSHOT_TOPIC, final as unknown as JsonValue);
    view.frame(final);
    view.stop();
    dataDir.clearSession();
    view.log(
      failed === 0
        ? `done: ${runIds.length} runs completed`
        : `done: ${failed} of ${runIds.length} runs did not complete`,
    );
    if (options.linger && server !== undefined) {
      view.log(`dashboard still at ${server.url} · Ctrl-C to exit`);
      await stopped(io.signal);
    }
    return failed === 0 ? EXIT.ok : EXIT.failure;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`demo failed: ${describeError(error)}`, EXIT.failure);
  } finally {
    ticking.on = false;
    await ticker.catch(() => undefined);
    view.stop();
    await server?.close();
    stopCounting();
    // Closing the engine ends the event stream and with it the pump.
    await parts.cleanup();
    await pump.catch(() => undefined);
  }
}

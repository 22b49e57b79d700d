/**
 * The demo's workflow: fetch (a rate-limited external call) → split → N GPU shards (run
 * on the worker fleet, fan-out) → merge (fan-in) → publish. The definition and the
 * executors are shared by the in-process and the distributed demo; only the
 * {@link DemoEnv} differs.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { WorkflowDefinition } from '../../workflow/dag.js';
import type { StepContext, StepExecutor } from '../../workflow/step-context.js';
import { sleep } from '../../core/abort.js';

/** Id of the demo workflow in the store. */
export const DEMO_WORKFLOW_ID = 'majra-demo';

/** A unit of GPU work handed to the fleet. */
// A type alias (not an interface) so it is assignable to JsonValue for the fleet.
export type WorkTask = {
  runId: string;
  stepId: string;
  attempt: number;
  durationMs: number;
  resources: { gpuCount: number; vramMb: number };
};

/** What the executors need from their surroundings. */
export interface DemoEnv {
  /** Base duration of a step in ms. */
  readonly stepMs: number;
  /** Runs `task` on some worker node; resolves with the node's id. */
  work(task: WorkTask, signal: AbortSignal): Promise<string>;
  /** One call to the rate-limited external service (waits for a token first). */
  external(signal: AbortSignal): Promise<void>;
  /** Called when an attempt starts and when it ends (the demo's execution journal). */
  journal(event: 'start' | 'done', ctx: StepContext, node?: string): void;
}

/** What the demo's external call needs from a limiter: the in-memory or the Redis one. */
interface DemoLimiter {
  check(
    key: string,
  ):
    | { readonly allowed: boolean; readonly retryAfterMs: number }
    | Promise<{ readonly allowed: boolean; readonly retryAfterMs: number }>;
}

/**
 * The demo's rate-limited external call: waits for a token, announcing each rejection on
 * `demo/ratelimit/rejected` (the dashboard counts them) and in `counts` when given.
 */
export function limitedExternal(
  limiter: DemoLimiter,
  hub: { publish(topic: string, payload: { retryAfterMs: number }): unknown },
  counts?: { allowed: number; rejected: number },
): DemoEnv['external'] {
  return async (signal) => {
    for (;;) {
      const decision = await limiter.check('external-api');
      if (decision.allowed) {
        if (counts !== undefined) counts.allowed++;
        return;
      }
      if (counts !== undefined) counts.rejected++;
      hub.publish('demo/ratelimit/rejected', { retryAfterMs: decision.retryAfterMs });
      await sleep(decision.retryAfterMs, { signal });
    }
  };
}

/** The execution journal line of one attempt event (the kill/resume test reads it). */
export function journalTo(dataDir: { journal(line: string): void }): DemoEnv['journal'] {
  return (event, ctx, node) => {
    dataDir.journal(
      `${process.pid} ${ctx.runId} ${ctx.stepId} ${ctx.attempt} ${event}${node === undefined ? '' : ` ${node}`}`,
    );
  };
}

function hash(text: string): number {
  return createHash('sha1').update(text).digest().readUInt32BE(0);
}

/** Ids of the shard steps for `shards` shards. */
export function shardIds(shards: number): string[] {
  return Array.from({ length: shards }, (_, i) => `shard-${i + 1}`);
}

/** The demo's DAG with `shards` parallel GPU steps. */
export function demoDefinition(shards: number): WorkflowDefinition {
  const shardsIds = shardIds(shards);
  return {
    id: DEMO_WORKFLOW_ID,
    steps: [
      { id: 'fetch', retry: { maxAttempts: 3, backoff: 'fixed', delayMs: 100 } },
      { id: 'split', dependsOn: ['fetch'] },
      ...shardsIds.map((id, i) => ({
        id,
        dependsOn: ['split'],
        resources: { gpuCount: 1, vramMb: 8000 + 4000 * (i % 3) },
        retry: { maxAttempts: 4, backoff: 'exponential' as const, delayMs: 50, jitter: 0.2 },
      })),
      { id: 'merge', dependsOn: shardsIds },
      { id: 'publish', dependsOn: ['merge'], onError: 'continue' as const },
    ],
  };
}

/** The executors of {@link demoDefinition}. */
export function demoExecutors(shards: number, env: DemoEnv): Record<string, StepExecutor> {
  const local =
    (factor: number, body?: (ctx: StepContext) => Promise<void>): StepExecutor =>
    async (ctx) => {
      env.journal('start', ctx);
      if (body !== undefined) await body(ctx);
      await sleep(env.stepMs * factor, { signal: ctx.signal });
      env.journal('done', ctx);
      return { step: ctx.stepId, attempt: ctx.attempt };
    };
  const executors: Record<string, StepExecutor> = {
    fetch: local(1, (ctx) => env.external(ctx.signal)),
    split: local(0.5),
    merge: local(1),
    publish: local(0.5, (ctx) => env.external(ctx.signal)),
  };
  shardIds(shards).forEach((id, i) => {
    executors[id] = async (ctx) => {
      env.journal('start', ctx);
      const h = hash(`${ctx.runId}/${id}`);
      // One shard in five fails its first attempt, to show retries on the dashboard.
      const flaky = h % 5 === 0 && ctx.attempt === 1;
      const durationMs = Math.round(env.stepMs * (2 + (h % 4)) * (flaky ? 0.5 : 1));
      const node = await env.work(
        {
          runId: ctx.runId,
          stepId: id,
          attempt: ctx.attempt,
          durationMs,
          resources: { gpuCount: 1, vramMb: 8000 + 4000 * (i % 3) },
        },
        ctx.signal,
      );
      if (flaky) throw new Error(`simulated GPU fault on ${node}`);
      env.journal('done', ctx, node);
      return { shard: id, node, attempt: ctx.attempt };
    };
  });
  return executors;
}

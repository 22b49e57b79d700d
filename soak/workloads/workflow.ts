// WorkflowEngine runs on a given store with injected failures: a step that fails its first
// attempt and is retried, a step replaced by its fallback, a step failing under 'continue'
// and, for some runs, a step that fails the run. Every run must reach the terminal state
// its input dictates, and every step that completed must have succeeded exactly once.
import type { JsonValue } from '../../src/core/codec.js';
import { WorkflowEngine } from '../../src/workflow/engine.js';
import type { StepContext } from '../../src/workflow/step-context.js';
import type { WorkflowStore } from '../../src/workflow/types.js';
import { describe, IdLedger, paced, Window, type SoakContext, type Workload } from '../lib.js';

const DEFINITION = {
  id: 'soak',
  steps: [
    { id: 'fetch', retry: { maxAttempts: 3, backoff: 'fixed' as const, delayMs: 5 } },
    { id: 'parse', dependsOn: ['fetch'] },
    {
      id: 'enrich',
      dependsOn: ['fetch'],
      retry: { maxAttempts: 2, backoff: 'fixed' as const, delayMs: 2 },
      onError: { fallback: 'enrich-fallback' },
    },
    { id: 'enrich-fallback' },
    {
      id: 'flaky',
      dependsOn: ['fetch'],
      retry: { maxAttempts: 2, backoff: 'fixed' as const, delayMs: 2 },
      onError: 'continue' as const,
    },
    { id: 'join', dependsOn: ['parse', 'enrich', 'flaky'] },
  ],
};

/** What a run with input `n` must end as. */
function expectation(n: number) {
  return {
    status: n % 11 === 0 ? 'failed' : 'completed',
    enrich: n % 5 === 0 ? 'fallback' : 'enriched',
    flaky: n % 7 === 0 ? 'failed' : 'completed',
  };
}

export interface WorkflowLoad {
  readonly name: string;
  readonly store: WorkflowStore;
  readonly runsPerSecond: number;
  readonly inFlight: number;
  /** Closes the store and removes its files / schema. */
  readonly dispose: () => Promise<void>;
}

export function startWorkflows(ctx: SoakContext, load: WorkflowLoad): Workload {
  const name = load.name;
  const engine = new WorkflowEngine({
    store: load.store,
    maxParallelSteps: 4,
    onError: (error) => ctx.fail(`${name}: engine: ${describe(error)}`),
  });
  // Successful executions per run and step: proves completed steps ran exactly once.
  const successes = new Map<string, Map<string, number>>();
  const ok = (c: StepContext, output: JsonValue): JsonValue => {
    // A sibling aborted by a failing run may still return: the engine ignores that result,
    // and recording it would re-create the entry of a run already verified.
    if (c.signal.aborted) return output;
    let perStep = successes.get(c.runId);
    if (perStep === undefined) successes.set(c.runId, (perStep = new Map<string, number>()));
    perStep.set(c.stepId, (perStep.get(c.stepId) ?? 0) + 1);
    return output;
  };
  const nOf = (c: StepContext): number => (c.input as { n: number }).n;
  let retried = 0;
  engine.register(DEFINITION, {
    fetch: (c) => {
      if (nOf(c) % 4 === 0 && c.attempt === 1) {
        retried++;
        throw new Error('injected: fetch attempt 1');
      }
      return ok(c, { n: nOf(c), attempt: c.attempt });
    },
    parse: (c) => {
      if (nOf(c) % 11 === 0) throw new Error('injected: parse fails the run');
      return ok(c, 'parsed');
    },
    enrich: async (c) => {
      await new Promise((resolve) => setImmediate(resolve));
      if (nOf(c) % 5 === 0) throw new Error('injected: enrich always fails');
      return ok(c, 'enriched');
    },
    'enrich-fallback': (c) => ok(c, 'fallback'),
    flaky: (c) => {
      if (nOf(c) % 7 === 0) throw new Error('injected: flaky fails');
      return ok(c, 'steady');
    },
    join: (c) => ok(c, Object.keys(c.results).sort().join(',')),
  });

  const ledger = new IdLedger();
  const window = new Window(load.inFlight);
  const tally = { completed: 0, failed: 0, steps: 0 };

  const runOne = async (n: number): Promise<void> => {
    let runId: string | undefined;
    try {
      runId = await engine.start('soak', { n });
      const result = await engine.wait(runId);
      ctx.retain(result);
      const want = expectation(n);
      const problems: string[] = [];
      if (result.status !== want.status) problems.push(`status ${result.status}`);
      if (want.status === 'completed') {
        const output = result.output as Record<string, JsonValue>;
        if (output['enrich'] !== want.enrich)
          problems.push(`enrich ${JSON.stringify(output['enrich'])}`);
        if (result.steps['flaky']?.status !== want.flaky) problems.push('flaky status');
        if (output['join'] !== 'enrich,flaky,parse') problems.push('join inputs');
        const fetch = output['fetch'] as { attempt: number } | undefined;
        if (fetch?.attempt !== (n % 4 === 0 ? 2 : 1)) problems.push('fetch attempts');
      }
      const perStep = successes.get(runId) ?? new Map<string, number>();
      for (const [stepId, count] of perStep) {
        if (count !== 1) problems.push(`step ${stepId} succeeded ${count} times`);
      }
      for (const [stepId, step] of Object.entries(result.steps)) {
        // A step replaced by its fallback completes through the fallback's execution.
        const by = stepId === 'enrich' && n % 5 === 0 ? 'enrich-fallback' : stepId;
        const executed = perStep.get(by) ?? 0;
        if (step.status === 'completed' && executed !== 1) {
          problems.push(`step ${stepId} completed after ${executed} successful executions`);
        }
      }
      tally.steps += [...perStep.values()].reduce((a, b) => a + b, 0);
      if (result.status === 'completed') tally.completed++;
      else tally.failed++;
      if (problems.length > 0) ctx.fail(`${name}: run n=${n}: ${problems.join('; ')}`);
    } catch (error) {
      ctx.fail(`${name}: run n=${n} did not finish: ${describe(error)}`);
    } finally {
      if (runId !== undefined) successes.delete(runId);
      if (!ledger.settle(n)) ctx.fail(`${name}: run n=${n} settled twice`);
      window.release();
    }
  };

  const producer = paced(ctx.signal, load.runsPerSecond, async () => {
    await window.acquire();
    void runOne(ledger.issue());
  });

  return {
    name,
    async stop() {
      await producer;
      const failures: string[] = [];
      if (!(await window.drained(30_000))) {
        failures.push(`${name}: ${window.inFlight} runs not terminal 30 s after stop`);
      }
      await engine.close();
      await load.dispose();
      failures.push(...ledger.verify(`${name} runs`));
      return {
        ops: tally.completed + tally.failed,
        unit: 'runs',
        counts: { started: ledger.issued, ...tally, retried },
        failures,
      };
    },
  };
}

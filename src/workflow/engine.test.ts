import { describe, expect, it } from 'vitest';
import { codeOf, useEngines } from '../../test/support/workflow-engine.js';
import { deferred } from '../core/abort.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { WorkflowEngine } from './engine.js';
import type { WorkflowEvent } from './events.js';
import { MemoryWorkflowStore } from './memory-store.js';
import type { StepContext } from './step-context.js';

const engine = useEngines();

describe('WorkflowEngine: running', () => {
  it('runs a→b, passes results downstream, and stores one record per step', async () => {
    const store = new MemoryWorkflowStore();
    const e = engine({ store });
    e.register(
      { id: 'wf', steps: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }] },
      {
        a: () => 42,
        b: ({ results, input }) => ({ upstream: results['a']?.output, input }),
      },
    );
    const runId = await e.start('wf', { hello: 'x' });
    const result = await e.wait(runId);
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ a: 42, b: { upstream: 42, input: { hello: 'x' } } });
    expect(result.error).toBeNull();
    const records = await store.getSteps(runId);
    expect(records.map((r) => [r.stepId, r.status, r.attempt])).toEqual([
      ['a', 'completed', 1],
      ['b', 'completed', 1],
    ]);
    const run = await store.getRun(runId);
    expect(run).toMatchObject({ status: 'completed', owner: null, input: { hello: 'x' } });
    await store.close();
  });

  it('passes only the results of dependencies, with attempt, runId and a live signal', async () => {
    const seen: StepContext[] = [];
    const e = engine();
    e.register(
      { id: 'wf', steps: [{ id: 'a' }, { id: 'b' }, { id: 'c', dependsOn: ['b'] }] },
      { a: () => 1, b: () => 2, c: (ctx) => void seen.push(ctx) },
    );
    const runId = await e.start('wf');
    await e.wait(runId);
    const [ctx] = seen;
    expect(Object.keys(ctx?.results ?? {})).toEqual(['b']);
    expect(ctx).toMatchObject({
      runId,
      workflowId: 'wf',
      stepId: 'c',
      attempt: 1,
      input: null,
      isResume: false,
    });
    expect(ctx?.signal.aborted).toBe(false);
  });

  it('returns the run id before the run finishes', async () => {
    const gate = deferred<undefined>();
    const e = engine();
    e.register({ id: 'wf', steps: [{ id: 'a' }] }, { a: () => gate.promise });
    const runId = await e.start('wf');
    expect(e.activeRuns).toBe(1);
    gate.resolve(undefined);
    expect((await e.wait(runId)).status).toBe('completed');
    expect(e.activeRuns).toBe(0);
    // A finished run is still reported from the store.
    expect((await e.wait(runId)).output).toEqual({ a: null });
  });

  it('retries a failing step and records the attempt that succeeded', async () => {
    let calls = 0;
    const attempts: number[] = [];
    const e = engine();
    e.register(
      { id: 'wf', steps: [{ id: 'a', retry: { maxAttempts: 3, delayMs: 0 } }] },
      {
        a: ({ attempt }) => {
          attempts.push(attempt);
          if (++calls < 3) throw new Error(`fail ${calls}`);
          return 'ok';
        },
      },
    );
    const runId = await e.start('wf');
    const result = await e.wait(runId);
    expect(result.status).toBe('completed');
    expect(attempts).toEqual([1, 2, 3]);
    const [record] = await e.store.getSteps(runId);
    expect(record).toMatchObject({ status: 'completed', attempt: 3, output: 'ok' });
  });

  it('fails the run under the default `fail` policy with the step and its error named', async () => {
    const e = engine();
    e.register(
      { id: 'wf', steps: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }] },
      {
        a: () => {
          throw new Error('always fails');
        },
        b: () => 'never',
      },
    );
    const result = await e.wait(await e.start('wf'));
    expect(result.status).toBe('failed');
    expect(result.error).toBe("step 'a' failed: always fails");
    expect(result.output).toBeNull();
    expect(result.steps['b']).toBeUndefined();
  });

  it('continues after a `continue` failure; `all` dependents still run and see it', async () => {
    const e = engine();
    e.register(
      {
        id: 'wf',
        steps: [
          { id: 'a', onError: 'continue' },
          { id: 'b', dependsOn: ['a'] },
        ],
      },
      {
        a: () => Promise.reject(new Error('nope')),
        b: ({ results }) => results['a']?.status,
      },
    );
    const runId = await e.start('wf');
    const result = await e.wait(runId);
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ b: 'failed' });
    expect(result.steps['a']).toEqual({
      status: 'failed',
      output: null,
      error: "step 'a' failed: nope",
    });
  });

  it('records `skip` failures as skipped, with the error kept', async () => {
    const e = engine();
    e.register(
      { id: 'wf', steps: [{ id: 'a', onError: 'skip' }] },
      {
        a: () => {
          throw new Error('meh');
        },
      },
    );
    const runId = await e.start('wf');
    expect((await e.wait(runId)).status).toBe('completed');
    const [record] = await e.store.getSteps(runId);
    expect(record).toMatchObject({ status: 'skipped', error: "step 'a' failed: meh" });
  });

  it('turns thrown non-Error values into error text', async () => {
    const e = engine();
    e.register(
      {
        id: 'wf',
        steps: [
          { id: 's', onError: 'continue' },
          { id: 'o', onError: 'continue' },
          { id: 'u', onError: 'continue' },
        ],
      },
      {
        // Executors written by users may throw anything; that is what this test covers.
        s: () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error
          throw 'plain string';
        },
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        o: () => Promise.reject({ reason: 'object' }),
        u: () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error
          throw undefined;
        },
      },
    );
    const result = await e.wait(await e.start('wf'));
    expect(result.steps['s']?.error).toBe("step 's' failed: plain string");
    expect(result.steps['o']?.error).toBe('step \'o\' failed: {"reason":"object"}');
    expect(result.steps['u']?.error).toMatch(/^step 'u' failed: /);
  });

  it('fails a step whose result cannot be stored, and stores nothing corrupt', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const e = engine({ maxResultBytes: 64 });
    e.register(
      {
        id: 'wf',
        steps: [
          { id: 'big', onError: 'continue' },
          { id: 'bigint', onError: 'continue' },
          { id: 'cycle', onError: 'continue' },
        ],
      },
      { big: () => 'x'.repeat(100), bigint: () => 10n, cycle: () => cyclic },
    );
    const runId = await e.start('wf');
    const result = await e.wait(runId);
    expect(result.status).toBe('completed');
    for (const id of ['big', 'bigint', 'cycle']) {
      expect(result.steps[id]?.status).toBe('failed');
    }
    expect(result.steps['big']?.error).toContain('over the limit of 64');
    expect(result.output).toEqual({});
    expect((await e.store.getSteps(runId)).every((r) => r.output === null)).toBe(true);
  });

  it('rejects an input JSON cannot hold, an unknown workflow, and stores no run', async () => {
    const e = engine();
    e.register({ id: 'wf', steps: [{ id: 'a' }] }, { a: () => 1 });
    expect(await codeOf(e.start('wf', 1n))).toBe('ERR_WORKFLOW_RESULT_NOT_SERIALIZABLE');
    expect(await codeOf(e.start('nope'))).toBe('ERR_WORKFLOW_NOT_REGISTERED');
    expect(await codeOf(e.start('wf', null, { runId: '' }))).toBe('ERR_INVALID_ARGUMENT');
    expect(await e.store.countRuns()).toBe(0);
    expect(await codeOf(e.wait('nope'))).toBe('ERR_WORKFLOW_RUN_NOT_FOUND');
  });

  it('refuses a reused run id and leaves the stored run alone', async () => {
    const e = engine();
    e.register({ id: 'wf', steps: [{ id: 'a' }] }, { a: () => 1 });
    await e.wait(await e.start('wf', 1, { runId: 'fixed' }));
    expect(await codeOf(e.start('wf', 2, { runId: 'fixed' }))).toBe('ERR_WORKFLOW_RUN_EXISTS');
    expect((await e.store.getRun('fixed'))?.input).toBe(1);
  });
});

describe('WorkflowEngine: register', () => {
  it('validates executors against the steps', async () => {
    const e = engine();
    const d = {
      id: 'wf',
      steps: [{ id: 'a' }, { id: 'f' }, { id: 'b', onError: { fallback: 'f' } }],
    };
    expect(await codeOf(() => e.register(d, { a: () => 1, b: () => 1 }))).toBe(
      'ERR_WORKFLOW_INVALID_DEFINITION',
    );
    expect(await codeOf(() => e.register(d, { a: () => 1, b: () => 1, f: 'x' as never }))).toBe(
      'ERR_WORKFLOW_INVALID_DEFINITION',
    );
    expect(
      await codeOf(() => e.register(d, { a: () => 1, b: () => 1, f: () => 1, extra: () => 1 })),
    ).toBe('ERR_WORKFLOW_INVALID_DEFINITION');
    e.register(
      d,
      new Map([
        ['a', () => 1],
        ['b', () => 1],
        ['f', () => 1],
      ]),
    );
    expect(await codeOf(() => e.register(d, { a: () => 1, b: () => 1, f: () => 1 }))).toBe(
      'ERR_WORKFLOW_ALREADY_REGISTERED',
    );
    expect(e.tiers('wf')).toEqual([['a', 'b']]);
  });

  it('caps registered workflows and validates options', async () => {
    const e = engine({ maxWorkflows: 1 });
    e.register({ id: 'one', steps: [{ id: 'a' }] }, { a: () => 1 });
    expect(
      await codeOf(() => e.register({ id: 'two', steps: [{ id: 'a' }] }, { a: () => 1 })),
    ).toBe('ERR_CAPACITY_EXCEEDED');
    for (const bad of [
      { maxParallelSteps: 0 },
      { leaseMs: 1 },
      { leaseMs: 100, renewEveryMs: 100 },
      { maxActiveRuns: 0 },
      { engineId: '' },
      { random: 3 as never },
      { maxResultBytes: -1 },
    ]) {
      expect(await codeOf(() => new WorkflowEngine(bad))).toBe('ERR_INVALID_ARGUMENT');
    }
  });
});

describe('WorkflowEngine: events and metrics', () => {
  it('emits run and step transitions in order', async () => {
    const e = engine();
    e.register(
      { id: 'wf', steps: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }] },
      { a: () => 1, b: () => 2 },
    );
    const stream = e.events();
    const runId = await e.start('wf');
    await e.wait(runId);
    const seen: string[] = [];
    for await (const event of stream) {
      seen.push(event.type === 'run' ? `run:${event.status}` : `${event.stepId}:${event.status}`);
      if (event.type === 'run' && event.status === 'completed') break;
    }
    expect(seen).toEqual([
      'run:running',
      'a:running',
      'a:completed',
      'b:running',
      'b:completed',
      'run:completed',
    ]);
    expect(stream.ended).toBe(true);
  });

  it('hands a rejected first attempt on to the retries, with its events and records in order', async () => {
    const e = engine();
    e.register(
      {
        id: 'wf',
        steps: [{ id: 'a' }, { id: 'b', dependsOn: ['a'], retry: { maxAttempts: 2, delayMs: 0 } }],
      },
      {
        a: () => 1,
        b: ({ attempt }) => (attempt === 1 ? Promise.reject(new Error('once')) : attempt),
      },
    );
    const stream = e.events();
    const runId = await e.start('wf');
    expect((await e.wait(runId)).status).toBe('completed');
    const seen: string[] = [];
    for await (const event of stream) {
      if (event.type === 'run') {
        if (event.status === 'completed') break;
        continue;
      }
      seen.push(`${event.stepId}:${event.status}:${event.attempt}:${event.error ?? ''}`);
    }
    expect(seen).toEqual([
      'a:running:1:',
      'a:completed:1:',
      'b:running:1:',
      'b:pending:1:once',
      'b:running:2:',
      'b:completed:2:',
    ]);
    const records = await e.store.getSteps(runId);
    expect(records.map((r) => [r.stepId, r.status, r.attempt, r.output])).toEqual([
      ['a', 'completed', 1, 1],
      ['b', 'completed', 2, 2],
    ]);
    const [a, b] = records;
    // b starts when a completes (one clock reading), and its times are ordered.
    expect(b?.startedAt).toBe(a?.completedAt);
    expect(b?.completedAt).toBeGreaterThanOrEqual(b?.startedAt ?? Infinity);
  });

  it('keeps a slow reader bounded and counts what it lost', async () => {
    const e = engine();
    const steps = Array.from({ length: 20 }, (_, i) => ({ id: `s${i}` }));
    e.register({ id: 'wf', steps }, Object.fromEntries(steps.map((s) => [s.id, () => 1])));
    const stream = e.events({ capacity: 4 });
    await e.wait(await e.start('wf'));
    expect(stream.lag).toBe(42 - 4);
    const first: WorkflowEvent[] = [];
    for await (const event of stream) {
      first.push(event);
      if (first.length === 4) break;
    }
    expect(first.at(-1)).toMatchObject({ type: 'run', status: 'completed' });
  });

  it('ends streams on abort and on close, and caps open streams', async () => {
    const e = engine({ maxEventStreams: 2 });
    const controller = new AbortController();
    const a = e.events({ signal: controller.signal });
    const b = e.events();
    expect(await codeOf(() => e.events())).toBe('ERR_CAPACITY_EXCEEDED');
    controller.abort();
    expect(a.ended).toBe(true);
    const c = e.events();
    await e.close();
    expect(b.ended && c.ended).toBe(true);
  });

  it('reports runs, steps, retries and durations to the metrics sink', async () => {
    const metrics = new MemoryMetricsSink();
    let calls = 0;
    const e = engine({ metrics });
    e.register(
      {
        id: 'wf',
        steps: [
          { id: 'a', retry: { maxAttempts: 2, delayMs: 0 } },
          { id: 'b', onError: 'skip' },
        ],
      },
      {
        a: async () => {
          if (++calls === 1) throw new Error('once');
          await new Promise((resolve) => setTimeout(resolve, 20));
        },
        b: () => {
          throw new Error('b');
        },
      },
    );
    await e.wait(await e.start('wf'));
    // Durations are in seconds (the Prometheus base unit): 20 ms of work is 0.02, not 20.
    const [runSeconds] =
      metrics.histograms.get('majra_workflow_run_duration_seconds{status=completed}') ?? [];
    expect(runSeconds).toBeGreaterThanOrEqual(0.015);
    expect(runSeconds).toBeLessThan(10);
    expect(metrics.counter('majra_workflow_runs_total', { event: 'started' })).toBe(1);
    expect(metrics.counter('majra_workflow_runs_total', { event: 'completed' })).toBe(1);
    expect(metrics.counter('majra_workflow_steps_total', { outcome: 'completed' })).toBe(1);
    expect(metrics.counter('majra_workflow_steps_total', { outcome: 'skipped' })).toBe(1);
    expect(metrics.counter('majra_workflow_steps_total', { outcome: 'retried' })).toBe(1);
    expect(metrics.gauge('majra_workflow_runs_active')).toBe(0);
    expect(metrics.gauge('majra_workflow_steps_running')).toBe(0);
    expect(
      metrics.histograms.get('majra_workflow_run_duration_seconds{status=completed}'),
    ).toHaveLength(1);
  });
});

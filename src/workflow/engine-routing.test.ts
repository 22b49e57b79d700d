// Fallback steps and the `any` trigger: which steps run, skip or fail, in what order.
import { describe, expect, it } from 'vitest';
import { useEngines } from '../../test/support/workflow-engine.js';
import { deferred } from '../core/abort.js';
import type { StepContext } from './step-context.js';

const engine = useEngines();

describe('WorkflowEngine: fallback', () => {
  const definition = (fbOnError?: 'fail' | 'continue') => ({
    id: 'wf',
    steps: [
      { id: 'a', onError: { fallback: 'fb' } },
      { id: 'fb', ...(fbOnError === undefined ? {} : { onError: fbOnError }) },
      { id: 'b', dependsOn: ['a'] },
    ],
  });

  it('runs the fallback step in place of the failed one and files its output under it', async () => {
    const seen: StepContext[] = [];
    const e = engine();
    e.register(definition(), {
      a: () => {
        throw new Error('primary down');
      },
      fb: (ctx) => {
        seen.push(ctx);
        return 'from fallback';
      },
      b: ({ results }) => results['a'],
    });
    const runId = await e.start('wf');
    const result = await e.wait(runId);
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({
      a: 'from fallback',
      b: { status: 'completed', output: 'from fallback', error: null },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      stepId: 'fb',
      fallbackFor: { stepId: 'a', error: 'primary down' },
    });
    const records = await e.store.getSteps(runId);
    expect(records.find((r) => r.stepId === 'a')).toMatchObject({
      status: 'completed',
      fallbackStepId: 'fb',
    });
    expect(records.some((r) => r.stepId === 'fb')).toBe(false);
  });

  it('never runs a fallback step on its own', async () => {
    let fbCalls = 0;
    const e = engine();
    e.register(definition(), { a: () => 1, fb: () => ++fbCalls, b: () => 2 });
    expect((await e.wait(await e.start('wf'))).output).toEqual({ a: 1, b: 2 });
    expect(fbCalls).toBe(0);
  });

  it("applies the fallback step's own policy when it fails too", async () => {
    const failing = {
      a: () => {
        throw new Error('a down');
      },
      fb: () => {
        throw new Error('fb down');
      },
      b: () => 'b',
    };
    const strict = engine();
    strict.register(definition(), failing);
    const failed = await strict.wait(await strict.start('wf'));
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe("step 'a' failed: a down; fallback 'fb' failed: fb down");

    const lenient = engine();
    lenient.register(definition('continue'), failing);
    const done = await lenient.wait(await lenient.start('wf'));
    expect(done.status).toBe('completed');
    expect(done.steps['a']?.status).toBe('failed');
    expect(done.output).toEqual({ b: 'b' });
  });
});

describe('WorkflowEngine: `any` trigger', () => {
  it('starts an `any` step as soon as one dependency completes', async () => {
    const slow = deferred<string>();
    const order: string[] = [];
    const e = engine();
    e.register(
      {
        id: 'wf',
        steps: [
          { id: 'fast' },
          { id: 'slow' },
          { id: 'join', dependsOn: ['fast', 'slow'], trigger: 'any' },
        ],
      },
      {
        fast: () => order.push('fast'),
        slow: async () => {
          await slow.promise;
          order.push('slow');
        },
        join: () => order.push('join'),
      },
    );
    const runId = await e.start('wf');
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['fast', 'join']);
    slow.resolve('x');
    expect((await e.wait(runId)).status).toBe('completed');
  });

  it('skips an `any` step when every dependency failed, recording it, keyed correctly', async () => {
    const e = engine();
    e.register(
      {
        id: 'wf',
        steps: [
          { id: 'x', onError: 'continue' },
          { id: 'y', onError: 'continue' },
          { id: 'join', dependsOn: ['x', 'y'], trigger: 'any' },
          { id: 'after', dependsOn: ['x'] },
        ],
      },
      {
        x: () => {
          throw new Error('x');
        },
        y: () => {
          throw new Error('y');
        },
        join: () => 'should not run',
        after: () => 'after ran',
      },
    );
    const runId = await e.wait(await e.start('wf'));
    expect(runId.steps['join']).toEqual({
      status: 'skipped',
      output: null,
      error: 'no dependency completed',
    });
    expect(runId.output).toEqual({ after: 'after ran' });
    const records = await e.store.getSteps(runId.runId);
    expect(records.find((r) => r.stepId === 'join')?.status).toBe('skipped');
  });

  it('runs the regression graph a; b←a; d(any)←a,b without a false cycle', async () => {
    const e = engine();
    e.register(
      {
        id: 'wf',
        steps: [
          { id: 'a' },
          { id: 'b', dependsOn: ['a'] },
          { id: 'd', dependsOn: ['a', 'b'], trigger: 'any' },
        ],
      },
      { a: () => 'a', b: () => 'b', d: ({ results }) => Object.keys(results).sort() },
    );
    const result = await e.wait(await e.start('wf'));
    expect(result.status).toBe('completed');
    expect(result.output).toMatchObject({ a: 'a', b: 'b' });
  });
});

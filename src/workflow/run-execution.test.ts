import { describe, expect, it } from 'vitest';
import { WorkflowEngine } from './engine.js';
import type { WorkflowEvent } from './events.js';
import { MemoryWorkflowStore } from './memory-store.js';
import type { StepRecord } from './types.js';

/** A store whose step writes settle out of call order: the engine must await each. */
class UnorderedStore extends MemoryWorkflowStore {
  override readonly writesInOrder = false as unknown as true;
  #n = 0;
  override saveStep(owner: string, record: StepRecord): Promise<boolean> {
    const delay = this.#n++ % 3;
    return new Promise((resolve) => setTimeout(resolve, delay)).then(() =>
      super.saveStep(owner, record),
    );
  }
}

describe('RunExecution with a store that does not write in order', () => {
  it('awaits skips, outcomes and fallbacks before dependents and events', async () => {
    const store = new UnorderedStore();
    const engine = new WorkflowEngine({ store });
    engine.register(
      {
        id: 'wf',
        steps: [
          { id: 'x', onError: 'continue' },
          { id: 'j1', dependsOn: ['x'], trigger: 'any' },
          { id: 'j2', dependsOn: ['j1'], trigger: 'any' },
          { id: 'p', onError: { fallback: 'fb' } },
          { id: 'fb' },
          { id: 'last', dependsOn: ['p', 'j2'], trigger: 'any' },
        ],
      },
      {
        x: () => {
          throw new Error('x down');
        },
        j1: () => 'no',
        j2: () => 'no',
        p: () => Promise.reject(new Error('p down')),
        fb: ({ fallbackFor }) => `covered ${fallbackFor?.stepId ?? ''}`,
        last: ({ results }) => results['p']?.output,
      },
    );
    const events = engine.events();
    const result = await engine.wait(await engine.start('wf'));
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ p: 'covered p', last: 'covered p' });
    expect(result.steps['j2']).toMatchObject({ status: 'skipped' });
    const records = await store.getSteps(result.runId);
    const status = Object.fromEntries(records.map((r) => [r.stepId, r.status]));
    expect(status).toEqual({
      x: 'failed',
      j1: 'skipped',
      j2: 'skipped',
      p: 'completed',
      last: 'completed',
    });
    expect(records.find((r) => r.stepId === 'p')?.fallbackStepId).toBe('fb');
    await engine.close();
    const seen: WorkflowEvent[] = [];
    for await (const event of events) seen.push(event);
    const finals = seen.filter((e) => e.type === 'step' && e.status !== 'running');
    expect(finals.map((e) => (e.type === 'step' ? `${e.stepId}:${e.status}` : ''))).toEqual(
      expect.arrayContaining(['x:failed', 'j1:skipped', 'j2:skipped', 'p:completed']),
    );
    expect(seen.at(-1)).toMatchObject({ type: 'run', status: 'completed' });
  });

  it('cancels a step that has a timeout through its own signal, and ignores one that never reads it', async () => {
    const engine = new WorkflowEngine();
    const seen: AbortSignal[] = [];
    engine.register(
      {
        id: 't',
        steps: [
          { id: 'reads', timeoutMs: 60_000 },
          { id: 'ignores', timeoutMs: 60_000 },
        ],
      },
      {
        reads: ({ signal }) =>
          new Promise((_, reject) => {
            seen.push(signal);
            signal.addEventListener('abort', () => reject(new Error('stopped')));
          }),
        ignores: () => new Promise(() => undefined),
      },
    );
    const runId = await engine.start('t');
    await new Promise((resolve) => setImmediate(resolve));
    await engine.cancel(runId, 'enough');
    const result = await engine.wait(runId);
    expect(result.status).toBe('cancelled');
    expect(seen[0]?.aborted).toBe(true);
    expect((seen[0]?.reason as Error).message).toContain('cancelled: enough');
    await engine.close();
  });
});

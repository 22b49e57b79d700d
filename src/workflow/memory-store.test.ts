import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../core/codec.js';
import { MemoryWorkflowStore } from './memory-store.js';
import type { StepRecord } from './types.js';

function record(output: JsonValue): StepRecord {
  return {
    runId: 'r',
    stepId: 's',
    status: 'completed',
    attempt: 1,
    output,
    error: null,
    startedAt: 1,
    completedAt: 2,
    durationMs: 1,
    fallbackStepId: null,
  };
}

/** A store holding run `r`, leased by owner `o`. */
async function storeWithRun(): Promise<MemoryWorkflowStore> {
  const store = new MemoryWorkflowStore();
  const run = { id: 'r', workflowId: 'w', definitionHash: 'h', input: null, startedAt: 1 };
  await store.createRun({ ...run, status: 'running' }, 'o', 1000);
  return store;
}

describe('MemoryWorkflowStore copies', () => {
  it('stores a copy of outputs, own __proto__ keys and non-plain values included', async () => {
    const store = await storeWithRun();
    const output = JSON.parse('{"__proto__":{"x":1},"list":[1,{"deep":[true,null]}]}') as JsonValue;
    expect(await store.saveStep('o', record(output))).toBe(true);
    (output as { list: unknown[] }).list.push(2);
    const [saved] = await store.getSteps('r');
    expect(Object.keys(saved?.output as object)).toEqual(['__proto__', 'list']);
    expect(Object.getPrototypeOf(saved?.output)).toBe(Object.prototype);
    expect(JSON.stringify(saved?.output)).toBe(
      '{"__proto__":{"x":1},"list":[1,{"deep":[true,null]}]}',
    );
    const date = new Date(5);
    await store.saveStep('o', record({ at: date } as unknown as JsonValue));
    const [withDate] = await store.getSteps('r');
    expect((withDate?.output as unknown as { at: Date }).at).toEqual(date);
    await store.close();
  });

  it('updates the run in place without leaking it to callers', async () => {
    const store = await storeWithRun();
    const before = await store.getRun('r');
    await store.updateRun('r', 'o', { status: 'completed', output: { a: 1 }, completedAt: 3 });
    expect(before?.status).toBe('running');
    const after = await store.getRun('r');
    expect(after).toMatchObject({ status: 'completed', output: { a: 1 }, owner: null });
    (after?.output as { a: number }).a = 2;
    expect((await store.getRun('r'))?.output).toEqual({ a: 1 });
    await store.close();
  });
});

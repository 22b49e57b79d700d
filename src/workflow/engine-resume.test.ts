// Durable resume and leases on the memory store (the SQLite crash test lives in
// test/integration/workflow-sqlite-crash.test.ts).
import { describe, expect, it } from 'vitest';
import { step as record } from '../../test/conformance/workflow-store-fixtures.js';
import { codeOf, useEngines } from '../../test/support/workflow-engine.js';
import { deferred } from '../core/abort.js';
import { BackendError, isMajraError } from '../core/errors.js';
import { ManualClock, flushMicrotasks } from '../testing/manual-clock.js';
import { validateDefinition, type WorkflowDefinition } from './dag.js';
import { WorkflowEngine } from './engine.js';
import { MemoryWorkflowStore } from './memory-store.js';
import type { StepContext } from './step-context.js';

const engine = useEngines();

const chain: WorkflowDefinition = {
  id: 'chain',
  steps: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }, { id: 'c', dependsOn: ['b'] }],
};

/** Writes what a crashed engine leaves behind: a completed, b mid-attempt 1, lease live for 1 s. */
async function crashedRun(store: MemoryWorkflowStore, runId = 'r1'): Promise<void> {
  const hash = validateDefinition(chain).hash;
  await store.createRun(
    {
      id: runId,
      workflowId: 'chain',
      definitionHash: hash,
      status: 'running',
      input: { n: 7 },
      startedAt: 0,
    },
    'dead-engine',
    1000,
  );
  await store.saveStep('dead-engine', record(runId, 'a', { status: 'completed', output: 'A' }));
  await store.saveStep('dead-engine', record(runId, 'b', { status: 'running', attempt: 1 }));
}

function counting() {
  const calls: Record<string, StepContext[]> = { a: [], b: [], c: [] };
  const executors = {
    a: (ctx: StepContext) => void calls['a']?.push(ctx),
    b: (ctx: StepContext) => {
      calls['b']?.push(ctx);
      return { fromA: ctx.results['a']?.output };
    },
    c: (ctx: StepContext) => {
      calls['c']?.push(ctx);
      return 'C';
    },
  };
  return { calls, executors };
}

describe('WorkflowEngine: resume', () => {
  it('skips completed steps, re-runs the interrupted one with the next attempt, and completes', async () => {
    const clock = new ManualClock();
    const store = new MemoryWorkflowStore({ clock });
    await crashedRun(store);
    const e = engine({ store, clock, leaseMs: 1000 });
    const { calls, executors } = counting();
    e.register(chain, executors);

    expect(await codeOf(e.resume('r1'))).toBe('ERR_WORKFLOW_LEASE_HELD');
    clock.advance(1000);
    expect(await e.resume('r1')).toBe(true);
    const result = await e.wait('r1');
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ a: 'A', b: { fromA: 'A' }, c: 'C' });
    expect(calls['a']).toHaveLength(0);
    expect(calls['b']?.map((c) => [c.attempt, c.isResume, c.input])).toEqual([[2, true, { n: 7 }]]);
    expect(calls['c']?.map((c) => c.attempt)).toEqual([1]);
    const records = await store.getSteps('r1');
    expect(records.map((r) => [r.stepId, r.status, r.attempt])).toEqual([
      ['a', 'completed', 1],
      ['b', 'completed', 2],
      ['c', 'completed', 1],
    ]);
    expect(await store.getRun('r1')).toMatchObject({
      status: 'completed',
      owner: null,
      error: null,
    });
  });

  it('returns false for completed and cancelled runs and throws for unknown ones', async () => {
    const e = engine({});
    const { executors } = counting();
    e.register(chain, executors);
    const runId = await e.start('chain');
    await e.wait(runId);
    expect(await e.resume(runId)).toBe(false);
    expect(await codeOf(e.resume('missing'))).toBe('ERR_WORKFLOW_RUN_NOT_FOUND');
  });

  it('leaves a run alone when it finished between its read and the claim', async () => {
    const store = new MemoryWorkflowStore();
    const first = engine({ store });
    const { executors } = counting();
    first.register(chain, executors);
    const runId = await first.start('chain');
    const running = await store.getRun(runId);
    await first.wait(runId);
    // The resuming engine read the run while it was still running.
    class StaleRead extends MemoryWorkflowStore {
      override getRun(id: string) {
        return id === runId && running !== undefined
          ? Promise.resolve({ ...running, owner: null, leaseExpiresAt: null })
          : store.getRun(id);
      }
      override claimRun(id: string, owner: string, leaseMs: number) {
        return store.claimRun(id, owner, leaseMs);
      }
      override updateRun(...args: Parameters<MemoryWorkflowStore['updateRun']>) {
        return store.updateRun(...args);
      }
      override releaseRun(id: string, owner: string) {
        return store.releaseRun(id, owner);
      }
      override getSteps(id: string) {
        return store.getSteps(id);
      }
    }
    const second = engine({ store: new StaleRead() });
    second.register(chain, executors);
    expect(await second.resume(runId)).toBe(false);
    expect(await store.getRun(runId)).toMatchObject({ status: 'completed', owner: null });
  });

  it('refuses a changed definition and an unregistered workflow', async () => {
    const clock = new ManualClock();
    const store = new MemoryWorkflowStore({ clock });
    await crashedRun(store);
    clock.advance(1000);
    const other = engine({ store, clock });
    expect(await codeOf(other.resume('r1'))).toBe('ERR_WORKFLOW_NOT_REGISTERED');
    other.register(
      { id: 'chain', steps: [{ id: 'a' }, { id: 'b' }, { id: 'c', dependsOn: ['b'] }] },
      counting().executors,
    );
    expect(await codeOf(other.resume('r1'))).toBe('ERR_WORKFLOW_DEFINITION_MISMATCH');
    expect((await store.getRun('r1'))?.owner).toBe('dead-engine');
  });

  it('retries a failed run: the failed step runs again, completed ones do not', async () => {
    const store = new MemoryWorkflowStore();
    const first = engine({ store });
    let aCalls = 0;
    first.register(chain, {
      a: () => ++aCalls,
      b: () => {
        throw new Error('b broken');
      },
      c: () => 'C',
    });
    const runId = await first.start('chain');
    expect((await first.wait(runId)).status).toBe('failed');

    const second = engine({ store });
    const { calls, executors } = counting();
    second.register(chain, { ...executors, a: () => ++aCalls });
    expect(await second.resume(runId)).toBe(true);
    const result = await second.wait(runId);
    expect(result).toMatchObject({ status: 'completed', error: null });
    expect(aCalls).toBe(1);
    expect(calls['b']?.map((c) => c.attempt)).toEqual([2]);
  });

  it('lets exactly one of two engines resume the same run at once', async () => {
    const clock = new ManualClock();
    const store = new MemoryWorkflowStore({ clock });
    await crashedRun(store);
    clock.advance(1000);
    const { calls, executors } = counting();
    const one = engine({ store, clock, engineId: 'one' });
    const two = engine({ store, clock, engineId: 'two' });
    one.register(chain, executors);
    two.register(chain, executors);
    const outcomes = await Promise.allSettled([one.resume('r1'), two.resume('r1')]);
    const won = outcomes.filter((o) => o.status === 'fulfilled' && o.value);
    const lost = outcomes.filter((o) => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(isMajraError((lost[0] as PromiseRejectedResult).reason, 'ERR_WORKFLOW_LEASE_HELD')).toBe(
      true,
    );
    const winner = outcomes[0]?.status === 'fulfilled' ? one : two;
    expect((await winner.wait('r1')).status).toBe('completed');
    expect(calls['b']).toHaveLength(1);
    expect(calls['c']).toHaveLength(1);
  });

  it('resumes the same run only once when asked twice on one engine', async () => {
    const clock = new ManualClock();
    const store = new MemoryWorkflowStore({ clock });
    await crashedRun(store);
    clock.advance(1000);
    const { calls, executors } = counting();
    const e = engine({ store, clock });
    e.register(chain, executors);
    expect(await Promise.all([e.resume('r1'), e.resume('r1')])).toEqual([true, true]);
    await e.wait('r1');
    expect(calls['b']).toHaveLength(1);
  });

  it('resumeInterrupted picks up every abandoned run and reports the ones it cannot run', async () => {
    const clock = new ManualClock();
    const store = new MemoryWorkflowStore({ clock });
    await crashedRun(store, 'r1');
    clock.advance(1);
    await crashedRun(store, 'r2');
    await store.createRun(
      {
        id: 'alien',
        workflowId: 'unknown-wf',
        definitionHash: 'x',
        status: 'running',
        input: null,
        startedAt: 0,
      },
      'dead-engine',
      1,
    );
    clock.advance(1000);
    const e = engine({ store, clock });
    e.register(chain, counting().executors);
    const outcome = await e.resumeInterrupted();
    expect(outcome.resumed).toEqual(['r1', 'r2']);
    expect(outcome.skipped.map((s) => [s.runId, s.error.code])).toEqual([
      ['alien', 'ERR_WORKFLOW_NOT_REGISTERED'],
    ]);
    expect((await e.wait('r1')).status).toBe('completed');
    expect((await e.wait('r2')).status).toBe('completed');
    expect((await e.resumeInterrupted()).resumed).toEqual([]);
  });

  it('does not re-run a step recorded as skipped', async () => {
    const clock = new ManualClock();
    const store = new MemoryWorkflowStore({ clock });
    await crashedRun(store);
    await store.saveStep('dead-engine', record('r1', 'b', { status: 'skipped', error: 'x' }));
    clock.advance(1000);
    const { calls, executors } = counting();
    const e = engine({ store, clock });
    e.register(chain, executors);
    await e.resume('r1');
    expect((await e.wait('r1')).output).toEqual({ a: 'A', c: 'C' });
    expect(calls['b']).toHaveLength(0);
  });
});

describe('WorkflowEngine: leases', () => {
  it('renews the lease while a long step runs, so no other engine can take the run', async () => {
    const clock = new ManualClock();
    const store = new MemoryWorkflowStore({ clock });
    const gate = deferred<string>();
    const a = engine({ store, clock, leaseMs: 1000, engineId: 'a' });
    a.register({ id: 'long', steps: [{ id: 's' }] }, { s: () => gate.promise });
    const b = engine({ store, clock, leaseMs: 1000, engineId: 'b' });
    b.register({ id: 'long', steps: [{ id: 's' }] }, { s: () => 'stolen' });
    const runId = await a.start('long');
    for (let i = 0; i < 20; i++) await clock.advanceAsync(500);
    expect((await store.getRun(runId))?.leaseExpiresAt).toBeGreaterThan(clock.now());
    expect(await codeOf(b.resume(runId))).toBe('ERR_WORKFLOW_LEASE_HELD');
    gate.resolve('mine');
    expect((await a.wait(runId)).output).toEqual({ s: 'mine' });
  });

  it('stops working on a run whose lease was taken over, and writes nothing more', async () => {
    const clock = new ManualClock();
    // A store that cannot renew leases (the engine is cut off from it for a while).
    class PartitionedStore extends MemoryWorkflowStore {
      partitioned = false;
      override renewLease(runId: string, owner: string, leaseMs: number): Promise<boolean> {
        if (this.partitioned) return Promise.reject(new BackendError('network partition'));
        return super.renewLease(runId, owner, leaseMs);
      }
    }
    const store = new PartitionedStore({ clock });
    const errors: Error[] = [];
    const signals: AbortSignal[] = [];
    const gate = deferred<string>();
    const def = { id: 'wf', steps: [{ id: 's' }, { id: 't', dependsOn: ['s'] }] };
    const a = engine({
      store,
      clock,
      leaseMs: 1000,
      engineId: 'a',
      onError: (e) => errors.push(e),
    });
    a.register(def, {
      s: ({ signal }) => {
        signals.push(signal);
        return gate.promise;
      },
      t: () => 'a-t',
    });
    const b = engine({ store, clock, leaseMs: 1000, engineId: 'b' });
    b.register(def, { s: () => 'b-s', t: () => 'b-t' });

    const runId = await a.start('wf');
    const aDone = a.wait(runId);
    aDone.catch(() => undefined); // awaited below; it settles before that
    store.partitioned = true;
    await clock.advanceAsync(1000);
    expect(errors.length).toBeGreaterThan(0);
    expect(await b.resume(runId)).toBe(true);
    expect((await b.wait(runId)).output).toEqual({ s: 'b-s', t: 'b-t' });

    store.partitioned = false;
    await clock.advanceAsync(400);
    expect(await codeOf(aDone)).toBe('ERR_WORKFLOW_LEASE_LOST');
    expect(signals[0]?.aborted).toBe(true);
    gate.resolve('late');
    await flushMicrotasks();
    expect((await store.getSteps(runId)).map((r) => r.output)).toEqual(['b-s', 'b-t']);
  });

  it('releases leases on close so another engine can resume at once', async () => {
    const clock = new ManualClock();
    const store = new MemoryWorkflowStore({ clock });
    const a = new WorkflowEngine({ store, clock, engineId: 'a' });
    const signals: AbortSignal[] = [];
    a.register(chain, {
      a: () => 'A',
      b: ({ signal }) =>
        new Promise((_, reject) => {
          signals.push(signal);
          signal.addEventListener('abort', () => reject(new Error('closing')));
        }),
      c: () => 'C',
    });
    const runId = await a.start('chain');
    await flushMicrotasks();
    await flushMicrotasks();
    const waiting = a.wait(runId);
    await a.close();
    expect(await codeOf(waiting)).toBe('ERR_CLOSED');
    expect(signals[0]?.aborted).toBe(true);
    expect(await store.getRun(runId)).toMatchObject({ status: 'running', owner: null });
    expect(await codeOf(a.start('chain'))).toBe('ERR_CLOSED');

    const b = engine({ store, clock, engineId: 'b' });
    const { calls, executors } = counting();
    b.register(chain, executors);
    expect(await b.resume(runId)).toBe(true);
    expect((await b.wait(runId)).status).toBe('completed');
    expect(calls['a']).toHaveLength(0);
    expect(calls['b']?.map((c) => c.attempt)).toEqual([2]);
  });
});

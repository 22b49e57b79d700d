// Cancellation, timeouts, backoff timing and parallelism, driven by a manual clock.
import { describe, expect, it } from 'vitest';
import { codeOf, useEngines } from '../../test/support/workflow-engine.js';
import { deferred } from '../core/abort.js';
import { isMajraError } from '../core/errors.js';
import { ManualClock, flushMicrotasks } from '../testing/manual-clock.js';
import { MemoryWorkflowStore } from './memory-store.js';
import type { StepContext } from './step-context.js';

const engine = useEngines();

/** An executor that waits until its signal aborts, then rejects with the reason. */
function untilAborted(seen: AbortSignal[]) {
  return ({ signal }: StepContext) =>
    new Promise((_, reject) => {
      seen.push(signal);
      signal.addEventListener('abort', () => reject(new Error('stopped')));
    });
}

describe('WorkflowEngine: cancel', () => {
  it('aborts running steps through their signal and ends the run cancelled', async () => {
    const signals: AbortSignal[] = [];
    let laterRan = false;
    const e = engine();
    e.register(
      { id: 'wf', steps: [{ id: 'a' }, { id: 'b' }, { id: 'later', dependsOn: ['a'] }] },
      { a: untilAborted(signals), b: untilAborted(signals), later: () => (laterRan = true) },
    );
    const runId = await e.start('wf');
    await flushMicrotasks();
    expect(signals).toHaveLength(2);
    await e.cancel(runId, 'user asked');
    const result = await e.wait(runId);
    expect(result.status).toBe('cancelled');
    expect(result.error).toBe('cancelled: user asked');
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(laterRan).toBe(false);
    const records = await e.store.getSteps(runId);
    expect(records.map((r) => [r.stepId, r.status, r.error])).toEqual([
      ['a', 'failed', 'run cancelled: user asked'],
      ['b', 'failed', 'run cancelled: user asked'],
    ]);
    expect((await e.store.getRun(runId))?.status).toBe('cancelled');
  });

  it('stops a retry loop in its backoff wait', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const e = engine({ clock });
    e.register(
      {
        id: 'wf',
        steps: [{ id: 'a', retry: { maxAttempts: 5, backoff: 'fixed', delayMs: 1000 } }],
      },
      {
        a: () => {
          calls++;
          throw new Error('flaky');
        },
      },
    );
    const runId = await e.start('wf');
    await flushMicrotasks();
    expect(calls).toBe(1);
    await e.cancel(runId);
    expect((await e.wait(runId)).status).toBe('cancelled');
    await clock.advanceAsync(10_000);
    expect(calls).toBe(1);
  });

  it('does not wait for an executor that ignores its signal', async () => {
    const never = deferred<undefined>();
    const e = engine();
    e.register({ id: 'wf', steps: [{ id: 'a' }] }, { a: () => never.promise });
    const runId = await e.start('wf');
    await flushMicrotasks();
    await e.cancel(runId);
    expect((await e.wait(runId)).status).toBe('cancelled');
    // A late result changes nothing.
    never.resolve(undefined);
    await flushMicrotasks();
    expect((await e.store.getSteps(runId))[0]?.status).toBe('failed');
  });

  it('throws for unknown and finished runs', async () => {
    const e = engine();
    e.register({ id: 'wf', steps: [{ id: 'a' }] }, { a: () => 1 });
    expect(await codeOf(e.cancel('nope'))).toBe('ERR_WORKFLOW_RUN_NOT_FOUND');
    const runId = await e.start('wf');
    await e.wait(runId);
    expect(await codeOf(e.cancel(runId))).toBe('ERR_WORKFLOW_RUN_NOT_ACTIVE');
  });

  it('cancels a stored run whose engine died, once its lease expired', async () => {
    const clock = new ManualClock();
    const dead = engine({ clock, leaseMs: 1000, engineId: 'dead' });
    const store = dead.store;
    await store.createRun(
      {
        id: 'orphan',
        workflowId: 'wf',
        definitionHash: 'h',
        status: 'running',
        input: null,
        startedAt: 0,
      },
      'dead',
      1000,
    );
    const e = engine({ clock, store, engineId: 'live' });
    expect(await codeOf(e.cancel('orphan'))).toBe('ERR_WORKFLOW_LEASE_HELD');
    clock.advance(1000);
    await e.cancel('orphan');
    expect(await store.getRun('orphan')).toMatchObject({ status: 'cancelled', owner: null });
  });

  it('aborts siblings when a step fails, and writes nothing after the run ended', async () => {
    const signals: AbortSignal[] = [];
    const e = engine();
    e.register(
      { id: 'wf', steps: [{ id: 'slow1' }, { id: 'slow2' }, { id: 'bad' }] },
      {
        slow1: untilAborted(signals),
        slow2: untilAborted(signals),
        bad: async () => {
          await flushMicrotasks();
          throw new Error('bad');
        },
      },
    );
    const runId = await e.start('wf');
    const result = await e.wait(runId);
    expect(result.status).toBe('failed');
    expect(signals.every((s) => s.aborted)).toBe(true);
    const snapshot = JSON.stringify(await e.store.getSteps(runId));
    const run = JSON.stringify(await e.store.getRun(runId));
    await flushMicrotasks();
    await flushMicrotasks();
    expect(JSON.stringify(await e.store.getSteps(runId))).toBe(snapshot);
    expect(JSON.stringify(await e.store.getRun(runId))).toBe(run);
    const records = await e.store.getSteps(runId);
    expect(
      records
        .filter((r) => r.error === 'aborted: the run failed')
        .map((r) => r.stepId)
        .sort(),
    ).toEqual(['slow1', 'slow2']);
  });

  it('lets wait be aborted without touching the run', async () => {
    const gate = deferred<undefined>();
    const e = engine();
    e.register({ id: 'wf', steps: [{ id: 'a' }] }, { a: () => gate.promise });
    const runId = await e.start('wf');
    const controller = new AbortController();
    const waiting = e.wait(runId, { signal: controller.signal });
    controller.abort();
    expect(await codeOf(waiting)).toBe('ERR_ABORTED');
    gate.resolve(undefined);
    expect((await e.wait(runId)).status).toBe('completed');
  });
});

describe('WorkflowEngine: timeouts and backoff', () => {
  it('aborts an attempt at timeoutMs with a TimeoutError reason, then retries', async () => {
    const clock = new ManualClock();
    const signals: AbortSignal[] = [];
    const e = engine({ clock });
    e.register(
      { id: 'wf', steps: [{ id: 'a', timeoutMs: 500, retry: { maxAttempts: 2, delayMs: 0 } }] },
      {
        a: ({ signal, attempt }) => {
          signals.push(signal);
          return attempt === 1 ? new Promise(() => undefined) : 'second';
        },
      },
    );
    const runId = await e.start('wf');
    await flushMicrotasks();
    await clock.advanceAsync(499);
    expect(signals[0]?.aborted).toBe(false);
    await clock.advanceAsync(1);
    const result = await e.wait(runId);
    expect(result.output).toEqual({ a: 'second' });
    expect(isMajraError(signals[0]?.reason, 'ERR_WORKFLOW_STEP_TIMEOUT')).toBe(true);
  });

  it('fails the step with the timeout as its error when attempts run out', async () => {
    const clock = new ManualClock();
    const e = engine({ clock });
    e.register(
      { id: 'wf', steps: [{ id: 'a', timeoutMs: 100 }] },
      { a: () => new Promise(() => undefined) },
    );
    const runId = await e.start('wf');
    await flushMicrotasks();
    await clock.advanceAsync(100);
    const result = await e.wait(runId);
    expect(result.error).toBe("step 'a' failed: step 'a' timed out after 100 ms");
  });

  it('waits the backoff delays on the injected clock, with jitter from the injected random', async () => {
    const clock = new ManualClock();
    const startedAt: number[] = [];
    const e = engine({ clock, random: () => 0.5 });
    e.register(
      {
        id: 'wf',
        steps: [
          {
            id: 'a',
            retry: {
              maxAttempts: 4,
              backoff: 'exponential',
              delayMs: 100,
              maxDelayMs: 300,
              jitter: 0.2,
            },
          },
        ],
      },
      {
        a: ({ attempt }) => {
          startedAt.push(clock.monotonic());
          if (attempt < 4) throw new Error('again');
          return 'done';
        },
      },
    );
    const stream = e.events();
    const runId = await e.start('wf');
    for (let i = 0; i < 10; i++) await clock.advanceAsync(10);
    await clock.advanceAsync(1000);
    expect((await e.wait(runId)).status).toBe('completed');
    // 100, 200, 300 (capped from 400), each × (1 - 0.2 × 0.5) = 90, 180, 270.
    expect(startedAt.slice(1).map((t, i) => t - (startedAt[i] ?? 0))).toEqual([90, 180, 270]);
    const retries: (number | null)[] = [];
    for await (const event of stream) {
      if (event.type === 'step' && event.status === 'pending') retries.push(event.retryInMs);
      if (event.type === 'run' && event.status !== 'running') break;
    }
    expect(retries).toEqual([90, 180, 270]);
  });
});

describe('WorkflowEngine: parallelism and capacity', () => {
  it('never runs more than maxParallelSteps steps of a run at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const e = engine({ maxParallelSteps: 2 });
    const steps = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id }));
    const work = async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await flushMicrotasks();
      inFlight--;
    };
    e.register({ id: 'wf', steps }, Object.fromEntries(steps.map((s) => [s.id, work])));
    const result = await e.wait(await e.start('wf'));
    expect(result.status).toBe('completed');
    expect(Object.keys(result.steps)).toHaveLength(5);
    expect(peak).toBe(2);
  });

  it('refuses runs beyond maxActiveRuns', async () => {
    const gate = deferred<undefined>();
    const e = engine({ maxActiveRuns: 1 });
    e.register({ id: 'wf', steps: [{ id: 'a' }] }, { a: () => gate.promise });
    const first = await e.start('wf');
    expect(await codeOf(e.start('wf'))).toBe('ERR_CAPACITY_EXCEEDED');
    gate.resolve(undefined);
    await e.wait(first);
    await e.wait(await e.start('wf'));
  });

  it('keeps the store bounded when many runs churn through it', async () => {
    const store = new MemoryWorkflowStore({ maxRuns: 5 });
    const e = engine({ store });
    e.register(
      { id: 'wf', steps: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }] },
      { a: () => 1, b: () => 2 },
    );
    for (let i = 0; i < 50; i++) {
      await e.wait(await e.start('wf'));
      expect(store.runCount).toBeLessThanOrEqual(5);
      expect(store.stepCount).toBeLessThanOrEqual(10);
      expect(e.activeRuns).toBe(0);
    }
    await store.close();
  });
});

describe('WorkflowEngine: store failures', () => {
  class FlakyStore extends MemoryWorkflowStore {
    failSteps = false;
    failCreate = false;
    override saveStep(...args: Parameters<MemoryWorkflowStore['saveStep']>): Promise<boolean> {
      if (this.failSteps) return Promise.reject(new Error('disk full'));
      return super.saveStep(...args);
    }
    override createRun(...args: Parameters<MemoryWorkflowStore['createRun']>): Promise<void> {
      if (this.failCreate) return Promise.reject(new Error('db down'));
      return super.createRun(...args);
    }
  }

  it('fails the run with ERR_WORKFLOW_STORAGE text when a step write fails', async () => {
    const store = new FlakyStore();
    const e = engine({ store });
    e.register(
      { id: 'wf', steps: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }] },
      {
        a: () => {
          store.failSteps = true;
          return 1;
        },
        b: () => 2,
      },
    );
    const runId = await e.start('wf');
    const result = await e.wait(runId);
    expect(result.status).toBe('failed');
    expect(result.error).toBe('workflow storage: saveStep failed: disk full');
    expect((await store.getRun(runId))?.status).toBe('failed');
    await store.close();
  });

  it('rejects start with ERR_WORKFLOW_STORAGE when the run cannot be created', async () => {
    const store = new FlakyStore();
    store.failCreate = true;
    const e = engine({ store });
    e.register({ id: 'wf', steps: [{ id: 'a' }] }, { a: () => 1 });
    expect(await codeOf(e.start('wf'))).toBe('ERR_WORKFLOW_STORAGE');
    expect(e.activeRuns).toBe(0);
    await store.close();
  });
});

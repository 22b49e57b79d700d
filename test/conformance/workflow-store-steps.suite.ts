// WorkflowStore conformance, part two: step records and retention (maxRuns, the
// finished-run TTL and sweep). Registered by `describeWorkflowStore` in
// workflow-store.suite.ts.
import { describe, expect, it } from 'vitest';
import type { WorkflowStore } from '../../src/workflow/types.js';
import { LEASE, newRun, step, type WorkflowStoreSuite } from './workflow-store-fixtures.js';

/** Registers the 'step records' and 'retention' tests. */
export function describeStepsAndRetention(suite: WorkflowStoreSuite): void {
  const { make } = suite;

  describe('step records', () => {
    it('keeps one record per (run, step), replaced on each save', async () => {
      const store = await make();
      await store.createRun(newRun('r1'), 'a', LEASE);
      expect(await store.saveStep('a', step('r1', 's1'))).toBe(true);
      const final = step('r1', 's1', {
        status: 'completed',
        attempt: 3,
        output: { ok: [1, 2] },
        error: 'attempt 2 failed',
        completedAt: 150,
        durationMs: 50,
        fallbackStepId: 'fb',
      });
      expect(await store.saveStep('a', final)).toBe(true);
      expect(await store.getSteps('r1')).toEqual([final]);
    });

    it('orders step records by startedAt (null last), then step id', async () => {
      const store = await make();
      await store.createRun(newRun('r1'), 'a', LEASE);
      await store.saveStep('a', step('r1', 'z', { startedAt: null, status: 'pending' }));
      await store.saveStep('a', step('r1', 'b', { startedAt: 200 }));
      await store.saveStep('a', step('r1', 'a', { startedAt: null, status: 'skipped' }));
      await store.saveStep('a', step('r1', 'c', { startedAt: 100 }));
      await store.saveStep('a', step('r1', 'd', { startedAt: 200 }));
      expect((await store.getSteps('r1')).map((s) => s.stepId)).toEqual(['c', 'b', 'd', 'a', 'z']);
    });

    it('keeps the steps of different runs apart and refuses unknown runs', async () => {
      const store = await make();
      await store.createRun(newRun('r1'), 'a', LEASE);
      await store.createRun(newRun('r2'), 'a', LEASE);
      await store.saveStep('a', step('r1', 's'));
      await store.saveStep('a', step('r2', 's', { status: 'failed', error: 'x' }));
      expect(await store.saveStep('a', step('r3', 's'))).toBe(false);
      expect((await store.getSteps('r1'))[0]?.status).toBe('running');
      expect((await store.getSteps('r2'))[0]?.status).toBe('failed');
      expect(await store.getSteps('r3')).toEqual([]);
    });

    it('commits an update issued behind queued step writes after them, with their fences (groupsRunWrites)', async () => {
      const store = await make();
      if (store.groupsRunWrites !== true) return;
      await store.createRun(newRun('r1'), 'a', LEASE);
      await store.createRun(newRun('r2'), 'b', LEASE);
      suite.clock.advance(7);
      const done = step('r1', 's', { status: 'completed', output: 1, completedAt: 9 });
      const [saved, updated, foreignSave, foreignUpdate] = await Promise.all([
        store.saveStep('a', done),
        store.updateRun('r1', 'a', { status: 'completed', output: { s: 1 }, completedAt: 9 }),
        store.saveStep('a', step('r2', 's')),
        store.updateRun('r2', 'a', { status: 'failed', error: 'not mine' }),
      ]);
      expect([saved, updated, foreignSave, foreignUpdate]).toEqual([true, true, false, false]);
      expect(await store.getSteps('r1')).toEqual([done]);
      expect(await store.getRun('r1')).toMatchObject({
        status: 'completed',
        output: { s: 1 },
        owner: null,
        updatedAt: suite.clock.now(),
      });
      expect(await store.getRun('r2')).toMatchObject({ status: 'running', owner: 'b' });
      expect(await store.getSteps('r2')).toEqual([]);
    });

    it('touches the run updatedAt on every step write', async () => {
      const store = await make();
      await store.createRun(newRun('r1'), 'a', LEASE);
      suite.clock.advance(42);
      await store.saveStep('a', step('r1', 's'));
      expect((await store.getRun('r1'))?.updatedAt).toBe(suite.clock.now());
    });
  });

  describe('retention', () => {
    async function finish(store: WorkflowStore, id: string): Promise<void> {
      suite.clock.advance(10);
      expect(
        await store.updateRun(id, 'a', { status: 'completed', completedAt: suite.clock.now() }),
      ).toBe(true);
    }

    it('evicts the oldest finished run with its steps when maxRuns is reached', async () => {
      const store = await make({ maxRuns: 2 });
      await store.createRun(newRun('r1'), 'a', LEASE);
      await store.createRun(newRun('r2'), 'a', LEASE);
      await store.saveStep('a', step('r2', 's'));
      // r2 finishes first, so it is the oldest finished run.
      await finish(store, 'r2');
      await finish(store, 'r1');
      await store.createRun(newRun('r3'), 'a', LEASE);
      expect(await store.getRun('r2')).toBeUndefined();
      expect(await store.getSteps('r2')).toEqual([]);
      expect(await store.getRun('r1')).toBeDefined();
      expect(await store.countRuns()).toBe(2);
    });

    it('never evicts unfinished runs: maxRuns is a soft cap', async () => {
      const store = await make({ maxRuns: 2 });
      for (const id of ['r1', 'r2', 'r3']) await store.createRun(newRun(id), 'a', LEASE);
      expect(await store.countRuns()).toBe(3);
      await finish(store, 'r2');
      await store.createRun(newRun('r4'), 'a', LEASE);
      // Only r2 could go; the three unfinished runs stay.
      expect((await store.listRuns()).map((r) => r.id).sort()).toEqual(['r1', 'r3', 'r4']);
    });

    it('stays bounded under churn', async () => {
      const store = await make({ maxRuns: 5 });
      for (let i = 0; i < 60; i++) {
        await store.createRun(newRun(`r${i}`), 'a', LEASE);
        await store.saveStep('a', step(`r${i}`, 's'));
        await finish(store, `r${i}`);
        expect(await store.countRuns()).toBeLessThanOrEqual(5);
      }
      expect((await store.listRuns()).map((r) => r.id)).toEqual([
        'r55',
        'r56',
        'r57',
        'r58',
        'r59',
      ]);
    });

    it('sweeps finished runs older than the TTL, never unfinished ones', async () => {
      const store = await make({ finishedRunTtlMs: 1_000 });
      await store.createRun(newRun('old-running'), 'a', LEASE);
      await store.createRun(newRun('done'), 'a', LEASE);
      await store.saveStep('a', step('done', 's'));
      await finish(store, 'done');
      suite.clock.advance(999);
      expect(await store.sweep()).toBe(0);
      suite.clock.advance(1);
      expect(await store.sweep()).toBe(1);
      expect(await store.getRun('done')).toBeUndefined();
      expect(await store.getSteps('done')).toEqual([]);
      suite.clock.advance(1_000_000);
      expect(await store.sweep()).toBe(0);
      expect(await store.getRun('old-running')).toBeDefined();
    });

    it('sweeps expired finished runs when a run is created', async () => {
      const store = await make({ finishedRunTtlMs: 100 });
      await store.createRun(newRun('r1'), 'a', LEASE);
      await finish(store, 'r1');
      suite.clock.advance(100);
      await store.createRun(newRun('r2'), 'a', LEASE);
      expect(await store.getRun('r1')).toBeUndefined();
      expect(await store.countRuns()).toBe(1);
    });

    it('measures a finished run without completedAt from its updatedAt', async () => {
      const store = await make({ maxRuns: 3, finishedRunTtlMs: 1_000 });
      await store.createRun(newRun('stamped'), 'a', LEASE);
      await store.createRun(newRun('bare'), 'a', LEASE);
      await store.createRun(newRun('later'), 'a', LEASE);
      // 'bare' finishes first but records no completedAt: its updatedAt counts.
      suite.clock.advance(10);
      expect(await store.updateRun('bare', 'a', { status: 'failed' })).toBe(true);
      suite.clock.advance(10);
      await finish(store, 'stamped');
      suite.clock.advance(10);
      await finish(store, 'later');
      // maxRuns evicts the oldest finished run first: 'bare'.
      await store.createRun(newRun('r4'), 'a', LEASE);
      expect(await store.getRun('bare')).toBeUndefined();
      expect(await store.getRun('stamped')).toBeDefined();
      // 'stamped' completed at +30, 'later' at +50; now is +50.
      suite.clock.advance(980);
      expect(await store.sweep()).toBe(1);
      expect(await store.getRun('stamped')).toBeUndefined();
      expect(await store.getRun('later')).toBeDefined();
      // The TTL measures 'r4', cancelled without completedAt at +1030, from its updatedAt.
      expect(await store.updateRun('r4', 'a', { status: 'cancelled' })).toBe(true);
      suite.clock.advance(999);
      expect(await store.sweep()).toBe(1);
      expect(await store.getRun('later')).toBeUndefined();
      suite.clock.advance(1);
      expect(await store.sweep()).toBe(1);
      expect(await store.countRuns()).toBe(0);
    });

    it('does nothing on sweep without a TTL', async () => {
      const store = await make();
      await store.createRun(newRun('r1'), 'a', LEASE);
      await finish(store, 'r1');
      suite.clock.advance(1e12);
      expect(await store.sweep()).toBe(0);
      expect(await store.countRuns()).toBe(1);
    });
  });
}

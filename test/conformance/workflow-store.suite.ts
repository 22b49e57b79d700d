// The WorkflowStore conformance suite. Every store (memory, SQLite, PostgreSQL) runs it
// through `describeWorkflowStore(name, factory)` from a `*.test.ts` file of its own; the
// factory must return a fresh, empty store that uses the given clock for every time it
// records and the given retention options. The suite closes each store it creates.
import { afterEach, describe, expect, it } from 'vitest';
import { isMajraError } from '../../src/core/errors.js';
import type { JsonValue } from '../../src/core/codec.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import type { NewWorkflowRun, StepRecord, WorkflowStore } from '../../src/workflow/types.js';

/** What the suite passes to a store factory. */
export interface WorkflowStoreFactoryOptions {
  /** The clock the store must read for every time it records. */
  readonly clock: ManualClock;
  readonly maxRuns?: number;
  readonly finishedRunTtlMs?: number;
}

/** Creates a fresh, empty store. */
export type WorkflowStoreFactory = (options: WorkflowStoreFactoryOptions) => Promise<WorkflowStore>;

const LEASE = 10_000;

function newRun(id: string, overrides: Partial<NewWorkflowRun> = {}): NewWorkflowRun {
  return {
    id,
    workflowId: 'wf-1',
    definitionHash: 'hash-1',
    status: 'running',
    input: { n: 1 },
    startedAt: 1_000,
    ...overrides,
  };
}

function step(runId: string, stepId: string, overrides: Partial<StepRecord> = {}): StepRecord {
  return {
    runId,
    stepId,
    status: 'running',
    attempt: 1,
    output: null,
    error: null,
    startedAt: 100,
    completedAt: null,
    durationMs: null,
    fallbackStepId: null,
    ...overrides,
  };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(isMajraError(caught), `expected a MajraError ${code}, got ${String(caught)}`).toBe(true);
  expect((caught as { code: string }).code).toBe(code);
}

/** Registers the WorkflowStore conformance tests for one implementation. */
export function describeWorkflowStore(name: string, factory: WorkflowStoreFactory): void {
  describe(`WorkflowStore conformance: ${name}`, () => {
    const open: WorkflowStore[] = [];
    let clock: ManualClock;

    async function make(options: Omit<WorkflowStoreFactoryOptions, 'clock'> = {}) {
      clock = new ManualClock(Date.UTC(2026, 0, 1));
      const store = await factory({ clock, ...options });
      open.push(store);
      return store;
    }

    afterEach(async () => {
      for (const store of open.splice(0)) await store.close();
    });

    describe('runs', () => {
      it('creates a run claimed by its creator, with store-clock times', async () => {
        const store = await make();
        const t0 = clock.now();
        await store.createRun(newRun('r1'), 'engine-a', LEASE);
        const run = await store.getRun('r1');
        expect(run).toEqual({
          id: 'r1',
          workflowId: 'wf-1',
          definitionHash: 'hash-1',
          status: 'running',
          input: { n: 1 },
          output: null,
          error: null,
          createdAt: t0,
          startedAt: 1_000,
          completedAt: null,
          updatedAt: t0,
          owner: 'engine-a',
          leaseExpiresAt: t0 + LEASE,
        });
        expect(await store.countRuns()).toBe(1);
      });

      it('returns undefined for an unknown run', async () => {
        const store = await make();
        expect(await store.getRun('nope')).toBeUndefined();
      });

      it('round-trips JSON inputs and outputs exactly', async () => {
        const store = await make();
        const values: JsonValue[] = [
          null,
          0,
          -1.5,
          'text',
          true,
          [],
          {},
          { nested: { list: [1, 'two', null, { three: [3] }] }, emoji: '🚀', quote: '\'"`' },
          "'; DROP TABLE workflow_runs; --",
        ];
        for (const [i, value] of values.entries()) {
          await store.createRun(newRun(`r${i}`, { input: value }), 'a', LEASE);
          expect(await store.updateRun(`r${i}`, 'a', { output: value })).toBe(true);
          const run = await store.getRun(`r${i}`);
          expect(run?.input).toEqual(value);
          expect(run?.output).toEqual(value);
        }
      });

      it('keeps ids with quotes, dollars, backslashes and unicode intact', async () => {
        const store = await make();
        const id = 'r\'$1\\"; DROP TABLE x; -- ünï';
        await store.createRun(newRun(id, { workflowId: "wf'$2" }), "own'er", LEASE);
        expect((await store.getRun(id))?.workflowId).toBe("wf'$2");
        expect(await store.saveStep("own'er", step(id, "st'ep"))).toBe(true);
        expect((await store.getSteps(id)).map((s) => s.stepId)).toEqual(["st'ep"]);
      });

      it('refuses a duplicate run id and leaves the existing run unchanged', async () => {
        const store = await make();
        await store.createRun(newRun('r1'), 'a', LEASE);
        const before = await store.getRun('r1');
        clock.advance(5);
        await expectCode(
          store.createRun(newRun('r1', { input: 'other' }), 'b', LEASE),
          'ERR_WORKFLOW_RUN_EXISTS',
        );
        expect(await store.getRun('r1')).toEqual(before);
      });

      it('stores the step records given with a new run, and none for an existing id', async () => {
        const store = await make();
        const first = [
          step('r1', 'a', { startedAt: 1_000 }),
          step('r1', 'b', { startedAt: 1_000 }),
        ];
        await store.createRun(newRun('r1', { steps: first }), 'a', LEASE);
        expect(await store.getSteps('r1')).toEqual(first);
        await expectCode(
          store.createRun(newRun('r1', { steps: [step('r1', 'c')] }), 'b', LEASE),
          'ERR_WORKFLOW_RUN_EXISTS',
        );
        expect(await store.getSteps('r1')).toEqual(first);
      });

      it('fences updateRun by owner and applies only the fields given', async () => {
        const store = await make();
        await store.createRun(newRun('r1'), 'a', LEASE);
        expect(await store.updateRun('r1', 'b', { status: 'failed' })).toBe(false);
        expect(await store.updateRun('missing', 'a', { status: 'failed' })).toBe(false);
        expect((await store.getRun('r1'))?.status).toBe('running');

        clock.advance(7);
        expect(await store.updateRun('r1', 'a', { error: 'boom' })).toBe(true);
        const run = await store.getRun('r1');
        expect(run?.error).toBe('boom');
        expect(run?.status).toBe('running');
        expect(run?.input).toEqual({ n: 1 });
        expect(run?.updatedAt).toBe(clock.now());
        expect(run?.owner).toBe('a');

        expect(await store.updateRun('r1', 'a', { error: null, startedAt: 5 })).toBe(true);
        expect((await store.getRun('r1'))?.error).toBeNull();
        expect((await store.getRun('r1'))?.startedAt).toBe(5);
      });

      it('releases the lease when a run reaches a terminal status', async () => {
        const store = await make();
        await store.createRun(newRun('r1'), 'a', LEASE);
        const done = clock.now() + 3;
        clock.advance(3);
        expect(
          await store.updateRun('r1', 'a', {
            status: 'completed',
            output: { x: 1 },
            completedAt: done,
          }),
        ).toBe(true);
        const run = await store.getRun('r1');
        expect(run).toMatchObject({
          status: 'completed',
          output: { x: 1 },
          completedAt: done,
          owner: null,
          leaseExpiresAt: null,
        });
        // A finished run has no owner, so fenced writes from the old owner are refused.
        expect(await store.updateRun('r1', 'a', { status: 'running' })).toBe(false);
      });

      it('lists runs by creation time then id, filtered and paged', async () => {
        const store = await make();
        await store.createRun(newRun('b', { workflowId: 'wf-1' }), 'a', LEASE);
        await store.createRun(newRun('a', { workflowId: 'wf-2' }), 'a', LEASE);
        clock.advance(1);
        await store.createRun(newRun('c', { workflowId: 'wf-1' }), 'a', LEASE);
        clock.advance(1);
        await store.createRun(newRun('d', { workflowId: 'wf-1', status: 'pending' }), 'a', LEASE);
        await store.updateRun('c', 'a', { status: 'failed', completedAt: clock.now() });

        const ids = async (q?: Parameters<WorkflowStore['listRuns']>[0]) =>
          (await store.listRuns(q)).map((r) => r.id);
        expect(await ids()).toEqual(['a', 'b', 'c', 'd']);
        expect(await ids({ workflowId: 'wf-1' })).toEqual(['b', 'c', 'd']);
        expect(await ids({ workflowId: 'wf-3' })).toEqual([]);
        expect(await ids({ statuses: ['running', 'pending'] })).toEqual(['a', 'b', 'd']);
        expect(await ids({ statuses: [] })).toEqual([]);
        expect(await ids({ workflowId: 'wf-1', statuses: ['failed'] })).toEqual(['c']);
        expect(await ids({ limit: 2 })).toEqual(['a', 'b']);
        expect(await ids({ limit: 2, offset: 2 })).toEqual(['c', 'd']);
        expect(await ids({ offset: 10 })).toEqual([]);
      });

      it('deletes a run together with its step records', async () => {
        const store = await make();
        await store.createRun(newRun('r1'), 'a', LEASE);
        await store.saveStep('a', step('r1', 's1'));
        expect(await store.deleteRun('r1')).toBe(true);
        expect(await store.getRun('r1')).toBeUndefined();
        expect(await store.getSteps('r1')).toEqual([]);
        expect(await store.deleteRun('r1')).toBe(false);
        expect(await store.countRuns()).toBe(0);
      });

      it('returns copies that callers cannot use to change the store', async () => {
        const store = await make();
        await store.createRun(newRun('r1', { input: { list: [1] } }), 'a', LEASE);
        await store.saveStep('a', step('r1', 's1', { output: { v: [1] } }));
        const run = await store.getRun('r1');
        (run?.input as { list: number[] }).list.push(2);
        const [record] = await store.getSteps('r1');
        (record?.output as { v: number[] }).v.push(2);
        expect((await store.getRun('r1'))?.input).toEqual({ list: [1] });
        expect((await store.getSteps('r1'))[0]?.output).toEqual({ v: [1] });
      });
    });

    describe('leases', () => {
      it('lets only one engine claim a live run; the holder may re-claim', async () => {
        const store = await make();
        await store.createRun(newRun('r1'), 'a', LEASE);
        const lost = await store.claimRun('r1', 'b', LEASE);
        expect(lost.claimed).toBe(false);
        expect(lost.run?.owner).toBe('a');

        clock.advance(100);
        const again = await store.claimRun('r1', 'a', LEASE);
        expect(again.claimed).toBe(true);
        expect(again.run?.leaseExpiresAt).toBe(clock.now() + LEASE);
      });

      it('reports a missing run as not claimed with no run', async () => {
        const store = await make();
        expect(await store.claimRun('missing', 'a', LEASE)).toEqual({
          claimed: false,
          run: undefined,
        });
      });

      it('hands an expired lease to the next claimant, exactly at expiry', async () => {
        const store = await make();
        await store.createRun(newRun('r1'), 'a', LEASE);
        clock.advance(LEASE - 1);
        expect((await store.claimRun('r1', 'b', LEASE)).claimed).toBe(false);
        clock.advance(1);
        const taken = await store.claimRun('r1', 'b', 500);
        expect(taken.claimed).toBe(true);
        expect(taken.run).toMatchObject({ owner: 'b', leaseExpiresAt: clock.now() + 500 });
        // The old owner is fenced out of every write.
        expect(await store.updateRun('r1', 'a', { status: 'failed' })).toBe(false);
        expect(await store.saveStep('a', step('r1', 's1'))).toBe(false);
        expect(await store.renewLease('r1', 'a', LEASE)).toBe(false);
        expect(await store.releaseRun('r1', 'a')).toBe(false);
        expect(await store.getSteps('r1')).toEqual([]);
        expect((await store.getRun('r1'))?.owner).toBe('b');
      });

      it('gives the lease to exactly one of many concurrent claimants', async () => {
        const store = await make();
        await store.createRun(newRun('r1'), 'a', LEASE);
        await store.releaseRun('r1', 'a');
        const owners = ['e1', 'e2', 'e3', 'e4', 'e5', 'e6'];
        const results = await Promise.all(owners.map((o) => store.claimRun('r1', o, LEASE)));
        const winners = owners.filter((_, i) => results[i]?.claimed === true);
        expect(winners).toHaveLength(1);
        expect((await store.getRun('r1'))?.owner).toBe(winners[0]);
      });

      it('renews a held lease, even past expiry while nobody else claimed it', async () => {
        const store = await make();
        await store.createRun(newRun('r1'), 'a', LEASE);
        clock.advance(LEASE / 2);
        expect(await store.renewLease('r1', 'a', LEASE)).toBe(true);
        expect((await store.getRun('r1'))?.leaseExpiresAt).toBe(clock.now() + LEASE);
        clock.advance(LEASE * 2);
        expect(await store.renewLease('r1', 'a', LEASE)).toBe(true);
        expect((await store.getRun('r1'))?.leaseExpiresAt).toBe(clock.now() + LEASE);
        expect(await store.renewLease('r1', 'b', LEASE)).toBe(false);
        expect(await store.renewLease('missing', 'a', LEASE)).toBe(false);
      });

      it('releases a lease so another engine can claim at once', async () => {
        const store = await make();
        await store.createRun(newRun('r1'), 'a', LEASE);
        expect(await store.releaseRun('r1', 'b')).toBe(false);
        expect(await store.releaseRun('r1', 'a')).toBe(true);
        const run = await store.getRun('r1');
        expect(run).toMatchObject({ owner: null, leaseExpiresAt: null, status: 'running' });
        expect(await store.saveStep('a', step('r1', 's1'))).toBe(false);
        expect((await store.claimRun('r1', 'b', LEASE)).claimed).toBe(true);
      });

      it('lists resumable runs: unfinished with no live lease', async () => {
        const store = await make();
        await store.createRun(newRun('live'), 'a', LEASE);
        clock.advance(1);
        await store.createRun(newRun('released'), 'a', LEASE);
        await store.releaseRun('released', 'a');
        clock.advance(1);
        await store.createRun(newRun('pending', { status: 'pending' }), 'a', 5);
        clock.advance(1);
        await store.createRun(newRun('done'), 'a', LEASE);
        await store.updateRun('done', 'a', { status: 'completed', completedAt: clock.now() });
        clock.advance(1);
        await store.createRun(newRun('failed'), 'a', LEASE);
        await store.updateRun('failed', 'a', { status: 'failed', completedAt: clock.now() });

        clock.advance(5);
        const ids = (await store.listResumable()).map((r) => r.id);
        expect(ids).toEqual(['released', 'pending']);
        clock.advance(LEASE);
        expect((await store.listResumable()).map((r) => r.id)).toEqual([
          'live',
          'released',
          'pending',
        ]);
        expect((await store.listResumable(1)).map((r) => r.id)).toEqual(['live']);
      });
    });

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
        expect((await store.getSteps('r1')).map((s) => s.stepId)).toEqual([
          'c',
          'b',
          'd',
          'a',
          'z',
        ]);
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
        clock.advance(7);
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
          updatedAt: clock.now(),
        });
        expect(await store.getRun('r2')).toMatchObject({ status: 'running', owner: 'b' });
        expect(await store.getSteps('r2')).toEqual([]);
      });

      it('touches the run updatedAt on every step write', async () => {
        const store = await make();
        await store.createRun(newRun('r1'), 'a', LEASE);
        clock.advance(42);
        await store.saveStep('a', step('r1', 's'));
        expect((await store.getRun('r1'))?.updatedAt).toBe(clock.now());
      });
    });

    describe('retention', () => {
      async function finish(store: WorkflowStore, id: string): Promise<void> {
        clock.advance(10);
        expect(
          await store.updateRun(id, 'a', { status: 'completed', completedAt: clock.now() }),
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
        clock.advance(999);
        expect(await store.sweep()).toBe(0);
        clock.advance(1);
        expect(await store.sweep()).toBe(1);
        expect(await store.getRun('done')).toBeUndefined();
        expect(await store.getSteps('done')).toEqual([]);
        clock.advance(1_000_000);
        expect(await store.sweep()).toBe(0);
        expect(await store.getRun('old-running')).toBeDefined();
      });

      it('sweeps expired finished runs when a run is created', async () => {
        const store = await make({ finishedRunTtlMs: 100 });
        await store.createRun(newRun('r1'), 'a', LEASE);
        await finish(store, 'r1');
        clock.advance(100);
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
        clock.advance(10);
        expect(await store.updateRun('bare', 'a', { status: 'failed' })).toBe(true);
        clock.advance(10);
        await finish(store, 'stamped');
        clock.advance(10);
        await finish(store, 'later');
        // maxRuns evicts the oldest finished run first: 'bare'.
        await store.createRun(newRun('r4'), 'a', LEASE);
        expect(await store.getRun('bare')).toBeUndefined();
        expect(await store.getRun('stamped')).toBeDefined();
        // 'stamped' completed at +30, 'later' at +50; now is +50.
        clock.advance(980);
        expect(await store.sweep()).toBe(1);
        expect(await store.getRun('stamped')).toBeUndefined();
        expect(await store.getRun('later')).toBeDefined();
        // The TTL measures 'r4', cancelled without completedAt at +1030, from its updatedAt.
        expect(await store.updateRun('r4', 'a', { status: 'cancelled' })).toBe(true);
        clock.advance(999);
        expect(await store.sweep()).toBe(1);
        expect(await store.getRun('later')).toBeUndefined();
        clock.advance(1);
        expect(await store.sweep()).toBe(1);
        expect(await store.countRuns()).toBe(0);
      });

      it('does nothing on sweep without a TTL', async () => {
        const store = await make();
        await store.createRun(newRun('r1'), 'a', LEASE);
        await finish(store, 'r1');
        clock.advance(1e12);
        expect(await store.sweep()).toBe(0);
        expect(await store.countRuns()).toBe(1);
      });
    });

    describe('bad input and lifecycle', () => {
      it('rejects bad arguments with InvalidArgumentError and changes nothing', async () => {
        const store = await make();
        await store.createRun(newRun('r1'), 'a', LEASE);
        const before = await store.getRun('r1');
        const bad: Promise<unknown>[] = [
          store.createRun(newRun(''), 'a', LEASE),
          store.createRun(newRun('r2'), 'a', 0),
          store.createRun(newRun('r2'), '', LEASE),
          store.createRun(newRun('r2', { status: 'completed' }), 'a', LEASE),
          store.createRun(newRun('r2', { input: undefined as unknown as JsonValue }), 'a', LEASE),
          store.createRun(newRun('x'.repeat(257)), 'a', LEASE),
          store.createRun(newRun('r2', { steps: [step('r3', 's')] }), 'a', LEASE),
          store.createRun(newRun('r2', { steps: [step('r2', 's'), step('r2', 's')] }), 'a', LEASE),
          store.createRun(newRun('r2', { steps: [step('r2', 's', { attempt: 0 })] }), 'a', LEASE),
          store.updateRun('r1', 'a', { status: 'weird' as never }),
          store.claimRun('r1', 'b', -1),
          store.claimRun('r1', 'b', 1.5),
          store.renewLease('r1', 'a', Number.NaN),
          store.saveStep('a', step('r1', 's', { attempt: 0 })),
          store.saveStep('a', step('r1', 's', { status: 'done' as never })),
          store.saveStep('a', step('r1', '')),
          store.listRuns({ limit: 0 }),
          store.listRuns({ limit: 10_001 }),
          store.listRuns({ offset: -1 }),
          store.listRuns({ statuses: ['nope' as never] }),
          store.listResumable(0),
        ];
        for (const promise of bad) await expectCode(promise, 'ERR_INVALID_ARGUMENT');
        expect(await store.getRun('r1')).toEqual(before);
        expect(await store.getSteps('r1')).toEqual([]);
        expect(await store.countRuns()).toBe(1);
      });

      it('closes idempotently and then refuses every call with ERR_CLOSED', async () => {
        const store = await make();
        await store.createRun(newRun('r1'), 'a', LEASE);
        expect(store.isClosed).toBe(false);
        await Promise.all([store.close(), store.close()]);
        await store.close();
        await store.closed;
        expect(store.isClosed).toBe(true);
        await expectCode(store.getRun('r1'), 'ERR_CLOSED');
        await expectCode(store.createRun(newRun('r2'), 'a', LEASE), 'ERR_CLOSED');
        await expectCode(store.saveStep('a', step('r1', 's')), 'ERR_CLOSED');
        await expectCode(store.claimRun('r1', 'a', LEASE), 'ERR_CLOSED');
        await expectCode(store.listRuns(), 'ERR_CLOSED');
      });
    });
  });
}

// WorkflowStore conformance, part one: run records and their leases (create, read,
// update fenced by owner, list, delete; claim, renew, release, resumable runs).
// Registered by `describeWorkflowStore` in workflow-store.suite.ts.
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/core/codec.js';
import type { WorkflowStore } from '../../src/workflow/types.js';
import {
  expectCode,
  LEASE,
  newRun,
  step,
  type WorkflowStoreSuite,
} from './workflow-store-fixtures.js';

/** Registers the 'runs' and 'leases' tests. */
export function describeRunsAndLeases(suite: WorkflowStoreSuite): void {
  const { make } = suite;

  describe('runs', () => {
    it('creates a run claimed by its creator, with store-clock times', async () => {
      const store = await make();
      const t0 = suite.clock.now();
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
      suite.clock.advance(5);
      await expectCode(
        store.createRun(newRun('r1', { input: 'other' }), 'b', LEASE),
        'ERR_WORKFLOW_RUN_EXISTS',
      );
      expect(await store.getRun('r1')).toEqual(before);
    });

    it('stores the step records given with a new run, and none for an existing id', async () => {
      const store = await make();
      const first = [step('r1', 'a', { startedAt: 1_000 }), step('r1', 'b', { startedAt: 1_000 })];
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

      suite.clock.advance(7);
      expect(await store.updateRun('r1', 'a', { error: 'boom' })).toBe(true);
      const run = await store.getRun('r1');
      expect(run?.error).toBe('boom');
      expect(run?.status).toBe('running');
      expect(run?.input).toEqual({ n: 1 });
      expect(run?.updatedAt).toBe(suite.clock.now());
      expect(run?.owner).toBe('a');

      expect(await store.updateRun('r1', 'a', { error: null, startedAt: 5 })).toBe(true);
      expect((await store.getRun('r1'))?.error).toBeNull();
      expect((await store.getRun('r1'))?.startedAt).toBe(5);
    });

    it('releases the lease when a run reaches a terminal status', async () => {
      const store = await make();
      await store.createRun(newRun('r1'), 'a', LEASE);
      const done = suite.clock.now() + 3;
      suite.clock.advance(3);
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
      suite.clock.advance(1);
      await store.createRun(newRun('c', { workflowId: 'wf-1' }), 'a', LEASE);
      suite.clock.advance(1);
      await store.createRun(newRun('d', { workflowId: 'wf-1', status: 'pending' }), 'a', LEASE);
      await store.updateRun('c', 'a', { status: 'failed', completedAt: suite.clock.now() });

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

      suite.clock.advance(100);
      const again = await store.claimRun('r1', 'a', LEASE);
      expect(again.claimed).toBe(true);
      expect(again.run?.leaseExpiresAt).toBe(suite.clock.now() + LEASE);
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
      suite.clock.advance(LEASE - 1);
      expect((await store.claimRun('r1', 'b', LEASE)).claimed).toBe(false);
      suite.clock.advance(1);
      const taken = await store.claimRun('r1', 'b', 500);
      expect(taken.claimed).toBe(true);
      expect(taken.run).toMatchObject({ owner: 'b', leaseExpiresAt: suite.clock.now() + 500 });
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
      suite.clock.advance(LEASE / 2);
      expect(await store.renewLease('r1', 'a', LEASE)).toBe(true);
      expect((await store.getRun('r1'))?.leaseExpiresAt).toBe(suite.clock.now() + LEASE);
      suite.clock.advance(LEASE * 2);
      expect(await store.renewLease('r1', 'a', LEASE)).toBe(true);
      expect((await store.getRun('r1'))?.leaseExpiresAt).toBe(suite.clock.now() + LEASE);
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
      suite.clock.advance(1);
      await store.createRun(newRun('released'), 'a', LEASE);
      await store.releaseRun('released', 'a');
      suite.clock.advance(1);
      await store.createRun(newRun('pending', { status: 'pending' }), 'a', 5);
      suite.clock.advance(1);
      await store.createRun(newRun('done'), 'a', LEASE);
      await store.updateRun('done', 'a', { status: 'completed', completedAt: suite.clock.now() });
      suite.clock.advance(1);
      await store.createRun(newRun('failed'), 'a', LEASE);
      await store.updateRun('failed', 'a', { status: 'failed', completedAt: suite.clock.now() });

      suite.clock.advance(5);
      const ids = (await store.listResumable()).map((r) => r.id);
      expect(ids).toEqual(['released', 'pending']);
      suite.clock.advance(LEASE);
      expect((await store.listResumable()).map((r) => r.id)).toEqual([
        'live',
        'released',
        'pending',
      ]);
      expect((await store.listResumable(1)).map((r) => r.id)).toEqual(['live']);
    });
  });
}

// The WorkflowStore conformance suite. Every store (memory, SQLite, PostgreSQL) runs it
// through `describeWorkflowStore(name, factory)` from a `*.test.ts` file of its own; the
// factory must return a fresh, empty store that uses the given clock for every time it
// records and the given retention options. The suite closes each store it creates.
//
// The tests live in parts by topic: workflow-store-runs.suite.ts (runs, leases) and
// workflow-store-steps.suite.ts (step records, retention); bad input and lifecycle are
// below. Shared builders are in workflow-store-fixtures.ts.
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/core/codec.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import type { WorkflowStore } from '../../src/workflow/types.js';
import {
  expectCode,
  LEASE,
  newRun,
  step,
  type WorkflowStoreFactory,
  type WorkflowStoreFactoryOptions,
  type WorkflowStoreSuite,
} from './workflow-store-fixtures.js';
import { describeRunsAndLeases } from './workflow-store-runs.suite.js';
import { describeStepsAndRetention } from './workflow-store-steps.suite.js';

export type {
  WorkflowStoreFactory,
  WorkflowStoreFactoryOptions,
} from './workflow-store-fixtures.js';

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

    const suite: WorkflowStoreSuite = {
      make,
      get clock() {
        return clock;
      },
    };
    describeRunsAndLeases(suite);
    describeStepsAndRetention(suite);

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

// Shared pieces of the WorkflowStore conformance suite (workflow-store.suite.ts and the
// workflow-store-*.suite.ts parts it registers): the factory contract, the per-store
// harness the parts receive, and record builders.
import { expect } from 'vitest';
import { isMajraError } from '../../src/core/errors.js';
import type { ManualClock } from '../../src/testing/manual-clock.js';
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

/** What each part of the suite receives from `describeWorkflowStore`. */
export interface WorkflowStoreSuite {
  /** Opens a fresh store on a new clock; the suite closes it after the test. */
  readonly make: (options?: Omit<WorkflowStoreFactoryOptions, 'clock'>) => Promise<WorkflowStore>;
  /** The clock of the store made last. */
  readonly clock: ManualClock;
}

/** The lease every test asks for, ms. */
export const LEASE = 10_000;

/** A new running run of workflow wf-1, with `overrides` applied. */
export function newRun(id: string, overrides: Partial<NewWorkflowRun> = {}): NewWorkflowRun {
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

/** A running first-attempt step record, with `overrides` applied. */
export function step(
  runId: string,
  stepId: string,
  overrides: Partial<StepRecord> = {},
): StepRecord {
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

/** Asserts that `promise` rejects with a MajraError of the given code. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(isMajraError(caught), `expected a MajraError ${code}, got ${String(caught)}`).toBe(true);
  expect((caught as { code: string }).code).toBe(code);
}

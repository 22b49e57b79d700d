// WorkflowStore conformance for the in-memory store.
import { MemoryWorkflowStore } from '../../src/workflow/memory-store.js';
import { describeWorkflowStore } from './workflow-store.suite.js';

describeWorkflowStore('MemoryWorkflowStore', ({ clock, maxRuns, finishedRunTtlMs }) =>
  Promise.resolve(
    new MemoryWorkflowStore({
      clock,
      maxRuns: maxRuns ?? 0,
      ...(finishedRunTtlMs === undefined ? {} : { finishedRunTtlMs }),
    }),
  ),
);

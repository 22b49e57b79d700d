// WorkflowStore conformance for SqliteWorkflowStore, each test on a fresh temp file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteWorkflowStore } from '../../src/backends/sqlite/workflow-store.js';
import { describeWorkflowStore } from './workflow-store.suite.js';

const dir = mkdtempSync(join(tmpdir(), 'majra-wf-conf-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeWorkflowStore('SqliteWorkflowStore', ({ clock, maxRuns, finishedRunTtlMs }) =>
  Promise.resolve(
    SqliteWorkflowStore.open(join(dir, `store-${n++}.db`), {
      clock,
      ...(maxRuns === undefined ? {} : { maxRuns }),
      ...(finishedRunTtlMs === undefined ? {} : { finishedRunTtlMs }),
    }),
  ),
);

// Durable resume across processes on SQLite files (scenarios in test/support/workflow-crash.ts).
import { join } from 'node:path';
import { SqliteWorkflowStore } from '../../src/backends/sqlite/workflow-store.js';
import { workflowCrashSuite } from '../support/workflow-crash.js';

workflowCrashSuite({
  kind: 'sqlite',
  title: 'SQLite',
  target: (name, dir) => join(dir, `${name}.db`),
  open: (file) => Promise.resolve(SqliteWorkflowStore.open(file)),
});

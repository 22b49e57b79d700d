// WorkflowStore conformance for PostgresWorkflowStore: one schema for the file (dropped
// after), emptied before each store the suite asks for.
import pg from 'pg';
import { afterAll } from 'vitest';
import { connectPostgresWorkflowStore } from '../../src/backends/postgres/index.js';
import { databaseUrl, uniqueName } from '../support/services.js';
import { describeWorkflowStore } from './workflow-store.suite.js';

const schema = uniqueName('majra_wfstore');
const admin = new pg.Pool({ connectionString: databaseUrl(), max: 1 });

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

describeWorkflowStore('PostgresWorkflowStore', async ({ clock, maxRuns, finishedRunTtlMs }) => {
  const store = await connectPostgresWorkflowStore({
    connectionString: databaseUrl(),
    schema,
    clock,
    maxPoolSize: 4,
    ...(maxRuns === undefined ? {} : { maxRuns }),
    ...(finishedRunTtlMs === undefined ? {} : { finishedRunTtlMs }),
  });
  await admin.query(`TRUNCATE "${schema}".majra_workflow_runs, "${schema}".majra_workflow_steps`);
  return store;
});

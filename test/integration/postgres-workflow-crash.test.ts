// Durable resume across processes on PostgreSQL (scenarios in test/support/workflow-crash.ts).
import pg from 'pg';
import { connectPostgresWorkflowStore } from '../../src/backends/postgres/index.js';
import { databaseUrl, uniqueName } from '../support/services.js';
import { workflowCrashSuite } from '../support/workflow-crash.js';

const schemas: string[] = [];

workflowCrashSuite({
  kind: 'postgres',
  title: 'PostgreSQL',
  target: (name) => {
    const schema = uniqueName(`majra_wfcrash_${name}`);
    schemas.push(schema);
    return schema;
  },
  open: (schema) =>
    connectPostgresWorkflowStore({ connectionString: databaseUrl(), schema, maxPoolSize: 2 }),
  cleanup: async () => {
    const admin = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  },
});
